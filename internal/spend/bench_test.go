package spend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/benchdata"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// BenchmarkSummary50Clients is the API's summary benchmark without HTTP:
// 50 goroutines each asking for the summary by provider of the 30 days of
// benchdata.Calls (N calls, default 10 M; -short 1 M), all over the same
// range (same) or each from its own hour (distinct), with the closed-day
// cache on and off, reporting latency percentiles and the cache's hit rate.
// Every answer is checked: all calls of its range counted.
func BenchmarkSummary50Clients(b *testing.B) {
	calls := 10_000_000
	if testing.Short() {
		calls = 1_000_000
	}
	const clients, perClient = 50, 40
	s, _ := storetest.Start(b, "spend_bench_summary")
	ctx := context.Background()
	began := time.Now()
	if err := benchdata.Calls(ctx, s, calls); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d calls in %s", calls, time.Since(began))
	from, to := benchdata.Range()
	spacing := benchdata.Spacing(calls)
	run := func(b *testing.B, off bool, shiftOf func(int) time.Duration) {
		svc := New(s, time.UTC, time.Minute)
		svc.days.off = off
		ask := func(shift time.Duration) time.Duration {
			start := time.Now()
			g, err := svc.Summary(ctx, schema.Filter{Scope: schema.Scope{Tenant: schema.DefaultTenant}, From: from.Add(shift), To: to}, "provider")
			took := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			n := uint64(0)
			for _, c := range g {
				n += c.Calls
			}
			if want := uint64(calls) - uint64((shift+spacing-1)/spacing); n != want {
				b.Fatalf("from +%s: %d calls, want %d", shift, n, want)
			}
			return took
		}
		ask(shiftOf(0))
		b.ResetTimer()
		for range b.N {
			var mu sync.Mutex
			var lat []time.Duration
			var wg sync.WaitGroup
			began := time.Now()
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range perClient {
						took := ask(shiftOf(i))
						mu.Lock()
						lat = append(lat, took)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(len(lat))/time.Since(began).Seconds(), "req/s")
		}
		if st := svc.CacheStats(); st.Hits+st.Misses > 0 {
			b.ReportMetric(float64(st.Hits)/float64(st.Hits+st.Misses)*100, "hit-%")
		}
	}
	for _, off := range []bool{true, false} {
		name := map[bool]string{true: "nocache", false: "cache"}[off]
		b.Run("same-"+name, func(b *testing.B) { run(b, off, func(int) time.Duration { return 0 }) })
		b.Run("distinct-"+name, func(b *testing.B) {
			run(b, off, func(i int) time.Duration { return time.Duration(i) * time.Hour })
		})
	}
}

// BenchmarkCustomerSummary50Clients is the API's per-customer benchmark
// without HTTP: N calls (default 10 M; -short 1 M) of 100,000 customers,
// 50 goroutines each asking for a random customer's last 30 days (from
// now−30d to now), with the closed-day cache off, on and cold (every
// customer asked for the first time), and on and warm (the same customers
// asked again), reporting percentiles and the hit rate.
func BenchmarkCustomerSummary50Clients(b *testing.B) {
	calls, customers := 10_000_000, 100_000
	if testing.Short() {
		calls = 1_000_000
	}
	const clients, perClient = 50, 40
	s, _ := storetest.Start(b, "spend_bench_customers")
	ctx := context.Background()
	began := time.Now()
	if err := benchdata.CustomerCalls(ctx, s, calls, customers); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d calls in %s", calls, time.Since(began))
	to := time.Now().UTC()
	from := to.Add(-30 * 24 * time.Hour)
	pass := func(b *testing.B, svc *Service, seed uint64) {
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		began := time.Now()
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(i), seed))
				for range perClient {
					c := fmt.Sprintf("cust-%d", r.IntN(customers))
					start := time.Now()
					_, err := svc.Summary(ctx, schema.Filter{Scope: schema.Scope{Tenant: schema.DefaultTenant, Customer: c}, From: from, To: to}, "provider")
					took := time.Since(start)
					if err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					lat = append(lat, took)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		slices.Sort(lat)
		pct := func(p float64) float64 {
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.95), "p95-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(float64(len(lat))/time.Since(began).Seconds(), "req/s")
	}
	b.Run("nocache", func(b *testing.B) {
		svc := New(s, time.UTC, time.Minute)
		svc.days.off = true
		for range b.N {
			pass(b, svc, 7)
		}
	})
	b.Run("cache-cold", func(b *testing.B) {
		for n := range b.N {
			svc := New(s, time.UTC, time.Minute)
			pass(b, svc, uint64(100+n))
		}
	})
	b.Run("cache-warm", func(b *testing.B) {
		svc := New(s, time.UTC, time.Minute)
		pass(b, svc, 7)
		before := svc.CacheStats()
		b.ResetTimer()
		for range b.N {
			pass(b, svc, 7)
		}
		st := svc.CacheStats()
		b.ReportMetric(float64(st.Hits-before.Hits)/float64(st.Hits-before.Hits+st.Misses-before.Misses)*100, "hit-%")
	})
}

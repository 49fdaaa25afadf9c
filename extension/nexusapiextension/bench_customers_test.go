package nexusapiextension

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/benchdata"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/spend"
	"github.com/nexus-otel/nexus/internal/store"
)

// BenchmarkCustomerSummary50Clients stores 10 million attributed calls over
// 30 days for 100,000 customers (Zipf-like: a few make most calls), then
// has 50 concurrent clients ask GET /api/v1/costs/summary for a random
// customer's last 30 days (from now-30d to now: partial days at both
// ends) over real HTTP, and reports the latency percentiles and the
// throughput. The same reads answered from raw calls alone are the
// baseline; the top-N customers by spend over the 30 days is a figure of
// its own. Answers are checked against the raw calls first.
func BenchmarkCustomerSummary50Clients(b *testing.B) {
	const calls, customers, clients, perClient = 10_000_000, 100_000, 50, 40
	ta := startAPI(b, "bench_api_customers", func(c *Config) {
		c.RateLimit.RequestsPerSecond, c.RateLimit.Burst = 1e6, 1e6
		c.Reads.MaxPerKey, c.Reads.MaxConcurrent = benchReads, benchReads
		c.Reads.MaxWait = time.Minute
	})
	ctx := context.Background()
	began := time.Now()
	if err := benchdata.CustomerCalls(ctx, ta.store, calls, customers); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d calls of %d customers in %s", calls, customers, time.Since(began))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	to := time.Now().UTC()
	from := to.Add(-30 * 24 * time.Hour)

	// days is the same month with its start on a UTC midnight: the month's
	// whole days and today's hours come from the customer's rollups, only
	// the current partial hour from raw calls.
	days := to.Truncate(24 * time.Hour).Add(-30 * 24 * time.Hour)
	summaryFrom := func(b *testing.B, customer string, from time.Time) (decimal.Decimal, uint64) {
		q := url.Values{"customer": {customer}, "from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}}
		req, _ := http.NewRequest("GET", ta.base+"/api/v1/costs/summary?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+ta.admin)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Data []spend.CostGroup `json:"data"`
		}
		if err != nil || resp.StatusCode != 200 || json.Unmarshal(raw, &e) != nil {
			b.Fatalf("HTTP %d: %s %v", resp.StatusCode, raw, err)
		}
		total, n := decimal.Zero, uint64(0)
		for _, g := range e.Data {
			total = total.Add(decimal.RequireFromString(g.Cost))
			n += g.Calls
		}
		return total, n
	}
	summary := func(b *testing.B, customer string) (decimal.Decimal, uint64) { return summaryFrom(b, customer, from) }
	rawSummary := func(customer string) (decimal.Decimal, uint64, error) {
		rows, err := ta.store.Query(ctx, "SELECT provider, sum(ifNull(cost_usd, toDecimal64(0, 12))), count() FROM "+
			schema.Table(ta.store, schema.TableCalls)+" WHERE tenant = {tenant:String} AND customer = {customer:String}"+
			" AND timestamp >= {from:DateTime64(9, 'UTC')} AND timestamp < {to:DateTime64(9, 'UTC')} GROUP BY provider",
			store.Params{"tenant": schema.DefaultTenant, "customer": customer,
				"from": from.Format("2006-01-02 15:04:05.000000000"), "to": to.Format("2006-01-02 15:04:05.000000000")})
		if err != nil {
			return decimal.Zero, 0, err
		}
		defer rows.Close()
		total, n := decimal.Zero, uint64(0)
		for rows.Next() {
			var p string
			var c decimal.Decimal
			var k uint64
			if err := rows.Scan(&p, &c, &k); err != nil {
				return decimal.Zero, 0, err
			}
			total, n = total.Add(c), n+k
		}
		return total, n, rows.Err()
	}
	// The planner's answer (customer rollup + raw edges) is the raw calls'.
	for _, c := range []string{"cust-0", "cust-1", "cust-77", "cust-4242", "cust-99999"} {
		got, gotN := summary(b, c)
		want, wantN, err := rawSummary(c)
		if err != nil {
			b.Fatal(err)
		}
		if !got.Equal(want) || gotN != wantN {
			b.Fatalf("%s: API %s USD in %d calls, raw calls %s in %d", c, got, gotN, want, wantN)
		}
		b.Logf("%s: %d calls, %s USD", c, gotN, got)
	}

	customer := func(r *rand.Rand) string { return fmt.Sprintf("cust-%d", r.IntN(customers)) }
	// load runs the clients, each asking perClient times, and reports the
	// latencies of all requests and their rate.
	load := func(b *testing.B, ask func(string) error) {
		b.ResetTimer()
		cached := ta.api.spend.CacheStats()
		for range b.N {
			stopProfile := profileWindow(b, b.Name())
			rngs := make([]*rand.Rand, clients)
			for i := range rngs {
				rngs[i] = rand.New(rand.NewPCG(uint64(i), 7))
			}
			start := time.Now()
			lat := runClients(b, clients, perClient, func(i int) error { return ask(customer(rngs[i])) })
			stopProfile()
			reportLatencies(b, lat, time.Since(start))
		}
		// Closed days answered from memory (internal/spend cache.go).
		if st := ta.api.spend.CacheStats(); st.Hits+st.Misses > cached.Hits+cached.Misses {
			b.ReportMetric(float64(st.Hits-cached.Hits)/float64(st.Hits+st.Misses-cached.Hits-cached.Misses)*100, "hit-%")
		}
	}
	b.Run("rollup", func(b *testing.B) {
		load(b, func(c string) error { summary(b, c); return nil })
	})
	b.Run("rollup-days", func(b *testing.B) {
		load(b, func(c string) error { summaryFrom(b, c, days); return nil })
	})
	// Baseline: the same question answered from raw calls only, straight
	// from the store (no HTTP): what a read without the customer rollup
	// costs.
	b.Run("raw-baseline", func(b *testing.B) {
		load(b, func(c string) error { _, _, err := rawSummary(c); return err })
	})
	// The 30 days' top 10 customers by spend, one client.
	b.Run("top10", func(b *testing.B) {
		q := url.Values{"groupBy": {"customer"}, "top": {"10"}, "metrics": {"cost,calls"},
			"from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}}
		var lat []time.Duration
		start := time.Now()
		for range b.N {
			t0 := time.Now()
			req, _ := http.NewRequest("GET", ta.base+"/api/v1/metrics?"+q.Encode(), nil)
			req.Header.Set("Authorization", "Bearer "+ta.admin)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e struct {
				Data struct {
					Rows []struct {
						Group map[string]string `json:"group"`
					} `json:"rows"`
				} `json:"data"`
			}
			if resp.StatusCode != 200 || json.Unmarshal(raw, &e) != nil || len(e.Data.Rows) != 10 || e.Data.Rows[0].Group["customer"] != "cust-0" {
				b.Fatalf("top 10: HTTP %d %s", resp.StatusCode, raw)
			}
			lat = append(lat, time.Since(t0))
		}
		reportLatencies(b, lat, time.Since(start))
	})
}

// benchReads is the API's read budget in the customer benchmark
// (reads.max_concurrent and max_per_key): see the README's performance
// section for how it was chosen.
const benchReads = 50

// profileWindow profiles the process's CPU from now until the returned
// func is called, when NEXUS_BENCH_CPUPROFILE names a file prefix (the
// seeding before a load would swamp a whole-run -cpuprofile), and reports
// the process's CPU use over the window as a share of the machine's cores.
func profileWindow(b *testing.B, name string) func() {
	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	began := time.Now()
	var f *os.File
	if prefix := os.Getenv("NEXUS_BENCH_CPUPROFILE"); prefix != "" {
		var err error
		if f, err = os.Create(prefix + strings.ReplaceAll(name, "/", "_") + ".cpu"); err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
	}
	return func() {
		if f != nil {
			pprof.StopCPUProfile()
			_ = f.Close()
		}
		var after syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
		cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
		b.ReportMetric(float64(cpu)/float64(time.Since(began))/float64(runtime.NumCPU())*100, "cpu-%")
	}
}

// runClients runs clients goroutines, each calling one perClient times
// with its index, and returns every call's latency (the calls that
// failed are reported and end their client).
func runClients(b *testing.B, clients, perClient int, one func(client int) error) []time.Duration {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perClient {
				t0 := time.Now()
				if err := one(i); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat
}

func reportLatencies(b *testing.B, lat []time.Duration, took time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/took.Seconds(), "req/s")
}

package nexusapiextension

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/benchdata"

	"github.com/nexus-otel/nexus/internal/spend"
)

// BenchmarkCostSummary50Clients asks GET /api/v1/costs/summary for the last
// 30 days with 10 million calls stored, from 50 concurrent clients over
// real HTTP, and reports the latency percentiles of all requests. Every
// answer is checked: all calls counted, the exact total.
func BenchmarkCostSummary50Clients(b *testing.B) {
	const calls, clients, perClient = 10_000_000, 50, 40
	ta := startAPI(b, "bench_api_summary", func(c *Config) {
		c.RateLimit.RequestsPerSecond, c.RateLimit.Burst = 1e6, 1e6
		// The fifty clients share the admin key, and the figures compare
		// with runs from before the read budget: it is opened to all of
		// them.
		c.Reads.MaxPerKey, c.Reads.MaxConcurrent = clients, clients
		c.Reads.MaxWait = time.Minute
	})
	ctx := context.Background()
	began := time.Now()
	if err := benchdata.Calls(ctx, ta.store, calls); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d calls in %s", calls, time.Since(began))
	from, to := benchdata.Range()
	spacing := benchdata.Spacing(calls)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	// ask asks for the summary from from+shift and checks the answer: all
	// calls of the range counted and, for the whole range, the exact total.
	ask := func(b *testing.B, shift time.Duration) time.Duration {
		url := ta.base + "/api/v1/costs/summary?groupBy=provider&from=" + from.Add(shift).Format(time.RFC3339) + "&to=" + to.Format(time.RFC3339)
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+ta.admin)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
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
		// Call i is at i × spacing: the range from shift holds the calls
		// from ceil(shift / spacing) on.
		skipped := uint64((shift + spacing - 1) / spacing)
		if n != calls-skipped || (shift == 0 && !total.Equal(benchdata.Total(calls))) {
			b.Fatalf("summary from +%s counted %d calls, %s USD; want %d calls", shift, n, total, calls-skipped)
		}
		return took
	}
	// load runs the clients, client i asking from shiftOf(i).
	load := func(b *testing.B, shiftOf func(i int) time.Duration) {
		ask(b, shiftOf(0)) // warm the engine's caches once
		b.ResetTimer()
		cached := ta.api.spend.CacheStats()
		for range b.N {
			lat := runClients(b, clients, perClient, func(i int) error { ask(b, shiftOf(i)); return nil })
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		}
		// Closed days answered from memory (internal/spend cache.go).
		if st := ta.api.spend.CacheStats(); st.Hits+st.Misses > cached.Hits+cached.Misses {
			b.ReportMetric(float64(st.Hits-cached.Hits)/float64(st.Hits+st.Misses-cached.Hits-cached.Misses)*100, "hit-%")
		}
	}
	// Fifty clients asking the same question: a shared dashboard.
	b.Run("same", func(b *testing.B) { load(b, func(int) time.Duration { return 0 }) })
	// Fifty clients each asking over a different range (from shifted by
	// i hours): nothing to share, every request is its own query.
	b.Run("distinct", func(b *testing.B) { load(b, func(i int) time.Duration { return time.Duration(i) * time.Hour }) })
	// Two floors, same run, same fifty clients: one HTTP round trip to the
	// API that asks nothing (GET /healthz), and one statement through the
	// store's read connections that reads nothing (SELECT 1, no HTTP).
	// What the shared question costs beyond them is Nexus's.
	floor := func(b *testing.B, one func() error) {
		for range b.N {
			lat := runClients(b, clients, perClient, func(int) error { return one() })
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2])/float64(time.Millisecond), "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100])/float64(time.Millisecond), "p95-ms")
		}
	}
	b.Run("floor-http", func(b *testing.B) {
		floor(b, func() error {
			resp, err := client.Get(ta.base + "/healthz")
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("healthz: HTTP %d", resp.StatusCode)
			}
			return nil
		})
	})
	b.Run("floor-engine", func(b *testing.B) {
		floor(b, func() error {
			rows, err := ta.store.Query(ctx, "SELECT 1", nil)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			return rows.Close()
		})
	})
}

package chstoreextension

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/benchdata"
	"github.com/nexus-otel/nexus/internal/store"
)

const benchCalls = 10_000_000

// BenchmarkCostSummary30Days answers "spend by provider over the last 30
// days" from the day rollup with 10 million calls stored, the question the
// API and the Overview dashboard ask most. The calls are generated inside
// the engine (INSERT … SELECT FROM numbers) so that seeding takes seconds;
// they pass through the same materialized views as exported rows.
func BenchmarkCostSummary30Days(b *testing.B) {
	_, s := startEmbedded(b, "bench_summary", nil)
	ctx := context.Background()
	// The testing package calls a benchmark more than once; seed once.
	if n := benchScalar(b, s, "SELECT count() FROM bench_summary.api_calls"); n != benchCalls {
		began := time.Now()
		if err := benchdata.Calls(ctx, s, benchCalls); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d calls in %s", benchCalls, time.Since(began))
	}
	want := benchdata.Total(benchCalls)
	const q = `SELECT provider, sum(cost_usd) AS cost, sum(calls) AS calls
		FROM bench_summary.api_calls_1d
		WHERE ts >= {from:DateTime('UTC')} AND ts < {to:DateTime('UTC')}
		GROUP BY provider ORDER BY cost DESC`
	from, to := benchdata.Range()
	params := store.Params{"from": from.Format(time.DateTime), "to": to.Format(time.DateTime)}
	b.ResetTimer()
	for range b.N {
		rows, err := s.Query(ctx, q, params)
		if err != nil {
			b.Fatal(err)
		}
		total := decimal.Zero
		var n uint64
		for rows.Next() {
			var p string
			var cost decimal.Decimal
			var c uint64
			if err := rows.Scan(&p, &cost, &c); err != nil {
				b.Fatal(err)
			}
			total = total.Add(cost)
			n += c
		}
		rows.Close()
		if n != benchCalls || !total.Equal(want) {
			b.Fatalf("summary over %d calls = %s USD, want %d calls, %s USD", n, total, benchCalls, want)
		}
	}
}

func benchScalar(b *testing.B, s store.Store, q string) uint64 {
	rows, err := s.Query(context.Background(), q, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var n uint64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

package chstoreextension

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

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
		seedCalls(b, s)
	}
	// The expected total follows from the generator: every block of 1000
	// consecutive calls costs sum(0..999) µUSD = 0.4995 USD.
	want := decimal.RequireFromString("0.4995").Mul(decimal.NewFromInt(benchCalls / 1000))
	const q = `SELECT provider, sum(cost_usd) AS cost, sum(calls) AS calls
		FROM bench_summary.api_calls_1d
		WHERE ts >= {from:DateTime('UTC')} AND ts < {to:DateTime('UTC')}
		GROUP BY provider ORDER BY cost DESC`
	params := store.Params{"from": "2026-10-01 00:00:00", "to": "2026-10-31 00:00:00"}
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

// seedCalls stores 10M calls spread evenly over 30 days from 2026-10-01:
// five providers, four models, twenty services, cost_usd = (n % 1000) µUSD.
func seedCalls(b *testing.B, s store.Store) {
	began := time.Now()
	err := s.Exec(context.Background(), `INSERT INTO bench_summary.api_calls
		(timestamp, duration_ns, service, environment, provider, operation, model, status,
		 input_tokens, output_tokens, cost_usd, cost_status)
		SELECT toDateTime64('2026-10-01 00:00:00', 9, 'UTC') + toIntervalMillisecond(number * 259),
		       200000000 + (number % 400) * 1000000,
		       concat('svc-', toString(number % 20)), 'prod',
		       ['openai', 'openrouter', 'exa', 'twilio', 'apollo'][number % 5 + 1], 'chat',
		       ['gpt-4o', 'gpt-4o-mini', 'o3-mini', 'gpt-4.1'][number % 4 + 1],
		       if(number % 50 = 0, 'error', 'ok'),
		       500 + number % 1000, 50 + number % 200,
		       toDecimal64(number % 1000, 12) / 1000000, 'computed'
		FROM numbers({n:UInt64})`, store.Params{"n": "10000000"})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d calls in %s", benchCalls, time.Since(began))
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

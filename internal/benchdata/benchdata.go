// Package benchdata generates large, known call histories inside the store
// for benchmarks: INSERT … SELECT FROM numbers() stores ten million calls in
// seconds, through the same materialized views as exported rows.
package benchdata

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/store"
)

// Days is the length of the generated history.
const Days = 30

// Range is the generated history: Days whole UTC days ending yesterday, so
// that it always lies inside every table's retention.
func Range() (from, to time.Time) {
	to = time.Now().UTC().Truncate(24 * time.Hour)
	return to.AddDate(0, 0, -Days), to
}

// Calls stores n calls spread evenly over Range: five
// providers, four models, twenty services, one call in fifty an error, and
// call i costing (i % 1000) µUSD.
func Calls(ctx context.Context, s store.Store, n int) error {
	start, _ := Range()
	spacing := int64(Spacing(n) / time.Millisecond)
	err := s.Exec(ctx, `INSERT INTO `+s.Database()+`.api_calls
		(timestamp, duration_ns, service, environment, provider, operation, model, status,
		 input_tokens, output_tokens, cost_usd, cost_status)
		SELECT toDateTime64({start:String}, 9, 'UTC') + toIntervalMillisecond(number * {spacing:UInt64}),
		       200000000 + (number % 400) * 1000000,
		       concat('svc-', toString(number % 20)), 'prod',
		       ['openai', 'openrouter', 'exa', 'twilio', 'apollo'][number % 5 + 1], 'chat',
		       ['gpt-4o', 'gpt-4o-mini', 'o3-mini', 'gpt-4.1'][number % 4 + 1],
		       if(number % 50 = 0, 'error', 'ok'),
		       500 + number % 1000, 50 + number % 200,
		       toDecimal64(number % 1000, 12) / 1000000, 'computed'
		FROM numbers({n:UInt64})`,
		store.Params{"start": start.Format("2006-01-02 15:04:05"), "spacing": strconv.FormatInt(spacing, 10), "n": strconv.Itoa(n)})
	if err != nil {
		return fmt.Errorf("generate %d calls: %w", n, err)
	}
	return nil
}

// Spacing is the time between two of n generated calls (whole
// milliseconds): call i is at the start of Range plus i × Spacing(n).
func Spacing(n int) time.Duration {
	return (Days * 24 * time.Hour / time.Duration(n)).Truncate(time.Millisecond)
}

// Total is the exact cost of the n generated calls, n a multiple of 1000:
// every block of 1000 consecutive calls costs sum(0..999) µUSD = 0.4995 USD.
func Total(n int) decimal.Decimal {
	return decimal.RequireFromString("0.4995").Mul(decimal.NewFromInt(int64(n / 1000)))
}

// CustomerCalls stores n calls like Calls, attributed: customer i of
// customers ("cust-<i>", 0 the busiest) is drawn from a Zipf-like
// (log-uniform) law, so a few customers make most calls and most make a
// handful; users, teams, features and an env tag vary too. The draws are
// hashes of the call's number: the same n gives the same history.
func CustomerCalls(ctx context.Context, s store.Store, n, customers int) error {
	start, _ := Range()
	spacing := int64(Spacing(n) / time.Millisecond)
	err := s.Exec(ctx, `INSERT INTO `+s.Database()+`.api_calls
		(timestamp, duration_ns, service, environment, provider, operation, model, status,
		 input_tokens, output_tokens, cost_usd, cost_status, customer, user, team, feature, tags)
		SELECT toDateTime64({start:String}, 9, 'UTC') + toIntervalMillisecond(number * {spacing:UInt64}),
		       200000000 + (number % 400) * 1000000,
		       concat('svc-', toString(number % 20)), 'prod',
		       ['openai', 'openrouter', 'exa', 'twilio', 'apollo'][number % 5 + 1], 'chat',
		       ['gpt-4o', 'gpt-4o-mini', 'o3-mini', 'gpt-4.1'][number % 4 + 1],
		       if(number % 50 = 0, 'error', 'ok'),
		       500 + number % 1000, 50 + number % 200,
		       toDecimal64(number % 1000, 12) / 1000000, 'computed',
		       concat('cust-', toString(least(toUInt64(floor(exp(log({customers:UInt64} + 1) * (cityHash64(number) % 1000000) / 1000000))) - 1, {customers:UInt64} - 1))),
		       concat('user-', toString(cityHash64(number, 1) % ({customers:UInt64} * 3))),
		       ['search', 'billing', 'growth', 'support'][number % 4 + 1],
		       ['answer', 'summary', 'lookup'][number % 3 + 1],
		       map('env', if(number % 10 = 0, 'staging', 'prod'))
		FROM numbers({n:UInt64})`,
		store.Params{"start": start.Format("2006-01-02 15:04:05"), "spacing": strconv.FormatInt(spacing, 10),
			"n": strconv.Itoa(n), "customers": strconv.Itoa(customers)})
	if err != nil {
		return fmt.Errorf("generate %d attributed calls: %w", n, err)
	}
	return nil
}

package spend

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/pricebook"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// rawSummary is the truth a summary by provider must equal: the raw calls
// of tenant in [from, to), summed by the engine in one read.
func rawSummary(t *testing.T, s store.Store, tenant string, from, to time.Time) string {
	t.Helper()
	return rawSummaryOf(t, s, schema.Scope{Tenant: tenant}, from, to)
}

// rawSummaryOf is rawSummary of a tenant's customer (scope.Customer "":
// every call).
func rawSummaryOf(t *testing.T, s store.Store, scope schema.Scope, from, to time.Time) string {
	t.Helper()
	tenant := scope.Tenant
	rows, err := s.Query(t.Context(), "SELECT provider, toString(sum(ifNull(cost_usd, toDecimal64(0, 12)))), count(), countIf(cost_status = 'unpriced') FROM "+
		schema.Table(s, schema.TableCalls)+" WHERE tenant = {tenant:String} AND timestamp >= {from:DateTime64(9, 'UTC')} AND timestamp < {to:DateTime64(9, 'UTC')}"+
		" AND ({customer:String} = '' OR customer = {customer:String}) GROUP BY provider ORDER BY provider",
		store.Params{"tenant": tenant, "customer": scope.Customer,
			"from": from.UTC().Format("2006-01-02 15:04:05.000000000"), "to": to.UTC().Format("2006-01-02 15:04:05.000000000")})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p, cost string
		var n, unpriced uint64
		if err := rows.Scan(&p, &cost, &n, &unpriced); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%s/%d/%d", p, strings.TrimRight(strings.TrimRight(cost, "0"), "."), n, unpriced))
	}
	return strings.Join(out, " ")
}

func summaryText(t *testing.T, svc *Service, tenant string, from, to time.Time) string {
	t.Helper()
	return summaryOf(t, svc, schema.Scope{Tenant: tenant}, from, to)
}

func summaryOf(t *testing.T, svc *Service, scope schema.Scope, from, to time.Time) string {
	t.Helper()
	g, err := svc.Summary(t.Context(), schema.Filter{Scope: scope, From: from, To: to}, "provider")
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(g, func(i, j int) bool { return g[i].Group < g[j].Group })
	var out []string
	for _, c := range g {
		cost := c.Cost
		if cost == "0" {
			cost = ""
		}
		out = append(out, fmt.Sprintf("%s:%s/%d/%d", c.Group, cost, c.Calls, c.Unpriced))
	}
	return strings.Join(out, " ")
}

// Closed days are answered from memory once read, and the answers stay
// those of the raw calls for ranges starting anywhere (whole days, hours,
// minutes, seconds); a late call on a closed day is in the next answer.
func TestClosedDaysCachedExactAndLateData(t *testing.T) {
	s, _ := storetest.Start(t, "spend_cache_late")
	svc := New(s, time.UTC, 10*time.Second)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var calls []storetest.Call
	for i := range 120 {
		calls = append(calls, storetest.Call{At: today.Add(-6 * 24 * time.Hour).Add(time.Duration(i) * 73 * time.Minute),
			Provider: []string{"openai", "exa", "twilio"}[i%3], Model: "m", Cost: fmt.Sprintf("0.%03d000000001", i+1)})
	}
	storetest.SeedCalls(t, s, calls...)
	to := time.Now().UTC()
	starts := []time.Time{today.AddDate(0, 0, -6), today.AddDate(0, 0, -5).Add(7 * time.Hour), today.AddDate(0, 0, -5).Add(7*time.Hour + 13*time.Minute),
		today.AddDate(0, 0, -4).Add(3*time.Hour + 5*time.Minute + 7*time.Second), today.AddDate(0, 0, -1).Add(23 * time.Hour)}
	for round := range 2 {
		for _, from := range starts {
			if got, want := summaryText(t, svc, schema.DefaultTenant, from, to), rawSummary(t, s, schema.DefaultTenant, from, to); got != want {
				t.Fatalf("round %d from %s: %s, raw calls %s", round, from, got, want)
			}
		}
	}
	kept := map[time.Time]string{}
	for _, from := range starts {
		kept[from] = summaryText(t, svc, schema.DefaultTenant, from, to)
	}
	st := svc.CacheStats()
	if st.Hits == 0 || st.Misses == 0 || st.Rows == 0 {
		t.Fatalf("second round not from memory: %+v", st)
	}
	// Late data: a call stored now, four days back.
	storetest.SeedCalls(t, s, storetest.Call{At: today.AddDate(0, 0, -4).Add(5 * time.Hour), Provider: "exa", Model: "m", Cost: "7.000000000003"})
	// Stored by "another process": seen once the last fingerprint read is
	// printFresh old, and not later.
	time.Sleep(printFresh)
	for _, from := range starts[:4] {
		if got, want := summaryText(t, svc, schema.DefaultTenant, from, to), rawSummary(t, s, schema.DefaultTenant, from, to); got != want || got == kept[from] {
			t.Fatalf("after a late call, from %s: %s, raw calls %s", from, got, want)
		}
	}
}

// A re-price of calls on a closed day moves the next summary by exactly
// what it moved, though the day was read (and kept) before.
func TestClosedDaysRepriced(t *testing.T) {
	s, _ := storetest.Start(t, "spend_cache_reprice")
	ctx := context.Background()
	svc := New(s, time.UTC, 10*time.Second)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	at := today.AddDate(0, 0, -2).Add(10 * time.Hour)
	var calls []storetest.Call
	for i := range 3 {
		calls = append(calls, storetest.Call{At: at.Add(time.Duration(i) * time.Minute), Provider: "openai", Model: "acme-llm-1",
			Input: 1000 + uint64(i), Output: 500, Tenant: "acme", Customer: fmt.Sprintf("c%d", i)})
	}
	calls = append(calls, storetest.Call{At: at, Provider: "exa", Model: "search", Cost: "0.005", Tenant: "acme"})
	storetest.SeedCalls(t, s, calls...)
	from, to := today.AddDate(0, 0, -3), time.Now().UTC()
	c1 := schema.Scope{Tenant: "acme", Customer: "c1"}
	// Twice: the second from memory (checked below by the hit count).
	c1Before := summaryOf(t, svc, c1, from.Add(90*time.Minute), to)
	if c1Before != summaryOf(t, svc, c1, from.Add(90*time.Minute), to) || c1Before != rawSummaryOf(t, s, c1, from.Add(90*time.Minute), to) {
		t.Fatalf("c1 before: %s, raw %s", c1Before, rawSummaryOf(t, s, c1, from.Add(90*time.Minute), to))
	}
	before := summaryText(t, svc, "acme", from, to)
	if want := rawSummary(t, s, "acme", from, to); before != want || !strings.Contains(before, "openai:/3/3") {
		t.Fatalf("before: %s, raw %s", before, want)
	}
	base, err := pricing.Default()
	if err != nil {
		t.Fatal(err)
	}
	w := pricebook.NewWatcher(base, s, nil)
	if _, err := pricebook.Add(ctx, s, w.Catalog("acme"), "acme", "usr_1", pricebook.AddRequest{Entry: pricing.Entry{Provider: "openai",
		Model: "acme-llm-1", Effective: "2026-01-01", Prices: map[string]string{"input_tokens": "1.000000000001", "output_tokens": "2"}}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := pricebook.Reprice(ctx, s, w.Catalog("acme"), "acme", pricebook.RepriceRequest{From: from, To: to, Provider: "openai"})
	if err != nil || res.Repriced != 3 {
		t.Fatalf("reprice: %+v %v", res, err)
	}
	svc.Forget("acme") // what the API does once a re-price is answered
	after := summaryText(t, svc, "acme", from, to)
	if want := rawSummary(t, s, "acme", from, to); after != want || after == before || !strings.Contains(after, "/3/0") {
		t.Fatalf("after re-pricing: %s, raw %s (before %s)", after, want, before)
	}
	// The customer's closed days were kept as one entry: the re-price
	// reaches it too.
	c1After := summaryOf(t, svc, c1, from.Add(90*time.Minute), to)
	if want := rawSummaryOf(t, s, c1, from.Add(90*time.Minute), to); c1After != want || c1After == c1Before {
		t.Fatalf("c1 after re-pricing: %s, raw %s (before %s)", c1After, want, c1Before)
	}
	if st := svc.CacheStats(); st.Hits == 0 {
		t.Fatalf("nothing answered from memory: %+v", st)
	}
}

func TestClosedDaysCacheBounded(t *testing.T) {
	s, _ := storetest.Start(t, "spend_cache_bounded")
	svc := New(s, time.UTC, 10*time.Second)
	svc.days.limit = 40
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var calls []storetest.Call
	for i := range 200 {
		calls = append(calls, storetest.Call{At: today.AddDate(0, 0, -10).Add(time.Duration(i) * 71 * time.Minute),
			Provider: fmt.Sprintf("p%d", i%7), Model: "m", Service: fmt.Sprintf("svc%d", i%5), Cost: fmt.Sprintf("0.%03d", i+1)})
	}
	storetest.SeedCalls(t, s, calls...)
	to := time.Now().UTC()
	for i := range 30 {
		from := today.AddDate(0, 0, -10).Add(time.Duration(i*5) * time.Hour)
		if got, want := summaryText(t, svc, schema.DefaultTenant, from, to), rawSummary(t, s, schema.DefaultTenant, from, to); got != want {
			t.Fatalf("from %s: %s, raw %s", from, got, want)
		}
		for _, svcName := range []string{"svc1", "svc3"} {
			if _, err := svc.Summary(t.Context(), schema.Filter{Scope: schema.Scope{Tenant: schema.DefaultTenant, Service: svcName}, From: from, To: to}, "model"); err != nil {
				t.Fatal(err)
			}
		}
		if st := svc.CacheStats(); st.Rows > 40 {
			t.Fatalf("cache holds %d rows, limit 40", st.Rows)
		}
	}
	if st := svc.CacheStats(); st.Rows == 0 || st.Hits == 0 {
		t.Fatalf("nothing kept: %+v", st)
	}
}

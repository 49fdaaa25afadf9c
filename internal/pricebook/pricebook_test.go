package pricebook

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func base(t *testing.T) *pricing.Catalog {
	t.Helper()
	c, err := pricing.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fieldsOf returns the fields an Invalid error names.
func fieldsOf(t *testing.T, err error) string {
	t.Helper()
	var inv *domainerr.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("not an invalid-input error: %v", err)
	}
	var out []string
	for _, f := range inv.Fields {
		out = append(out, f.Field)
	}
	return strings.Join(out, ",")
}

// A list added for one tenant prices that tenant's next call, with a
// version naming it; another tenant keeps the catalog it had. Bad lists
// are refused field by field, and a list that would change a price in
// effect needs force.
func TestAddAndWatch(t *testing.T) {
	s, _ := storetest.Start(t, "pricebook_add")
	ctx := context.Background()
	w := NewWatcher(base(t), s, nil)
	if err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	u := pricing.Usage{}
	u[pricing.InputTokens], u[pricing.OutputTokens] = 1000, 500
	if r := w.Catalog("acme").Price("openai", "acme-llm-1", "", "", now, &u); r.Status != pricing.Unpriced {
		t.Fatalf("priced before the list: %+v", r)
	}
	l, err := Add(ctx, s, w.Catalog("acme"), "acme", "usr_1", AddRequest{Entry: pricing.Entry{Provider: "OpenAI", Model: "ACME-LLM-1",
		Effective: "2026-01-01", Prices: map[string]string{"input_tokens": "1.00", "output_tokens": "2.000000000001"}}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if l.Model != "acme-llm-1" || l.Source != SourceTenant || l.AddedBy != "usr_1" {
		t.Fatalf("stored %+v", l)
	}
	if err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	r := w.Catalog("acme").Price("openai", "acme-llm-1", "", "", now, &u)
	if r.Status != pricing.Computed || r.Cost.Decimal().String() != "0.002" {
		t.Fatalf("acme's call: %+v (%s)", r, r.Cost)
	}
	if v := w.Catalog("acme").Version(); !strings.Contains(v, "+rt.") || v == w.Catalog("globex").Version() {
		t.Fatalf("versions acme %q globex %q", v, w.Catalog("globex").Version())
	}
	if r := w.Catalog("globex").Price("openai", "acme-llm-1", "", "", now, &u); r.Status != pricing.Unpriced {
		t.Fatalf("another tenant priced by acme's list: %+v", r)
	}
	found := false
	for _, l := range w.Lists("acme") {
		if l.Model == "acme-llm-1" && l.Source == SourceTenant {
			found = true
		}
		if l.Model == "gpt-4o-mini" && l.Source != SourceBuiltin {
			t.Errorf("gpt-4o-mini listed as %s", l.Source)
		}
	}
	if !found {
		t.Fatal("acme's list not listed")
	}
	for _, l := range w.Lists("globex") {
		if l.Model == "acme-llm-1" {
			t.Fatal("acme's list listed for globex")
		}
	}

	bad := []struct {
		e      pricing.Entry
		fields string
	}{
		{pricing.Entry{Provider: "openai", Model: "x", Effective: "2027-01-01", Prices: map[string]string{"input_tokens": "-1"}}, "prices.input_tokens"},
		{pricing.Entry{Provider: "openai", Model: "x", Effective: "2027-01-01", Prices: map[string]string{"input_tokens": "0.0000000000001"}}, "prices.input_tokens"},
		{pricing.Entry{Provider: "openai", Model: "x", Effective: "2027-01-01", Prices: map[string]string{"furlongs": "1"}}, "prices.furlongs"},
		{pricing.Entry{Provider: "openai", Model: "x", Effective: "next week", Prices: map[string]string{"input_tokens": "1"}}, "effective"},
		{pricing.Entry{Provider: "nope", Model: "x", Effective: "2027-01-01", Prices: map[string]string{"input_tokens": "1"}}, "provider"},
		{pricing.Entry{Provider: "exa", Model: "x", Effective: "2027-01-01", Prices: map[string]string{"request": "1"}}, "model,operation"},
	}
	for _, b := range bad {
		_, err := Add(ctx, s, w.Catalog("acme"), "acme", "usr_1", AddRequest{Entry: b.e}, now)
		if got := fieldsOf(t, err); got != b.fields {
			t.Errorf("%+v: fields %q, want %q (%v)", b.e, got, b.fields, err)
		}
	}
	// gpt-4o-mini has a price today: a list from yesterday rewrites it.
	yesterday := now.Add(-24 * time.Hour).Format(time.DateOnly)
	change := AddRequest{Entry: pricing.Entry{Provider: "openai", Model: "gpt-4o-mini", Effective: yesterday,
		Prices: map[string]string{"input_tokens": "0.10", "output_tokens": "0.40"}}}
	if _, err := Add(ctx, s, w.Catalog("acme"), "acme", "usr_1", change, now); fieldsOf(t, err) != "effective" {
		t.Fatalf("history rewritten without force: %v", err)
	}
	change.Force = true
	if _, err := Add(ctx, s, w.Catalog("acme"), "acme", "usr_1", change, now); err != nil {
		t.Fatal(err)
	}
	// Tomorrow's price changes nothing in the past: no force needed.
	change.Force, change.Effective = false, now.Add(24*time.Hour).Format(time.DateOnly)
	if _, err := Add(ctx, s, w.Catalog("acme"), "acme", "usr_1", change, now); err != nil {
		t.Fatal(err)
	}
}

// totals reads each table's cost and unpriced count for the tenant.
func totals(t *testing.T, s interface{ Database() string }, scalar func(string) string) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for _, tb := range []string{"api_calls", "api_calls_by_customer", "api_calls_by_user"} {
		out[tb] = [2]string{scalar("SELECT toString(sum(ifNull(cost_usd, 0))) FROM " + s.Database() + "." + tb + " WHERE tenant = 'acme'"),
			scalar("SELECT toString(countIf(cost_status = 'unpriced')) FROM " + s.Database() + "." + tb + " WHERE tenant = 'acme'")}
	}
	for _, tb := range []string{"api_calls_1m", "api_calls_1h", "api_calls_1d", "api_calls_customer_1d", "api_calls_customer_1h",
		"api_calls_user_1d", "api_calls_user_1h", "api_calls_tag_1d"} {
		out[tb] = [2]string{scalar("SELECT toString(sum(cost_usd)) FROM " + s.Database() + "." + tb + " WHERE tenant = 'acme'"),
			scalar("SELECT toString(sum(unpriced)) FROM " + s.Database() + "." + tb + " WHERE tenant = 'acme'")}
	}
	return out
}

// Unpriced calls re-priced once their price exists move api_calls and
// every rollup by exactly their cost, and their unpriced count by their
// number; a second run moves nothing; calls of another tenant, a reported
// cost and calls outside the scope stay as they were.
func TestRepriceMovesEveryTotalExactly(t *testing.T) {
	s, _ := storetest.Start(t, "pricebook_reprice")
	ctx := context.Background()
	scalar := func(q string) string { return storetest.Scalar(t, s, q) }
	at := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	var calls []storetest.Call
	for i := range 3 {
		calls = append(calls, storetest.Call{At: at.Add(time.Duration(i) * time.Minute), Provider: "openai", Model: "acme-llm-1",
			Input: 1000 + uint64(i), Output: 500, Tenant: "acme", Customer: "cust-" + string(rune('a'+i)), User: "u1",
			Tags: map[string]string{"env": "prod"}})
	}
	calls = append(calls,
		storetest.Call{At: at, Provider: "openai", Model: "gpt-4o-mini", Input: 10, Output: 10, Cost: "0.5", Tenant: "acme", Customer: "cust-a"},
		storetest.Call{At: at, Provider: "openai", Model: "acme-llm-1", Input: 1000, Output: 500, Tenant: "globex"},
		storetest.Call{At: at, Provider: "openrouter", Model: "acme-llm-1", Input: 1000, Output: 500, Tenant: "acme"},
		// Failed: whether it was billed was decided when it was seen.
		storetest.Call{At: at, Provider: "openai", Model: "acme-llm-1", Input: 1000, Output: 500, Tenant: "acme", Status: "error"})
	storetest.SeedCalls(t, s, calls...)
	before := totals(t, s, scalar)

	w := NewWatcher(base(t), s, nil)
	now := time.Now().UTC()
	if _, err := Add(ctx, s, w.Catalog("acme"), "acme", "usr_1", AddRequest{Entry: pricing.Entry{Provider: "openai", Model: "acme-llm-1",
		Effective: "2026-01-01", Prices: map[string]string{"input_tokens": "1.000000000001", "output_tokens": "2"}}}, now); err != nil {
		t.Fatal(err)
	}
	if err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	req := RepriceRequest{From: at.Add(-time.Hour), To: now, Provider: "openai", Model: "acme-llm-1"}
	res, err := Reprice(ctx, s, w.Catalog("acme"), "acme", req)
	if err != nil {
		t.Fatal(err)
	}
	// (1000+i) × $1.000000000001/M + 500 × $2/M, each rounded to pico-USD.
	want := decimal.Zero
	for i := range 3 {
		in := decimal.NewFromInt(int64(1000 + i)).Mul(decimal.RequireFromString("1.000000000001")).Div(decimal.NewFromInt(1_000_000))
		want = want.Add(in.Add(decimal.RequireFromString("0.001")).Round(12))
	}
	if res.Repriced != 3 || res.NewlyPriced != 3 || res.StillUnpriced != 0 || res.Examined != 3 || !res.Moved.Equal(want) {
		t.Fatalf("result %+v, want 3 re-priced moving %s", res, want)
	}
	after := totals(t, s, scalar)
	for tb, b := range before {
		a := after[tb]
		moved := decimal.RequireFromString(a[0]).Sub(decimal.RequireFromString(b[0]))
		if !moved.Equal(want) {
			t.Errorf("%s: cost %s → %s moved %s, want %s", tb, b[0], a[0], moved, want)
		}
		// Only the three re-priced calls carry a tag.
		if wb, wa := map[bool]string{true: "3", false: "5"}[tb == "api_calls_tag_1d"], map[bool]string{true: "0", false: "2"}[tb == "api_calls_tag_1d"]; b[1] != wb || a[1] != wa {
			t.Errorf("%s: unpriced %s → %s, want %s → %s", tb, b[1], a[1], wb, wa)
		}
	}
	if v := scalar("SELECT toString(count()) FROM " + s.Database() + ".api_calls WHERE tenant = 'acme' AND pricing_version = '" +
		w.Catalog("acme").Version() + "' AND cost_status = 'computed' AND unpriced_reason = ''"); v != "3" {
		t.Fatalf("%s calls carry the new version", v)
	}
	if v := scalar("SELECT toString(countIf(cost_status = 'unpriced')) FROM " + s.Database() + ".api_calls WHERE tenant = 'globex'"); v != "1" {
		t.Fatalf("another tenant's call re-priced: %s unpriced left", v)
	}

	again, err := Reprice(ctx, s, w.Catalog("acme"), "acme", req)
	if err != nil {
		t.Fatal(err)
	}
	if again.Repriced != 0 || !again.Moved.IsZero() {
		t.Fatalf("second run: %+v", again)
	}
	if final := totals(t, s, scalar); final["api_calls_1d"] != after["api_calls_1d"] || final["api_calls"] != after["api_calls"] {
		t.Fatalf("a second run moved totals: %v → %v", after, final)
	}
}

// A range reaching before the raw calls kept, into days the rollups still
// hold, is refused naming from; an empty or reversed range naming to.
func TestRepriceRefusesWhatRawCallsNoLongerHold(t *testing.T) {
	s, _ := storetest.Start(t, "pricebook_reprice_range")
	ctx := context.Background()
	at := time.Now().UTC().Add(-time.Hour)
	storetest.SeedCalls(t, s, storetest.Call{At: at, Provider: "openai", Model: "m", Tenant: "acme"})
	// A day whose raw calls retention removed: only its rollup is left.
	if err := s.Exec(ctx, "INSERT INTO "+s.Database()+".api_calls_1d (ts, tenant, provider, calls) VALUES ('2025-01-01 00:00:00', 'acme', 'openai', 5)", nil); err != nil {
		t.Fatal(err)
	}
	cat := base(t)
	_, err := Reprice(ctx, s, cat, "acme", RepriceRequest{From: time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), To: at})
	if got := fieldsOf(t, err); got != "from" {
		t.Fatalf("fields %q: %v", got, err)
	}
	if _, err := Reprice(ctx, s, cat, "acme", RepriceRequest{From: at.Add(-time.Minute), To: at.Add(time.Minute)}); err != nil {
		t.Fatalf("a range the raw calls hold: %v", err)
	}
	if _, err := Reprice(ctx, s, cat, "acme", RepriceRequest{From: at, To: at}); fieldsOf(t, err) != "to" {
		t.Fatalf("empty range: %v", err)
	}
}

package nexusapiextension

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/pricebook"
	"github.com/nexus-otel/nexus/internal/pricing"
)

// An editor adds a price for a model the catalog does not know; bad lists
// are refused naming their fields; the tenant's unpriced calls re-priced
// move the cost summary by exactly their cost; the re-price is in the
// audit trail with the money moved; a viewer may list but not change.
func TestPricesAddListAndReprice(t *testing.T) {
	ta := startAPI(t, freshDB("api_prices"), nil)
	editor, viewer := ta.key(roleEditor), ta.key(roleViewer)
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	ta.seed(seedCall{At: at, Provider: "openai", Model: "house-model-7", Input: 2000, Output: 1000},
		seedCall{At: at.Add(time.Second), Provider: "openai", Model: "house-model-7", Input: 1, Output: 3})

	var view pricesView
	ta.do("GET", "/api/v1/prices?provider=openai&model=gpt-4o-mini", viewer, nil).decode(t, &view)
	if len(view.Lists) != 1 || view.Lists[0].Source != pricebook.SourceBuiltin || view.Version == "" {
		t.Fatalf("gpt-4o-mini now: %+v", view)
	}
	var hist pricesView
	ta.do("GET", "/api/v1/prices?provider=openai&model=gpt-4o&history=true", viewer, nil).decode(t, &hist)
	if len(hist.Lists) < 2 || hist.Lists[0].Effective <= hist.Lists[1].Effective {
		t.Fatalf("gpt-4o history, newest first: %+v", hist.Lists)
	}

	body := map[string]any{"provider": "openai", "model": "house-model-7", "effective": "2026-01-01",
		"prices": map[string]string{"input_tokens": "2.5", "output_tokens": "10.000000000001"}}
	if e := ta.do("POST", "/api/v1/prices", viewer, body); e.status != 403 {
		t.Fatalf("viewer added a price: %d", e.status)
	}
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"provider": "openai", "model": "x", "effective": "2027-01-01", "prices": map[string]string{"input_tokens": "-0.1"}}, "prices.input_tokens"},
		{map[string]any{"provider": "openai", "model": "x", "effective": "2027-01-01", "prices": map[string]string{"input_tokens": "0.0000000000001"}}, "prices.input_tokens"},
		{map[string]any{"provider": "openai", "model": "x", "effective": "2027-01-01", "prices": map[string]string{"bananas": "1"}}, "prices.bananas"},
		{map[string]any{"provider": "openai", "model": "gpt-4o-mini", "effective": "2025-01-01", "prices": map[string]string{"input_tokens": "1"}}, "effective"},
	} {
		e := ta.do("POST", "/api/v1/prices", editor, bad.body)
		if e.status != 400 || e.Error == nil || len(e.Error.Details) == 0 || e.Error.Details[0].Field != bad.field {
			t.Errorf("%v: %d %+v, want 400 naming %s", bad.body, e.status, e.Error, bad.field)
		}
	}
	var added addedPrice
	e := ta.do("POST", "/api/v1/prices", editor, body)
	if e.status != 201 {
		t.Fatalf("add: %d %+v", e.status, e.Error)
	}
	e.decode(t, &added)
	if added.List.Source != pricebook.SourceTenant || added.Version == view.Version || !strings.Contains(added.Version, "+rt.") {
		t.Fatalf("added %+v (version before %s)", added, view.Version)
	}
	ta.do("GET", "/api/v1/prices?model=house-model-7", viewer, nil).decode(t, &view)
	if len(view.Lists) != 1 || view.Lists[0].AddedBy == "" || view.Version != added.Version {
		t.Fatalf("listed: %+v", view)
	}

	summary := func() (string, uint64) {
		var groups []struct {
			Cost     string `json:"cost"`
			Unpriced uint64 `json:"unpriced"`
		}
		ta.do("GET", "/api/v1/costs/summary?from="+at.Add(-time.Hour).Format(time.RFC3339)+"&to="+time.Now().UTC().Add(time.Minute).Format(time.RFC3339),
			viewer, nil).decode(t, &groups)
		if len(groups) != 1 {
			t.Fatalf("summary groups %+v", groups)
		}
		return groups[0].Cost, groups[0].Unpriced
	}
	before, unpricedBefore := summary()
	var res pricebook.RepriceResult
	e = ta.do("POST", "/api/v1/prices/reprice", editor, map[string]any{"from": at.Add(-time.Minute).Format(time.RFC3339),
		"to": time.Now().UTC().Format(time.RFC3339), "model": "house-model-7"})
	if e.status != 200 {
		t.Fatalf("reprice: %d %+v", e.status, e.Error)
	}
	e.decode(t, &res)
	// 2000 × $2.5/M + 1000 × $10.000000000001/M = 0.005 + 0.010000000000001 → 0.015000000000 (pico-USD);
	// 1 × $2.5/M + 3 × $10.000000000001/M = 0.0000025 + 0.000030000000000003 → 0.000032500000.
	want := decimal.RequireFromString("0.0150325")
	if res.Repriced != 2 || res.NewlyPriced != 2 || !res.Moved.Equal(want) {
		t.Fatalf("re-priced %+v, want 2 moving %s", res, want)
	}
	after, unpricedAfter := summary()
	if moved := decimal.RequireFromString(after).Sub(decimal.RequireFromString(before)); !moved.Equal(want) || unpricedBefore-unpricedAfter != 2 {
		t.Fatalf("summary %s → %s (unpriced %d → %d), want +%s and 2 fewer unpriced", before, after, unpricedBefore, unpricedAfter, want)
	}
	if e := ta.do("POST", "/api/v1/prices/reprice", editor, map[string]any{"from": "yesterday", "to": time.Now().UTC().Format(time.RFC3339)}); e.status != 400 ||
		e.Error.Details[0].Field != "from" {
		t.Fatalf("bad from: %d %+v", e.status, e.Error)
	}

	var page struct {
		Entries []struct {
			Action string          `json:"action"`
			After  json.RawMessage `json:"after"`
		} `json:"entries"`
	}
	ta.do("GET", "/api/v1/audit?action=prices.reprice", ta.admin, nil).decode(t, &page)
	if len(page.Entries) != 1 || !strings.Contains(string(page.Entries[0].After), `"movedUsd":"0.0150325"`) ||
		!strings.Contains(string(page.Entries[0].After), `"repriced":2`) {
		t.Fatalf("audit of the re-price: %+v", page.Entries)
	}
}

// The OpenRouter price sync's health shows on /providers: a failed run is
// the last, with when the last good one was.
func TestProvidersShowPriceSyncHealth(t *testing.T) {
	ta := startAPI(t, freshDB("api_prices_sync"), nil)
	ctx := context.Background()
	good := func(context.Context) (pricebook.Fetched, error) {
		return pricebook.Fetched{Entries: []pricing.Entry{{Provider: "openrouter", Model: "acme/model",
			Prices: map[string]string{"input_tokens": "1", "output_tokens": "2"}}}}, nil
	}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	if _, err := pricebook.Sync(ctx, ta.store, pricebook.SourceOpenRouter, good, t0); err != nil {
		t.Fatal(err)
	}
	failing := func(context.Context) (pricebook.Fetched, error) { return pricebook.Fetched{}, context.DeadlineExceeded }
	if _, err := pricebook.Sync(ctx, ta.store, pricebook.SourceOpenRouter, failing, t0.Add(time.Minute)); err == nil {
		t.Fatal("a failed fetch synced")
	}
	var list []struct {
		Name      string                `json:"name"`
		PriceSync *pricebook.SyncHealth `json:"priceSync"`
	}
	ta.do("GET", "/api/v1/providers", ta.key(roleViewer), nil).decode(t, &list)
	for _, p := range list {
		switch {
		case p.Name == "openrouter" && (p.PriceSync == nil || p.PriceSync.Last.OK || !p.PriceSync.LastSuccess.Equal(t0) ||
			!strings.Contains(p.PriceSync.Last.Message, "deadline")):
			t.Fatalf("openrouter price sync: %+v", p.PriceSync)
		case p.Name != "openrouter" && p.PriceSync != nil:
			t.Fatalf("%s has a price sync", p.Name)
		}
	}
}

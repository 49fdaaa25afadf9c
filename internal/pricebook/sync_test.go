package pricebook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers/openrouter"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// openRouterFetch reads the models list of a stand-in for OpenRouter.
func openRouterFetch(base string) func(context.Context) (Fetched, error) {
	return func(ctx context.Context) (Fetched, error) {
		got, err := openrouter.FetchModelPrices(ctx, nil, base)
		return Fetched{Entries: got.Entries, Skipped: len(got.Skipped)}, err
	}
}

// The sync against a stand-in serving OpenRouter's documented model list:
// its prices price OpenRouter calls that carry no cost; a list unchanged
// stores nothing; a changed price is stored from today, leaving earlier
// days as they were; a failing or malformed list keeps the last good
// prices, and the sync's health says so.
func TestOpenRouterSync(t *testing.T) {
	s, _ := storetest.Start(t, "pricebook_sync")
	ctx := context.Background()
	sample, err := os.ReadFile("../providers/openrouter/testdata/models.json")
	if err != nil {
		t.Fatal(err)
	}
	var mode atomic.Value
	mode.Store("ok")
	body := atomic.Value{}
	body.Store(string(sample))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "down":
			http.Error(w, `{"error":{"code":502,"message":"upstream"}}`, http.StatusBadGateway)
		case "garbage":
			_, _ = w.Write([]byte(`{"data": [{"id": "openai/gpt-4o", "pricing": `))
		default:
			_, _ = w.Write([]byte(body.Load().(string)))
		}
	}))
	defer srv.Close()
	fetch := openRouterFetch(srv.URL)

	day1 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	run, err := Sync(ctx, s, SourceOpenRouter, fetch, day1)
	if err != nil || !run.OK || run.Models != 9 || run.Skipped != 1 || run.Changed != 9 {
		t.Fatalf("first sync %+v: %v", run, err)
	}
	w := NewWatcher(base(t), s, nil)
	if err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	u := pricing.Usage{}
	u[pricing.InputTokens], u[pricing.OutputTokens] = 1_000_000, 1_000_000
	// deepseek-r1: $0.40 in + $2.00 out per million.
	if r := w.Catalog("acme").Price("openrouter", "deepseek/deepseek-r1", "", "", day1.Add(time.Hour), &u); r.Status != pricing.Computed ||
		r.Cost.Decimal().String() != "2.4" {
		t.Fatalf("synced price: %+v %s", r, r.Cost)
	}

	if run, err := Sync(ctx, s, SourceOpenRouter, fetch, day1.Add(time.Hour)); err != nil || run.Changed != 0 {
		t.Fatalf("unchanged list stored again: %+v %v", run, err)
	}

	day2 := day1.Add(24 * time.Hour)
	body.Store(strings.Replace(string(sample), `"prompt":"0.0000004"`, `"prompt":"0.0000005"`, 1))
	if run, err := Sync(ctx, s, SourceOpenRouter, fetch, day2); err != nil || run.Changed != 1 {
		t.Fatalf("changed price: %+v %v", run, err)
	}
	if err := w.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if r := w.Catalog("acme").Price("openrouter", "deepseek/deepseek-r1", "", "", day2.Add(time.Hour), &u); r.Cost.Decimal().String() != "2.5" {
		t.Fatalf("day 2 price: %s", r.Cost)
	}
	if r := w.Catalog("acme").Price("openrouter", "deepseek/deepseek-r1", "", "", day1.Add(time.Hour), &u); r.Cost.Decimal().String() != "2.4" {
		t.Fatalf("day 1 re-priced by day 2's list: %s", r.Cost)
	}

	for _, m := range []string{"down", "garbage"} {
		mode.Store(m)
		run, err := Sync(ctx, s, SourceOpenRouter, fetch, day2.Add(time.Hour))
		if err == nil || run.OK {
			t.Fatalf("%s: sync ok: %+v", m, run)
		}
		if err := w.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if r := w.Catalog("acme").Price("openrouter", "deepseek/deepseek-r1", "", "", day2.Add(2*time.Hour), &u); r.Status != pricing.Computed {
			t.Fatalf("%s: last good prices lost: %+v", m, r)
		}
		h, ok, err := Health(ctx, s, SourceOpenRouter)
		if err != nil || !ok || h.Last.OK || h.Last.Message == "" || !h.LastSuccess.Equal(day2) {
			t.Fatalf("%s: health %+v ok %v: %v", m, h, ok, err)
		}
	}
}

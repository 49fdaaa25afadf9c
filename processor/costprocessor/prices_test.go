package costprocessor

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/nexus-otel/nexus/internal/pricebook"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// exchangeExtension owns an exchange, as the nexusapi extension does.
type exchangeExtension struct {
	component.StartFunc
	component.ShutdownFunc
	x pricebook.Exchange
}

func (e *exchangeExtension) PriceExchange() *pricebook.Exchange { return &e.x }

// A price list added to the store for a model the catalog does not know
// prices that tenant's next calls within the refresh interval, without a
// restart, with a version naming it; the API extension is handed the
// same catalogs.
func TestAddedPricePricesTheNextCall(t *testing.T) {
	s, host := storetest.Start(t, "cost_runtime_prices")
	api := component.MustNewID("nexusapi")
	exch := &exchangeExtension{}
	host.Extensions[api] = exch
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Prices.Store, cfg.Prices.API, cfg.Prices.Refresh = &storetest.ID, &api, 200*time.Millisecond
	p, sink := newTracesProcessor(t, cfg)
	if err := p.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	if exch.x.Watcher() == nil {
		t.Fatal("the processor's catalogs were not handed to the API")
	}

	call := func() (status, cost, version string) {
		t.Helper()
		sink.Reset()
		td := spanWith(map[string]any{"gen_ai.system": "openai", "gen_ai.operation.name": "chat", "gen_ai.response.model": "house-model-7",
			"gen_ai.usage.input_tokens": int64(1000), "gen_ai.usage.output_tokens": int64(500)}, 100*time.Millisecond)
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		attrs := sink.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		st, _ := attrs.Get(semconv.AttrCostStatus)
		v, _ := attrs.Get(semconv.AttrPricingVersion)
		if c, ok := attrs.Get(semconv.AttrCostPicoUSD); ok {
			cost = c.AsString()
		}
		return st.Str(), cost, v.Str()
	}
	if st, _, _ := call(); st != "unpriced" {
		t.Fatalf("priced before its list: %s", st)
	}
	base := exch.x.Watcher().Catalog("default")
	added := time.Now()
	if _, err := pricebook.Add(context.Background(), s, base, "default", "test", pricebook.AddRequest{Entry: pricing.Entry{
		Provider: "openai", Model: "house-model-7", Effective: "2026-01-01",
		Prices: map[string]string{"input_tokens": "3", "output_tokens": "4"}}}, added); err != nil {
		t.Fatal(err)
	}
	for {
		st, cost, version := call()
		if st == "computed" {
			// 1000 × $3/M + 500 × $4/M = $0.005 = 5,000,000,000 pico-USD.
			if cost != "5000000000" || !strings.Contains(version, "+rt.") {
				t.Fatalf("priced %s at %s pico-USD, version %q", st, cost, version)
			}
			t.Logf("priced %s after the list was added", time.Since(added))
			break
		}
		if time.Since(added) > 5*time.Second {
			t.Fatalf("still %s 5 s after the list was added", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if exch.x.Watcher() != nil {
		t.Fatal("the API kept the catalogs of a stopped processor")
	}
}

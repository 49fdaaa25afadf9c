package costprocessor

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/nexus-otel/nexus/internal/livefeed"
)

// feedExtension owns a real hub, as the nexusapi extension does.
type feedExtension struct {
	component.StartFunc
	component.ShutdownFunc
	hub *livefeed.Hub
}

func (f *feedExtension) Feed() *livefeed.Hub { return f.hub }

type feedHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h feedHost) GetExtensions() map[component.ID]component.Component { return h.exts }

func TestPricedCallsReachTheLiveFeed(t *testing.T) {
	id := component.MustNewID("nexusapi")
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.LiveFeed = &id
	p, sink := newTracesProcessor(t, cfg)
	hub := livefeed.NewHub(1)
	host := feedHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{id: &feedExtension{hub: hub}}}
	if err := p.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())

	sub, _ := hub.Subscribe(4, nil, 0)
	defer sub.Close()
	td := spanWith(map[string]any{
		"gen_ai.system": "openai", "gen_ai.operation.name": "chat", "gen_ai.response.model": "gpt-4o-mini",
		"gen_ai.usage.input_tokens": int64(1000), "gen_ai.usage.output_tokens": int64(500),
	}, 250*time.Millisecond)
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if sink.SpanCount() != 1 {
		t.Fatalf("span not passed on: %d", sink.SpanCount())
	}
	var e *livefeed.Event
	select {
	case e = <-sub.C:
	default:
		t.Fatal("no call published")
	}
	var c livefeed.Call
	if err := json.Unmarshal(e.Data, &c); err != nil {
		t.Fatal(err)
	}
	// The price is the one written on the span: 1000 × $0.15/M + 500 × $0.60/M.
	if c.Provider != "openai" || c.Model != "gpt-4o-mini" || c.Service != "shop" || c.CostUSD == nil ||
		*c.CostUSD != "0.00045" || c.DurationMs != 250 || c.Status != "ok" || e.Labels.Provider != "openai" {
		t.Fatalf("published %s", e.Data)
	}
}

func TestLiveFeedMustBeAFeed(t *testing.T) {
	id := component.MustNewID("chstore")
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.LiveFeed = &id
	p, _ := newTracesProcessor(t, cfg)
	err := p.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "live_feed") || !strings.Contains(err.Error(), `"chstore" not found`) {
		t.Fatalf("start with a missing live feed: %v", err)
	}
}

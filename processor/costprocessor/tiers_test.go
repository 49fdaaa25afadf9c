package costprocessor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/semconv"
)

// TestPricesMediaTokensAndTiers: audio tokens take their own prices, and a
// service tier scales the token cost or, unknown, leaves the call unpriced.
func TestPricesMediaTokensAndTiers(t *testing.T) {
	cases := []struct {
		name   string
		attrs  map[string]any
		cost   int64  // pico-USD, when priced
		reason string // unpriced reason, else
	}{
		{
			// 247 × $2.50 + 987 × $40 + 246 × $10 + 321 × $80 per 1M = $0.0682375.
			name: "audio",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-audio-preview",
				"gen_ai.usage.input_tokens": 1234, "gen_ai.usage.input_audio_tokens": 987,
				"gen_ai.usage.output_tokens": 567, "gen_ai.usage.output_audio_tokens": 321},
			cost: 68_237_500_000,
		},
		{
			name: "audio on a text model",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
				"gen_ai.usage.input_tokens": 100, "gen_ai.usage.input_audio_tokens": 10},
			reason: "has no input_audio_tokens price, but the call used 10",
		},
		{
			// (8000 × $2 + 2000 × $0.50 + 3000 × $8) per 1M × 0.5 = $0.0205.
			name: "flex served",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "o3",
				"openai.request.service_tier": "auto", "openai.response.service_tier": "flex",
				"gen_ai.usage.input_tokens": 10000, "gen_ai.usage.cache_read.input_tokens": 2000,
				"gen_ai.usage.output_tokens": 3000, "gen_ai.usage.reasoning.output_tokens": 1000},
			cost: 20_500_000_000,
		},
		{
			// (1,000,001 × $0.15 + 333 × $0.60) per 1M × 0.5 = $0.075099975.
			name: "batch",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
				"openai.request.service_tier": "batch", "gen_ai.usage.input_tokens": 1_000_001, "gen_ai.usage.output_tokens": 333},
			cost: 75_099_975_000,
		},
		{
			name: "unknown tier",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "o3",
				"openai.response.service_tier": "priority", "gen_ai.usage.input_tokens": 10},
			reason: `unknown service tier "priority" for openai model o3 (priced tiers: batch, flex)`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, sink := newTracesProcessor(t, nil)
			if err := p.ConsumeTraces(context.Background(), spanWith(tc.attrs, time.Second)); err != nil {
				t.Fatal(err)
			}
			a := outAttrs(sink)
			status, _ := a.Get(semconv.AttrCostStatus)
			cost, priced := a.Get(semconv.AttrCostPicoUSD)
			if tc.reason == "" {
				if status.Str() != "computed" || !priced || cost.Int() != tc.cost {
					t.Fatalf("got %s %v, want computed %d: %v", status.Str(), cost.AsRaw(), tc.cost, a.AsRaw())
				}
				return
			}
			reason, _ := a.Get(semconv.AttrUnpricedReason)
			if status.Str() != "unpriced" || priced || !strings.Contains(reason.Str(), tc.reason) {
				t.Fatalf("got %s %q, want unpriced %q", status.Str(), reason.Str(), tc.reason)
			}
		})
	}
}

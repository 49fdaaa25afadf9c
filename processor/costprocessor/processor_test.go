package costprocessor

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/nexus-otel/nexus/internal/configtest"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// callTime is when the test calls happen: every price below is the catalog
// entry in effect then.
var callTime = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func newTracesProcessor(t testing.TB, cfg *Config) (processor.Traces, *consumertest.TracesSink) {
	t.Helper()
	f := NewFactory()
	if cfg == nil {
		cfg = f.CreateDefaultConfig().(*Config)
	}
	sink := new(consumertest.TracesSink)
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	return p, sink
}

func spanWith(attrs map[string]any, latency time.Duration) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("call")
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(callTime))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(callTime.Add(latency)))
	_ = s.Attributes().FromRaw(attrs)
	return td
}

func outAttrs(sink *consumertest.TracesSink) pcommon.Map {
	all := sink.AllTraces()
	return all[len(all)-1].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
}

func TestPricesEveryProvider(t *testing.T) {
	cases := []struct {
		name   string
		attrs  map[string]any
		status string
		cost   int64  // pico-USD, when priced
		reason string // substring, when unpriced
		op     string
	}{
		{
			// 200 uncached × $2.50 + 800 cached × $1.25 + 500 × $10 per 1M = $0.0065.
			// Counting the cached tokens twice would give $0.0085.
			name: "openai current names, cached subset of input",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat",
				"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
				"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.cache_read.input_tokens": 800, "gen_ai.usage.output_tokens": 500},
			status: "computed", cost: 6_500_000_000, op: "chat",
		},
		{
			// 1000 × $0.15 + 200 × $0.60 per 1M = $0.00027; tokens arrive as a string.
			name: "openai deprecated names",
			attrs: map[string]any{"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
				"gen_ai.usage.prompt_tokens": "1000", "gen_ai.usage.completion_tokens": 200},
			status: "computed", cost: 270_000_000,
		},
		{
			// o3 after its 2025-06-10 cut: 2000 × $2 + 3000 × $8 = $0.028; the
			// 2500 reasoning tokens are part of the 3000 output tokens.
			name: "openai reasoning subset of output",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.response.model": "o3-2025-04-16",
				"gen_ai.usage.input_tokens": 2000, "gen_ai.usage.output_tokens": 3000, "gen_ai.usage.reasoning.output_tokens": 2500},
			status: "computed", cost: 28_000_000_000,
		},
		{
			name: "openrouter reported cost (double)",
			attrs: map[string]any{"gen_ai.system": "openrouter", "gen_ai.request.model": "anthropic/claude-sonnet-4",
				"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.cost": 0.00123},
			status: "reported", cost: 1_230_000_000,
		},
		{
			// No reported cost: priced from OpenAI's list, 1000 × $0.15 + 100 × $0.60 per 1M.
			name: "openrouter vendor fallback",
			attrs: map[string]any{"gen_ai.provider.name": "openrouter", "gen_ai.request.model": "openai/gpt-4o-mini",
				"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100},
			status: "computed", cost: 210_000_000,
		},
		{
			name:   "exa reported costDollars.total",
			attrs:  map[string]any{"url.full": "https://api.exa.ai/search", "http.request.method": "POST", "exa.cost_dollars.total": "0.005"},
			status: "reported", cost: 5_000_000_000, op: "search",
		},
		{
			name:   "exa search from the catalog ($7 per 1k requests)",
			attrs:  map[string]any{"url.full": "https://api.exa.ai/search", "http.request.method": "POST"},
			status: "computed", cost: 7_000_000_000, op: "search",
		},
		{
			name:   "exa contents per page",
			attrs:  map[string]any{"server.address": "api.exa.ai", "url.path": "/contents", "exa.num_pages": 3},
			status: "computed", cost: 3_000_000_000, op: "contents",
		},
		{
			// Three segments to a country without its own price: the default $0.0079 each.
			name: "twilio multi-segment sms",
			attrs: map[string]any{"url.full": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
				"http.request.method": "POST", "twilio.num_segments": 3, "twilio.to_country": "GB"},
			status: "computed", cost: 23_700_000_000, op: "sms",
		},
		{
			name: "twilio reported price is negative as billed",
			attrs: map[string]any{"url.full": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
				"http.request.method": "POST", "twilio.num_segments": 3, "twilio.price": "-0.02370"},
			status: "reported", cost: 23_700_000_000, op: "sms",
		},
		{
			// 61 s bills two started minutes at $0.014.
			name: "twilio voice per started minute",
			attrs: map[string]any{"url.full": "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json",
				"http.request.method": "POST", "twilio.duration_seconds": 61},
			status: "computed", cost: 28_000_000_000, op: "voice",
		},
		{
			name: "twilio voice without duration is unpriced, not $0",
			attrs: map[string]any{"url.full": "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json",
				"http.request.method": "POST"},
			status: "unpriced", reason: "duration unknown", op: "voice",
		},
		{
			name:   "apollo credits from the endpoint table",
			attrs:  map[string]any{"url.full": "https://api.apollo.io/api/v1/people/match", "http.request.method": "POST"},
			status: "computed", cost: 200_000_000_000, op: "people/match",
		},
		{
			name:   "apollo reported credits",
			attrs:  map[string]any{"url.full": "https://api.apollo.io/api/v1/mixed_companies/search", "apollo.credits": 3},
			status: "computed", cost: 600_000_000_000, op: "mixed_companies/search",
		},
		{
			name:   "unknown model is unpriced with the reason",
			attrs:  map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-9", "gen_ai.usage.input_tokens": 10},
			status: "unpriced", reason: "no catalog entry for openai model gpt-9",
		},
		{
			name: "a used token kind without a price is unpriced",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o-2024-05-13",
				"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.cache_read.input_tokens": 500},
			status: "unpriced", reason: "cached_input_tokens",
		},
		{
			// Negative and absurd counts read as 0: only the 100 output tokens cost.
			name: "bad token values",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o-mini",
				"gen_ai.usage.input_tokens": -50, "gen_ai.usage.output_tokens": 100, "gen_ai.usage.cache_read.input_tokens": 1e300},
			status: "computed", cost: 60_000_000,
		},
	}
	p, sink := newTracesProcessor(t, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := p.ConsumeTraces(context.Background(), spanWith(c.attrs, 300*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			a := outAttrs(sink)
			status, _ := a.Get(semconv.AttrCostStatus)
			if status.Str() != c.status {
				reason, _ := a.Get(semconv.AttrUnpricedReason)
				t.Fatalf("status %q (reason %q), want %q", status.Str(), reason.Str(), c.status)
			}
			cost, hasCost := a.Get(semconv.AttrCostPicoUSD)
			if c.status == "unpriced" {
				reason, _ := a.Get(semconv.AttrUnpricedReason)
				if hasCost {
					t.Fatalf("unpriced call carries a cost %d", cost.Int())
				}
				if !strings.Contains(reason.Str(), c.reason) {
					t.Fatalf("reason %q lacks %q", reason.Str(), c.reason)
				}
			} else if !hasCost || cost.Int() != c.cost {
				t.Fatalf("cost %d pico-USD, want %d (%v)", cost.Int(), c.cost, hasCost)
			}
			if c.op != "" {
				if op, _ := a.Get(semconv.AttrNexusOperation); op.Str() != c.op {
					t.Fatalf("operation %q, want %q", op.Str(), c.op)
				}
			}
			if c.status == "computed" {
				if v, _ := a.Get(semconv.AttrPricingVersion); v.Str() == "" {
					t.Fatal("computed price without catalog version")
				}
			}
		})
	}
}

func TestNonCallsPassUntouched(t *testing.T) {
	p, sink := newTracesProcessor(t, nil)
	in := spanWith(map[string]any{"http.route": "/checkout", "server.address": "shop.internal"}, time.Second)
	if err := p.ConsumeTraces(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	got := outAttrs(sink)
	if got.Len() != 2 {
		t.Fatalf("attributes changed: %v", got.AsRaw())
	}
}

func TestLogsArePricedToo(t *testing.T) {
	f := NewFactory()
	sink := new(consumertest.LogsSink)
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(callTime))
	_ = lr.Attributes().FromRaw(map[string]any{"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
		"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 200})
	if err := p.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	a := sink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	if v, _ := a.Get(semconv.AttrCostPicoUSD); v.Int() != 270_000_000 {
		t.Fatalf("log cost %d", v.Int())
	}
}

// TestSpikeFlagged: normal latencies build a baseline, one 10× outlier is
// flagged, the normal calls are not.
func TestSpikeFlagged(t *testing.T) {
	p, sink := newTracesProcessor(t, nil)
	attrs := map[string]any{"gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o-mini",
		"gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 200}
	flagged := 0
	for i := range 300 {
		// 380–420 ms, deterministic jitter.
		lat := time.Duration(380+(i*37)%41) * time.Millisecond
		if err := p.ConsumeTraces(context.Background(), spanWith(attrs, lat)); err != nil {
			t.Fatal(err)
		}
		if v, _ := outAttrs(sink).Get(semconv.AttrAnomaly); v.Bool() {
			flagged++
		}
	}
	if flagged != 0 {
		t.Fatalf("%d normal calls flagged", flagged)
	}
	if err := p.ConsumeTraces(context.Background(), spanWith(attrs, 4*time.Second)); err != nil {
		t.Fatal(err)
	}
	a := outAttrs(sink)
	flag, _ := a.Get(semconv.AttrAnomaly)
	score, _ := a.Get(semconv.AttrAnomalyScore)
	if !flag.Bool() {
		t.Fatalf("10x latency outlier not flagged (score %.2f)", score.Double())
	}
}

func TestLoadConfig(t *testing.T) {
	load := func(name string) (*Config, error) { return configtest.Load[*Config](t, NewFactory(), name) }
	cfg, err := load("custom")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hosts["llm-gateway.internal"] != "openai" || len(cfg.Routes) != 1 || len(cfg.Pricing.Models) != 2 ||
		cfg.Pricing.ApolloUSDPerCredit != "0.03" || cfg.Anomaly.Threshold != 8 {
		t.Fatalf("custom config: %+v", cfg)
	}
	for name, want := range map[string]string{
		"bad_price": `pricing.models[1].prices.input_tokens: "abc" is not a decimal amount`,
		"bad_route": "routes[0].provider",
		"bad_host":  "hosts[gw.internal]",
	} {
		_, err := load(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not say %q", name, err, want)
		}
	}
}

// TestOverridesApply: a price override from a later date applies to calls
// after it only, and a deployment's own host is priced.
func TestOverridesApply(t *testing.T) {
	cfg, err := configtest.Load[*Config](t, NewFactory(), "custom")
	if err != nil {
		t.Fatal(err)
	}
	p, sink := newTracesProcessor(t, cfg)
	attrs := map[string]any{"url.full": "https://llm-gateway.internal/v1/chat/completions", "http.request.method": "POST",
		"gen_ai.request.model": "ft:gpt-4o-mini:acme", "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 1000}
	if err := p.ConsumeTraces(context.Background(), spanWith(attrs, time.Second)); err != nil {
		t.Fatal(err)
	}
	// 1000 × $0.30 + 1000 × $1.20 per 1M.
	if v, _ := outAttrs(sink).Get(semconv.AttrCostPicoUSD); v.Int() != 1_500_000_000 {
		t.Fatalf("override cost %d", v.Int())
	}
	// gpt-4o before the override's 2027 date still costs the catalog price.
	attrs = map[string]any{"gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o", "gen_ai.usage.input_tokens": 1000}
	if err := p.ConsumeTraces(context.Background(), spanWith(attrs, time.Second)); err != nil {
		t.Fatal(err)
	}
	if v, _ := outAttrs(sink).Get(semconv.AttrCostPicoUSD); v.Int() != 2_500_000_000 {
		t.Fatalf("gpt-4o before the override: %d", v.Int())
	}
}

package nexusapiextension

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/pricing"
)

// seedStored inserts calls as the cost processor and the exporter store
// them, with an HTTP status, a cost status and usage_units: refused calls
// (cost 0, status refused), and refusals stored before that status existed
// (computed at a full price, HTTP 429).
func (ta *testAPI) seedStored(costStatus string, units map[string]uint64, calls ...seedCall) {
	ta.t.Helper()
	ctx := context.Background()
	b, err := ta.store.PrepareBatch(ctx, "api_calls", []string{
		"timestamp", "duration_ns", "service", "environment", "provider", "operation", "model",
		"http_status", "status", "error_class", "input_tokens", "output_tokens", "cached_input_tokens", "usage_units",
		"cost_usd", "cost_status", "pricing_version", "trace_id", "span_id",
	})
	if err != nil {
		ta.t.Fatal(err)
	}
	for i, c := range calls {
		d := decimal.RequireFromString(c.Cost)
		id := fmt.Sprintf("%016x", c.At.UnixNano()+int64(i)+1<<40)
		if err := b.Append(c.At.UTC(), uint64(50*time.Millisecond), "", "", c.Provider, c.Operation, c.Model,
			c.HTTPStatus, c.Status, c.ErrorClass, c.Input, c.Output, c.Cached, units,
			&d, costStatus, "refused: HTTP 429 rate_limited", hex.EncodeToString([]byte(id)), id); err != nil {
			ta.t.Fatal(err)
		}
	}
	if err := b.Send(ctx); err != nil {
		ta.t.Fatal(err)
	}
}

// refusedCall is a 429 as the cost processor stores it: $0, status refused.
func refusedCall(prov, model, op string) seedCall {
	return seedCall{Provider: prov, Model: model, Operation: op, Status: "error", ErrorClass: "rate_limited", HTTPStatus: 429, Cost: "0"}
}

// TestInsightsRealModelNames: every recommendation kind over the model
// names real traffic carries — dated snapshots (what instrumented apps and
// the proxy store: the response's model), vendor-prefixed OpenRouter names,
// fine-tunes — mixed with the alias some apps record, and with refused
// calls that cost and used nothing. Savings are exact, from catalog prices.
func TestInsightsRealModelNames(t *testing.T) {
	ta := startAPI(t, freshDB("api_insights_names"), func(c *Config) {
		c.Providers.OpenRouter.APIKey = "sk-or-used" // used only under vendor/model-date names: not idle
		c.Providers.Exa.APIKey = "exa-key"           // only refused calls: used, not idle
		c.Providers.Apollo.APIKey = "apollo-key"     // used, key checks failing
		c.Providers.OpenAI.APIKey = "sk-used"
	})
	viewer := ta.key("viewer")
	base := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -25)
	from, to := base, base.Add(30*24*time.Hour)
	d := func(day, hour int) time.Time {
		return base.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour)
	}
	rs := func(prov, model string, calls int, at time.Time, in, cached, out uint64, cost string) []seedCall {
		return many(calls, at, seedCall{Provider: prov, Model: model, Operation: "chat", Input: in, Cached: cached, Output: out, Cost: cost})
	}

	// Right-sizing: 6 calls under the snapshot, 6 under the alias — one
	// model of 12 calls (min_calls 10) — and 30 refusals whose zero
	// tokens must not shorten the average answer nor count as calls.
	ta.seed(rs("openai", "gpt-4o-2024-08-06", 6, d(1, 9), 300, 0, 20, "0.00095")...)
	ta.seed(rs("openai", "gpt-4o", 6, d(1, 10), 300, 0, 20, "0.00095")...)
	ta.seedStored("refused", nil, many(30, d(1, 11), refusedCall("openai", "gpt-4o-2024-08-06", "chat"))...)
	// Only the snapshot's name, as every instrumented app stores it.
	ta.seed(rs("openai", "gpt-4.1-mini-2025-04-14", 10, d(1, 13), 500, 0, 15, "0.0002")...)
	// A pinned snapshot with a price of its own: its family's pair, its
	// own prices.
	ta.seed(rs("openai", "gpt-4o-2024-05-13", 10, d(1, 12), 400, 0, 10, "0.0022")...)
	// OpenRouter's vendor-prefixed names, dated and not.
	ta.seed(rs("openrouter", "openai/gpt-4o-2024-08-06", 5, d(2, 9), 300, 0, 20, "0.00095")...)
	ta.seed(rs("openrouter", "openai/gpt-4o", 5, d(2, 10), 300, 0, 20, "0.00095")...)
	// Fine-tunes of gpt-4o-mini: short answers, yet no right-sizing (a
	// fine-tune is not its base model); long prompts rarely cached.
	ta.seed(rs("openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", 6, d(3, 9), 2000, 100, 10, "0.0006")...)
	ta.seed(rs("openai", "ft:gpt-4o-mini-2024-07-18:acme:support:def456", 6, d(3, 10), 2000, 100, 10, "0.0006")...)
	// Prompt caching under the snapshot and the alias.
	ta.seed(rs("openai", "gpt-4.1-2025-04-14", 6, d(4, 9), 20000, 1000, 400, "0.04")...)
	ta.seed(rs("openai", "gpt-4.1", 6, d(4, 10), 20000, 1000, 400, "0.04")...)
	// Routing: one model under two names at prices 50% apart; a vendor the
	// catalog does not price, in two spellings.
	ta.seed(rs("openrouter", "openai/gpt-4o-mini-2024-07-18", 5, d(5, 9), 800, 0, 200, "0.0003")...)
	ta.seed(rs("openrouter", "openai/gpt-4o-mini", 5, d(5, 10), 800, 0, 200, "0.00045")...)
	ta.seed(rs("openrouter", "anthropic/claude-3.5-sonnet-20240620", 5, d(5, 11), 800, 200, 200, "0.003")...)
	ta.seed(rs("openrouter", "Anthropic/Claude-3.5-Sonnet-20240620", 5, d(5, 12), 800, 200, 200, "0.0045")...)
	// Twilio: 12 messages of 3 segments; 10 refused ones with 2 segments
	// (the app's own count) and 5 refusals stored at a full price before
	// the refused status, which must not dilute the price per segment.
	segPrice := catalogPrice(t, "twilio", "", "sms", pricing.SMSSegments)
	ta.seedUnits(map[string]uint64{"sms_segments": 3}, many(12, d(6, 9), seedCall{Provider: "twilio", Operation: "sms", Cost: segPrice.Mul(decimal.NewFromInt(3)).String()})...)
	ta.seedStored("refused", map[string]uint64{"sms_segments": 2}, many(10, d(6, 10), refusedCall("twilio", "", "sms"))...)
	old := refusedCall("twilio", "", "sms")
	old.Cost = segPrice.String()
	ta.seedStored("computed", map[string]uint64{"sms_segments": 1}, many(5, d(6, 11), old)...)
	// Apollo: 80 credits used (30 × 2 reported, 20 × 1 from the catalog);
	// 40 refused calls and 10 old refusals consumed none.
	ta.seedUnits(map[string]uint64{"credits": 2}, many(30, d(7, 9), seedCall{Provider: "apollo", Operation: "people/match", Cost: "0.4"})...)
	ta.seedUnits(nil, many(20, d(7, 10), seedCall{Provider: "apollo", Operation: "organizations/enrich", Cost: "0.2"})...)
	ta.seedStored("refused", nil, many(40, d(7, 11), refusedCall("apollo", "", "people/match"))...)
	oldApollo := refusedCall("apollo", "", "organizations/enrich")
	oldApollo.Cost = "0.2"
	ta.seedStored("computed", nil, many(10, d(7, 12), oldApollo)...)
	ta.gauge(d(8, 0), "apollo", "credits_remaining", "", 40)
	// Exa: refusals only. Apollo's key checks fail for 49 hours.
	ta.seedStored("refused", nil, many(3, d(8, 9), refusedCall("exa", "", "search"))...)
	ta.health(d(9, 0), "apollo", false, "auth_failed")
	ta.health(d(10, 0), "apollo", false, "auth_failed")
	ta.health(d(11, 1), "apollo", false, "auth_failed")

	recs, _ := recommendations(t, ta, viewer, "from", rfc(from), "to", rfc(to))
	byID := map[string]recOut{}
	var ids []string
	for _, r := range recs {
		byID[r.ID], ids = r, append(ids, r.ID)
	}

	M := decimal.NewFromInt(1_000_000)
	price := func(model string, u pricing.Unit) decimal.Decimal { return catalogPrice(t, "openai", model, "", u) }
	rightSizing := func(model, alt string, calls, in, out int64) decimal.Decimal {
		return decimal.NewFromInt(calls * in).Mul(price(model, pricing.InputTokens).Sub(price(alt, pricing.InputTokens))).
			Add(decimal.NewFromInt(calls * out).Mul(price(model, pricing.OutputTokens).Sub(price(alt, pricing.OutputTokens)))).Div(M)
	}
	caching := func(model string, calls, in, cached int64) decimal.Decimal {
		more := decimal.NewFromInt(calls * in).Div(decimal.NewFromInt(2)).Sub(decimal.NewFromInt(calls * cached))
		return more.Mul(price(model, pricing.InputTokens).Sub(price(model, pricing.CachedInputTokens))).Div(M)
	}
	want := map[string]decimal.Decimal{
		"model_right_sizing:openai:gpt-4o:chat":                   rightSizing("gpt-4o", "gpt-4o-mini", 12, 300, 20),
		"model_right_sizing:openai:gpt-4.1-mini:chat":             rightSizing("gpt-4.1-mini", "gpt-4.1-nano", 10, 500, 15),
		"model_right_sizing:openai:gpt-4o-2024-05-13:chat":        rightSizing("gpt-4o-2024-05-13", "gpt-4o-mini", 10, 400, 10),
		"model_right_sizing:openrouter:openai/gpt-4o:chat":        rightSizing("gpt-4o", "gpt-4o-mini", 10, 300, 20),
		"prompt_caching:openai:ft:gpt-4o-mini":                    caching("ft:gpt-4o-mini", 12, 2000, 100),
		"prompt_caching:openai:gpt-4.1":                           caching("gpt-4.1", 12, 20000, 1000),
		"openrouter_routing:openai/gpt-4o-mini":                   decimal.RequireFromString("0.00075"), // 0.00375 − 10,000 tokens at 0.0003/1k
		"openrouter_routing:anthropic/claude-3.5-sonnet-20240620": decimal.RequireFromString("0.0075"),  // 0.0375 − 10,000 tokens at 0.003/1k
		"twilio_segment_inflation:sms":                            segPrice.Mul(decimal.NewFromInt(24)),
		"apollo_credit_burn":                                      decimal.Zero,
		"failing_key:apollo":                                      decimal.Zero,
	}
	if len(recs) != len(want) {
		t.Errorf("recommendations %v, want exactly %d", ids, len(want))
	}
	for id, saving := range want {
		r, ok := byID[id]
		if !ok {
			t.Errorf("missing %s (got %v)", id, ids)
			continue
		}
		if !saving.IsPositive() && !strings.HasPrefix(id, "apollo") && !strings.HasPrefix(id, "failing") {
			t.Errorf("%s: test data gives no saving", id)
		}
		if got := decimal.RequireFromString(r.WindowSavingUSD); !got.Equal(saving) {
			t.Errorf("%s: window saving %s, want %s", id, r.WindowSavingUSD, saving)
		}
		if r.MonthlySavingUSD != saving.Round(2).StringFixed(2) {
			t.Errorf("%s: monthly saving %s, want %s", id, r.MonthlySavingUSD, saving.Round(2).StringFixed(2))
		}
	}

	// Not made: idle keys for providers used only under vendor/dated names
	// or only refused; right-sizing of a fine-tune to its base model.
	for _, id := range []string{"idle_key:openrouter", "idle_key:exa", "idle_key:apollo", "model_right_sizing:openai:ft:gpt-4o-mini:chat"} {
		if _, ok := byID[id]; ok {
			t.Errorf("%s made", id)
		}
	}

	// The evidence names the recorded models each stands for.
	models := func(id string) string {
		var out []string
		for _, m := range byID[id].Evidence["models"].([]any) {
			mm := m.(map[string]any)
			out = append(out, fmt.Sprintf("%s×%v", mm["model"], mm["calls"]))
		}
		return strings.Join(out, " ")
	}
	for id, wantModels := range map[string]string{
		"model_right_sizing:openai:gpt-4o:chat":                   "gpt-4o×6 gpt-4o-2024-08-06×6",
		"model_right_sizing:openrouter:openai/gpt-4o:chat":        "openai/gpt-4o×5 openai/gpt-4o-2024-08-06×5",
		"prompt_caching:openai:ft:gpt-4o-mini":                    "ft:gpt-4o-mini-2024-07-18:acme::abc123×6 ft:gpt-4o-mini-2024-07-18:acme:support:def456×6",
		"openrouter_routing:openai/gpt-4o-mini":                   "openai/gpt-4o-mini×5 openai/gpt-4o-mini-2024-07-18×5",
		"openrouter_routing:anthropic/claude-3.5-sonnet-20240620": "Anthropic/Claude-3.5-Sonnet-20240620×5 anthropic/claude-3.5-sonnet-20240620×5",
	} {
		if got := models(id); got != wantModels {
			t.Errorf("%s: models %s, want %s", id, got, wantModels)
		}
	}
	if ev := byID["model_right_sizing:openai:gpt-4o:chat"].Evidence; ev["calls"] != float64(12) || ev["avgOutputTokens"] != "20" {
		t.Errorf("right-sizing counted the refusals: %v", ev)
	}
	if ev := byID["model_right_sizing:openai:gpt-4o-2024-05-13:chat"].Evidence; ev["alternativeModel"] != "gpt-4o-mini" {
		t.Errorf("pinned snapshot: %v", ev)
	}
	if ev := byID["openrouter_routing:openai/gpt-4o-mini"].Evidence; ev["cheapestUsdPer1kTokens"] != "0.0003" || ev["dearestUsdPer1kTokens"] != "0.00045" {
		t.Errorf("routing evidence %v", ev)
	}
	if ev := byID["twilio_segment_inflation:sms"].Evidence; ev["messages"] != float64(12) || ev["usdPerSegment"] != segPrice.String() {
		t.Errorf("twilio counted refused messages: %v", ev)
	}
	if ev := byID["apollo_credit_burn"].Evidence; ev["creditsInWindow"] != "80" || ev["projectedExhaustion"] != to.Add(15*24*time.Hour).Format(time.RFC3339) {
		t.Errorf("apollo counted refused calls: %v", ev)
	}

	// The model filter finds a recommendation by its model, whatever name
	// the calls were recorded under, and by any of those names.
	for _, q := range [][]string{
		{"provider", "openai", "model", "gpt-4o"},
		{"provider", "openai", "model", "gpt-4o-2024-08-06"},
		{"provider", "openai", "model", "GPT-4o-2024-11-20"},
	} {
		recs, _ := recommendations(t, ta, viewer, append([]string{"from", rfc(from), "to", rfc(to)}, q...)...)
		if len(recs) != 1 || recs[0].ID != "model_right_sizing:openai:gpt-4o:chat" {
			t.Errorf("filter %v: %+v", q, recs)
		}
	}
	recs, _ = recommendations(t, ta, viewer, "from", rfc(from), "to", rfc(to), "provider", "openrouter", "model", "openai/gpt-4o-mini-2024-07-18")
	if len(recs) != 1 || recs[0].ID != "openrouter_routing:openai/gpt-4o-mini" {
		t.Errorf("openrouter filter: %+v", recs)
	}
	recs, _ = recommendations(t, ta, viewer, "from", rfc(from), "to", rfc(to), "model", "ft:gpt-4o-mini-2024-07-18:acme::abc123")
	if len(recs) != 1 || recs[0].ID != "prompt_caching:openai:ft:gpt-4o-mini" {
		t.Errorf("fine-tune filter: %+v", recs)
	}
}

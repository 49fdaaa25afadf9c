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

// seedUnits inserts calls with usage_units, which seedCall has no field
// for: Twilio segments and Apollo credits live there.
func (ta *testAPI) seedUnits(units map[string]uint64, calls ...seedCall) {
	ta.t.Helper()
	ctx := context.Background()
	b, err := ta.store.PrepareBatch(ctx, "api_calls", []string{
		"timestamp", "duration_ns", "service", "environment", "provider", "operation", "model",
		"status", "input_tokens", "output_tokens", "cached_input_tokens", "usage_units",
		"cost_usd", "cost_status", "trace_id", "span_id",
	})
	if err != nil {
		ta.t.Fatal(err)
	}
	for i, c := range calls {
		if c.Status == "" {
			c.Status = "ok"
		}
		var cost any
		status := "unpriced"
		if c.Cost != "" {
			d := decimal.RequireFromString(c.Cost)
			cost, status = &d, "computed"
		}
		id := fmt.Sprintf("%016x", c.At.UnixNano()+int64(i))
		if err := b.Append(c.At.UTC(), uint64(100*time.Millisecond), c.Service, c.Environment, c.Provider, c.Operation, c.Model,
			c.Status, c.Input, c.Output, c.Cached, units, cost, status, hex.EncodeToString([]byte(id)), id); err != nil {
			ta.t.Fatal(err)
		}
	}
	if err := b.Send(ctx); err != nil {
		ta.t.Fatal(err)
	}
}

// many repeats c n times, a second apart from at.
func many(n int, at time.Time, c seedCall) []seedCall {
	out := make([]seedCall, n)
	for i := range out {
		c.At = at.Add(time.Duration(i) * time.Second)
		out[i] = c
	}
	return out
}

// catalogPrice is the catalog's price of one unit (tokens: per million)
// for a model or operation, read through pricing's public API.
func catalogPrice(t *testing.T, prov, model, op string, u pricing.Unit) decimal.Decimal {
	t.Helper()
	cat, err := pricing.Default()
	if err != nil {
		t.Fatal(err)
	}
	var usage pricing.Usage
	q := int64(1)
	if u.PerMillion() {
		q = 1_000_000
	}
	usage[u] = q
	if u == pricing.CachedInputTokens {
		usage[pricing.InputTokens] = q
	}
	r := cat.Price(prov, model, op, "", time.Now(), &usage)
	if r.Status != pricing.Computed {
		t.Fatalf("no catalog price of %s for %s %s%s: %s", u, prov, model, op, r.Detail())
	}
	return decimal.New(int64(r.Cost), -pricing.Scale)
}

type recOut struct {
	ID               string         `json:"id"`
	Kind             string         `json:"kind"`
	Provider         string         `json:"provider"`
	Model            string         `json:"model"`
	WindowSavingUSD  string         `json:"windowSavingUsd"`
	MonthlySavingUSD string         `json:"monthlySavingUsd"`
	Evidence         map[string]any `json:"evidence"`
	Confidence       string         `json:"confidence"`
	ConfidenceNote   string         `json:"confidenceNote"`
}

func recommendations(t *testing.T, ta *testAPI, key string, kv ...string) ([]recOut, envelope) {
	t.Helper()
	e := ta.do("GET", costQuery("/api/v1/insights/recommendations", kv...), key, nil)
	if e.status != 200 {
		t.Fatalf("recommendations %v: %d %+v", kv, e.status, e.Error)
	}
	var d struct {
		Recommendations []recOut `json:"recommendations"`
	}
	e.decode(t, &d)
	return d.Recommendations, e
}

func TestInsightRecommendations(t *testing.T) {
	ta := startAPI(t, freshDB("api_insights"), func(c *Config) {
		c.Providers.Exa.APIKey = "exa-key"          // configured, never called: idle
		c.Providers.OpenAI.APIKey = "sk-used"       // configured and called: not idle
		c.Providers.Twilio.AccountSID = "AC0123456" // configured, called, key failing
	})
	viewer := ta.key("viewer")
	base := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -25)
	from, to := base, base.Add(30*24*time.Hour)
	d := func(day, hour int) time.Time {
		return base.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour)
	}

	// Right-sizing: gpt-4o chat, 20 calls averaging 20 output tokens.
	ta.seed(many(20, d(1, 9), seedCall{Provider: "openai", Model: "gpt-4o", Operation: "chat", Input: 300, Output: 20, Cost: "0.00095"})...)
	// Not: gpt-4o-mini has no cheaper pair; o3 has too few calls;
	// gpt-4o embeddings are not a simple operation.
	ta.seed(many(20, d(2, 9), seedCall{Provider: "openai", Model: "gpt-4o-mini", Operation: "chat", Input: 2000, Cached: 1500, Output: 10, Cost: "0.0001"})...)
	ta.seed(many(5, d(2, 10), seedCall{Provider: "openai", Model: "o3", Operation: "chat", Input: 100, Output: 5, Cost: "0.0003"})...)
	ta.seed(many(20, d(2, 11), seedCall{Provider: "openai", Model: "gpt-4o", Operation: "embeddings", Input: 100, Output: 0, Cost: "0.00025"})...)
	// Prompt caching: gpt-4.1, 20 long prompts 5% cached, long outputs
	// (so not a right-sizing candidate).
	ta.seed(many(20, d(3, 9), seedCall{Provider: "openai", Model: "gpt-4.1", Operation: "chat", Input: 20000, Cached: 1000, Output: 400, Cost: "0.04"})...)
	// OpenRouter: one model at two prices 50% apart; another within 5%.
	ta.seed(many(5, d(4, 9), seedCall{Provider: "openrouter", Model: "anthropic/claude-3.5-sonnet", Operation: "chat", Input: 800, Output: 200, Cost: "0.003"})...)
	ta.seed(many(5, d(4, 10), seedCall{Provider: "openrouter", Model: "anthropic/claude-3.5-sonnet", Operation: "chat", Input: 800, Output: 200, Cost: "0.0045"})...)
	ta.seed(many(5, d(4, 11), seedCall{Provider: "openrouter", Model: "meta-llama/llama-3-70b", Operation: "chat", Input: 800, Output: 200, Cost: "0.001"})...)
	ta.seed(many(5, d(4, 12), seedCall{Provider: "openrouter", Model: "meta-llama/llama-3-70b", Operation: "chat", Input: 800, Output: 200, Cost: "0.00105"})...)
	// Twilio: sms at 3 segments a message; sms_otp at one.
	segPrice := catalogPrice(t, "twilio", "", "sms", pricing.SMSSegments)
	ta.seedUnits(map[string]uint64{"sms_segments": 3}, many(12, d(5, 9), seedCall{Provider: "twilio", Operation: "sms", Cost: segPrice.Mul(decimal.NewFromInt(3)).String()})...)
	ta.seedUnits(map[string]uint64{"sms_segments": 1}, many(12, d(5, 10), seedCall{Provider: "twilio", Operation: "sms_otp", Cost: segPrice.String()})...)
	// Apollo: 30 calls reporting 2 credits, 20 relying on the catalog's 1;
	// 40 credits left → 15 days at 80 credits per 30 days.
	ta.seedUnits(map[string]uint64{"credits": 2}, many(30, d(6, 9), seedCall{Provider: "apollo", Operation: "people/match", Cost: "0.4"})...)
	ta.seedUnits(nil, many(20, d(6, 10), seedCall{Provider: "apollo", Operation: "organizations/enrich", Cost: "0.2"})...)
	ta.gauge(d(7, 0), "apollo", "credits_remaining", "", 40)
	// Twilio's key has failed auth for 2 days and 1 hour; OpenRouter's
	// recovered in between, so its last streak is short.
	ta.health(d(1, 0), "twilio", true, "ok")
	ta.health(d(2, 0), "twilio", false, "auth_failed")
	ta.health(d(3, 0), "twilio", false, "auth_failed")
	ta.health(d(4, 1), "twilio", false, "auth_failed")
	ta.health(d(5, 0), "openrouter", false, "auth_failed")
	ta.health(d(8, 0), "openrouter", true, "ok")
	ta.health(d(9, 0), "openrouter", false, "auth_failed")

	recs, e := recommendations(t, ta, viewer, "from", rfc(from), "to", rfc(to))
	byID := map[string]recOut{}
	var ids []string
	for _, r := range recs {
		byID[r.ID] = r
		ids = append(ids, r.ID)
		if len(r.Evidence) == 0 || r.Confidence == "" || r.ConfidenceNote == "" {
			t.Errorf("%s without evidence or confidence: %+v", r.ID, r)
		}
	}
	want := []string{"model_right_sizing:openai:gpt-4o:chat", "prompt_caching:openai:gpt-4.1", "openrouter_routing:anthropic/claude-3.5-sonnet",
		"twilio_segment_inflation:sms", "apollo_credit_burn", "idle_key:exa", "failing_key:twilio"}
	if len(recs) != len(want) || e.Pagination.Total != int64(len(want)) {
		t.Fatalf("recommendations %v, want exactly %v", ids, want)
	}
	for _, id := range want {
		if _, ok := byID[id]; !ok {
			t.Errorf("missing %s (got %v)", id, ids)
		}
	}

	// Savings, by hand from catalog prices (window is 30 days: monthly = window).
	M := decimal.NewFromInt(1_000_000)
	in4o, out4o := catalogPrice(t, "openai", "gpt-4o", "", pricing.InputTokens), catalogPrice(t, "openai", "gpt-4o", "", pricing.OutputTokens)
	inMini, outMini := catalogPrice(t, "openai", "gpt-4o-mini", "", pricing.InputTokens), catalogPrice(t, "openai", "gpt-4o-mini", "", pricing.OutputTokens)
	rightSizing := decimal.NewFromInt(20 * 300).Mul(in4o.Sub(inMini)).Add(decimal.NewFromInt(20 * 20).Mul(out4o.Sub(outMini))).Div(M)
	in41, cached41 := catalogPrice(t, "openai", "gpt-4.1", "", pricing.InputTokens), catalogPrice(t, "openai", "gpt-4.1", "", pricing.CachedInputTokens)
	// Half of 400,000 input tokens cached instead of the 20,000 that were.
	caching := decimal.NewFromInt(200_000 - 20_000).Mul(in41.Sub(cached41)).Div(M)
	// All 10,000 tokens at the cheapest 0.003 per 1,000.
	routing := decimal.RequireFromString("0.0375").Sub(decimal.RequireFromString("0.03"))
	// 36 segments for 12 messages: 24 extra.
	segments := segPrice.Mul(decimal.NewFromInt(24))
	for id, saving := range map[string]decimal.Decimal{
		"model_right_sizing:openai:gpt-4o:chat":          rightSizing,
		"prompt_caching:openai:gpt-4.1":                  caching,
		"openrouter_routing:anthropic/claude-3.5-sonnet": routing,
		"twilio_segment_inflation:sms":                   segments,
		"apollo_credit_burn":                             decimal.Zero,
		"idle_key:exa":                                   decimal.Zero,
		"failing_key:twilio":                             decimal.Zero,
	} {
		r := byID[id]
		if got := decimal.RequireFromString(r.WindowSavingUSD); !got.Equal(saving) {
			t.Errorf("%s: window saving %s, want %s", id, r.WindowSavingUSD, saving)
		}
		if r.MonthlySavingUSD != saving.Round(2).StringFixed(2) {
			t.Errorf("%s: monthly saving %s, want %s", id, r.MonthlySavingUSD, saving.Round(2).StringFixed(2))
		}
	}
	if !rightSizing.IsPositive() || !caching.IsPositive() {
		t.Fatalf("test data gives no saving: %s %s", rightSizing, caching)
	}
	// Biggest saving first.
	for i := 1; i < len(recs); i++ {
		if decimal.RequireFromString(recs[i].WindowSavingUSD).GreaterThan(decimal.RequireFromString(recs[i-1].WindowSavingUSD)) {
			t.Errorf("not sorted by saving: %v", ids)
		}
	}

	// Evidence carries the figures.
	rs := byID["model_right_sizing:openai:gpt-4o:chat"].Evidence
	if rs["calls"] != float64(20) || rs["avgOutputTokens"] != "20" || rs["alternativeModel"] != "gpt-4o-mini" {
		t.Errorf("right-sizing evidence %v", rs)
	}
	if ev := byID["prompt_caching:openai:gpt-4.1"].Evidence; ev["cachedShare"] != "0.05" || ev["additionalCachedTokens"] != "180000" {
		t.Errorf("caching evidence %v", ev)
	}
	if ev := byID["openrouter_routing:anthropic/claude-3.5-sonnet"].Evidence; ev["cheapestUsdPer1kTokens"] != "0.003" || ev["dearestUsdPer1kTokens"] != "0.0045" {
		t.Errorf("routing evidence %v", ev)
	}
	if ev := byID["twilio_segment_inflation:sms"].Evidence; ev["segmentsPerMessage"] != "3" || ev["extraSegments"] != float64(24) {
		t.Errorf("twilio evidence %v", ev)
	}
	ap := byID["apollo_credit_burn"].Evidence
	if ap["creditsInWindow"] != "80" || ap["remainingCredits"] != "40" || ap["projectedExhaustion"] != to.Add(15*24*time.Hour).Format(time.RFC3339) {
		t.Errorf("apollo evidence %v", ap)
	}
	if eps := ap["endpoints"].([]any); len(eps) != 2 || eps[0].(map[string]any)["operation"] != "people/match" ||
		eps[1].(map[string]any)["credits"] != "20" {
		t.Errorf("apollo endpoints %v", eps)
	}
	if ev := byID["failing_key:twilio"].Evidence; ev["failedChecks"] != float64(3) || ev["failingFor"] != "49h0m0s" {
		t.Errorf("failing key evidence %v", ev)
	}

	// A 60-day window holding the same calls halves the monthly figure.
	recs, _ = recommendations(t, ta, viewer, "from", rfc(from.Add(-30*24*time.Hour)), "to", rfc(to), "kind", "twilio_segment_inflation")
	if len(recs) != 1 || recs[0].MonthlySavingUSD != segments.Div(decimal.NewFromInt(2)).Round(2).StringFixed(2) {
		t.Errorf("60-day window: %+v", recs)
	}
	// Filters narrow the traffic; key checks are per provider, not per model.
	recs, _ = recommendations(t, ta, viewer, "from", rfc(from), "to", rfc(to), "provider", "openai", "model", "gpt-4.1")
	if len(recs) != 1 || recs[0].ID != "prompt_caching:openai:gpt-4.1" {
		t.Errorf("model filter: %+v", recs)
	}
	// Pagination over the sorted list.
	recs, e = recommendations(t, ta, viewer, "from", rfc(from), "to", rfc(to), "limit", "2", "page", "2")
	if len(recs) != 2 || e.Pagination.Total != 7 || e.Pagination.TotalPages != 4 {
		t.Errorf("page 2: %d recs, %+v", len(recs), e.Pagination)
	}
}

// TestInsightRecommendationsQuiet: traffic that crosses no threshold, and
// a window before any of it, give no recommendation.
func TestInsightRecommendationsQuiet(t *testing.T) {
	ta := startAPI(t, freshDB("api_insights_quiet"), func(c *Config) {
		c.Insights.ApolloCredits.PlanCredits = 1000
	})
	viewer := ta.key("viewer")
	base := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -10)
	ta.seed(many(20, base, seedCall{Provider: "openai", Model: "gpt-4o", Operation: "chat", Input: 3000, Cached: 2500, Output: 300, Cost: "0.01"})...)
	ta.seedUnits(map[string]uint64{"sms_segments": 1}, many(20, base, seedCall{Provider: "twilio", Operation: "sms", Cost: "0.0079"})...)
	// 20 credits in 10 days against 1000 a month: lasts far beyond 30 days.
	ta.seedUnits(map[string]uint64{"credits": 1}, many(20, base, seedCall{Provider: "apollo", Operation: "people/match", Cost: "0.2"})...)
	ta.health(base, "apollo", false, "auth_failed")
	ta.health(base.Add(24*time.Hour), "apollo", false, "auth_failed")
	recs, _ := recommendations(t, ta, viewer, "from", rfc(base.Add(-24*time.Hour)), "to", rfc(base.Add(10*24*time.Hour)))
	if len(recs) != 0 {
		t.Errorf("quiet traffic: %+v", recs)
	}
	// A 25-credit plan with 20 spent this month runs out within days.
	cfgPlan := ta.api.cfg.Insights.ApolloCredits
	ta.api.cfg.Insights.ApolloCredits.PlanCredits = 25
	recs, _ = recommendations(t, ta, viewer, "from", rfc(base.Add(-24*time.Hour)), "to", rfc(base.Add(10*24*time.Hour)), "kind", "apollo_credit_burn")
	ta.api.cfg.Insights.ApolloCredits = cfgPlan
	// Credits count from the first of to's UTC month: the calls are before
	// it when the window spans a month end.
	want := "5"
	if base.Add(10*24*time.Hour).Month() != base.Month() {
		want = "25"
	}
	if len(recs) != 1 || recs[0].Evidence["remainingCredits"] != want {
		t.Errorf("plan nearly spent: %+v", recs)
	}
}

func TestInsightErrors(t *testing.T) {
	ta := startAPI(t, freshDB("api_insights_err"), nil)
	viewer := ta.key("viewer")
	for _, path := range []string{"/api/v1/insights/recommendations", "/api/v1/insights/trends"} {
		if e := ta.do("GET", path, "", nil); e.status != 401 || e.Error.Code != "UNAUTHORIZED" {
			t.Errorf("%s without key: %d", path, e.status)
		}
		if e := ta.do("GET", path, "nxs_not_a_key", nil); e.status != 401 {
			t.Errorf("%s bad key: %d", path, e.status)
		}
	}
	for _, c := range []struct {
		path   string
		fields []string
	}{
		{"/api/v1/insights/recommendations?kind=magic&from=yesterday&limit=0", []string{"from", "limit", "kind"}},
		{"/api/v1/insights/recommendations?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", []string{"to"}},
		{"/api/v1/insights/trends?at=soon&period=month&sort=vibes", []string{"at", "period", "sort"}},
		{"/api/v1/insights/trends?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&page=0", []string{"from", "to", "page"}},
	} {
		e := ta.do("GET", c.path, viewer, nil)
		if e.status != 400 || e.Error.Code != "VALIDATION_ERROR" {
			t.Errorf("%s: %d", c.path, e.status)
			continue
		}
		var got []string
		for _, d := range e.Error.Details {
			got = append(got, d.Field)
		}
		if strings.Join(got, ",") != strings.Join(c.fields, ",") {
			t.Errorf("%s: fields %v, want %v", c.path, got, c.fields)
		}
	}
}

type trendOut struct {
	Period   string `json:"period"`
	Current  struct{ From, To string }
	Previous struct{ From, To string }
	Rows     []struct {
		Provider  string         `json:"provider"`
		Model     string         `json:"model"`
		Spend     map[string]any `json:"spendUsd"`
		Calls     map[string]any `json:"calls"`
		ErrorRate map[string]any `json:"errorRatePct"`
		P95       map[string]any `json:"p95LatencyMs"`
	} `json:"rows"`
}

func trends(t *testing.T, ta *testAPI, key string, kv ...string) trendOut {
	t.Helper()
	e := ta.do("GET", costQuery("/api/v1/insights/trends", kv...), key, nil)
	if e.status != 200 {
		t.Fatalf("trends %v: %d %+v", kv, e.status, e.Error)
	}
	var out trendOut
	e.decode(t, &out)
	return out
}

// metric is want as "current previous delta change new", nulls as "-".
func metric(m map[string]any) string {
	s := func(k string) string {
		if m[k] == nil {
			return "-"
		}
		return fmt.Sprint(m[k])
	}
	return strings.Join([]string{s("current"), s("previous"), s("delta"), s("change"), s("new")}, " ")
}

func TestInsightTrends(t *testing.T) {
	ta := startAPI(t, freshDB("api_insights_trends"), nil)
	viewer := ta.key("viewer")
	T := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
	day := 24 * time.Hour
	// gpt-4o: 4 calls last week ($4); 5 this week ($4.50), one an error.
	ta.seed(many(4, T.Add(-10*day), seedCall{Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "1"})...)
	ta.seed(many(2, T.Add(-2*day), seedCall{Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "0.75"})...)
	ta.seed(many(2, T.Add(-day), seedCall{Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "1"})...)
	ta.seed(seedCall{At: T.Add(-day + time.Hour), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "1", Status: "error"})
	// New this week: exa, and openrouter on the period's first instant.
	ta.seed(many(2, T.Add(-3*day), seedCall{Provider: "exa", Operation: "search", Cost: "0.01"})...)
	ta.seed(seedCall{At: T.Add(-7 * day), Provider: "openrouter", Model: "openai/gpt-4o", Operation: "chat", Cost: "0.2"})
	// Gone this week: twilio.
	ta.seed(many(3, T.Add(-8*day), seedCall{Provider: "twilio", Operation: "sms", Cost: "0.0079"})...)
	// After the period's end (at is truncated to T): not counted.
	ta.seed(seedCall{At: T, Provider: "apollo", Operation: "people/match", Cost: "0.2"},
		seedCall{At: T.Add(time.Hour), Provider: "apollo", Operation: "people/match", Cost: "0.2"})

	at := rfc(T.Add(13*time.Hour + 30*time.Minute))
	got := trends(t, ta, viewer, "at", at)
	if got.Period != "week" || got.Current.From != T.Add(-7*day).Format(time.RFC3339) || got.Current.To != T.Format(time.RFC3339) ||
		got.Previous.From != T.Add(-14*day).Format(time.RFC3339) {
		t.Errorf("periods %+v %+v", got.Current, got.Previous)
	}
	var order []string
	rows := map[string]int{}
	for i, r := range got.Rows {
		order = append(order, r.Provider+"/"+r.Model)
		rows[r.Provider] = i
	}
	if strings.Join(order, ",") != "openai/gpt-4o,openrouter/openai/gpt-4o,twilio/,exa/" {
		t.Fatalf("order %v", order)
	}
	oa := got.Rows[rows["openai"]]
	for name, c := range map[string][2]string{
		"spend":     {metric(oa.Spend), "4.5 4 0.5 12.5 false"},
		"calls":     {metric(oa.Calls), "5 4 1 25 false"},
		"errorRate": {metric(oa.ErrorRate), "20 0 20 - true"},
	} {
		if c[0] != c[1] {
			t.Errorf("openai %s: %s, want %s", name, c[0], c[1])
		}
	}
	if oa.P95["current"] == nil || oa.P95["previous"] == nil || oa.P95["change"] == nil {
		t.Errorf("openai p95 %v", oa.P95)
	}
	if m := metric(got.Rows[rows["exa"]].Spend); m != "0.02 0 0.02 - true" {
		t.Errorf("exa spend %s", m)
	}
	if m := metric(got.Rows[rows["exa"]].ErrorRate); m != "0 - - - false" {
		t.Errorf("exa error rate %s", m)
	}
	if m := metric(got.Rows[rows["twilio"]].Spend); m != "0 0.0237 -0.0237 -100 false" {
		t.Errorf("twilio spend %s", m)
	}
	if m := metric(got.Rows[rows["twilio"]].P95); m != "- "+fmt.Sprint(got.Rows[rows["twilio"]].P95["previous"])+" - - false" {
		t.Errorf("twilio p95 %s", m)
	}

	// Day over day: T-1 against T-2.
	got = trends(t, ta, viewer, "at", at, "period", "day", "provider", "openai")
	if len(got.Rows) != 1 {
		t.Fatalf("day rows %+v", got.Rows)
	}
	r := got.Rows[0]
	if m := metric(r.Spend); m != "3 1.5 1.5 100 false" {
		t.Errorf("day spend %s", m)
	}
	if m := metric(r.Calls); m != "3 2 1 50 false" {
		t.Errorf("day calls %s", m)
	}
	if m := metric(r.ErrorRate); m != "33.3333 0 33.3333 - true" {
		t.Errorf("day error rate %s", m)
	}
	// By calls: twilio's −3 outranks openai's +1.
	got = trends(t, ta, viewer, "at", at, "sort", "calls")
	if got.Rows[0].Provider != "twilio" {
		t.Errorf("sort=calls: first %s", got.Rows[0].Provider)
	}
	// A week with nothing in either period: no rows, no division.
	got = trends(t, ta, viewer, "at", rfc(T.Add(-60*day)))
	if len(got.Rows) != 0 {
		t.Errorf("empty weeks: %+v", got.Rows)
	}
}

// TestInsightsConfig: thresholds are validated naming their keys, and the
// default model pairs are all priced.
func TestInsightsConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	if err := cfg.Insights.ValidateUnder("insights."); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c := defaultInsightsConfig()
	c.MinCalls = 0
	c.PromptCaching.MaxCachedShare = 1.5
	c.RightSizing.Models = map[string]string{"gpt-4o": "gpt-9", "o3": "openai/o4-mini"}
	c.Keys.FailingFor = 0
	err := c.ValidateUnder("insights.")
	for _, want := range []string{"insights.min_calls", "insights.prompt_caching.max_cached_share", "insights.right_sizing.models.gpt-4o: gpt-9",
		"insights.right_sizing.models.o3", "insights.keys.failing_for"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

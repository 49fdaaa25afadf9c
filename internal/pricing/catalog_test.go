package pricing

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestOverridesReplaceFromLaterDate(t *testing.T) {
	base := mustDefault(t)
	// The processor README's example: gpt-4o from 2027-01-01 at $2/$1/$8.
	c, err := base.With(Overrides{Models: []Entry{{
		Provider: "openai", Model: "gpt-4o", Effective: "2027-01-01",
		Prices: map[string]string{"input_tokens": "2.00", "cached_input_tokens": "1.00", "output_tokens": "8.00"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	u := Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 100}
	runPriceCases(t, c, []priceCase{
		// Before: 200 × 2.50/1M + 800 × 1.25/1M + 100 × 10/1M = 0.0025.
		{name: "before override", provider: "openai", model: "gpt-4o", at: day(2026, 12, 31), u: u, want: "0.0025"},
		// After: 200 × 2/1M + 800 × 1/1M + 100 × 8/1M = 0.0004 + 0.0008 + 0.0008.
		{name: "after override", provider: "openai", model: "gpt-4o-2024-08-06", at: day(2027, 1, 2), u: u, want: "0.002"},
		// History is untouched: the launch price still applies in 2024-06.
		{name: "history kept", provider: "openai", model: "gpt-4o", at: day(2024, 6, 1), u: Usage{InputTokens: 1000}, want: "0.005"},
	})
	// The base catalog is unchanged.
	if r := base.Price("openai", "gpt-4o", "", "", day(2027, 1, 2), &u); r.Cost != usd(t, "0.0025") {
		t.Errorf("base catalog changed: %s", r.Cost)
	}
}

func TestOverridesReplaceSameDate(t *testing.T) {
	c, err := mustDefault(t).With(Overrides{Models: []Entry{{
		Provider: "OpenAI", Model: "GPT-4o", Effective: "2024-08-06",
		Prices: map[string]string{"input_tokens": "3", "output_tokens": "12"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	// 1000 × 3/1M + 100 × 12/1M = 0.003 + 0.0012.
	r := c.Price("openai", "gpt-4o", "", "", day(2025, 1, 1), &Usage{InputTokens: 1000, OutputTokens: 100})
	if r.Status != Computed || r.Cost != usd(t, "0.0042") {
		t.Fatalf("%s %s %s", r.Status, r.Cost, r.Detail())
	}
	// The replaced list had a cached price; the override does not.
	r = c.Price("openai", "gpt-4o", "", "", day(2025, 1, 1), &Usage{InputTokens: 1000, CachedInputTokens: 1})
	if r.Reason != ReasonUnitNotPriced {
		t.Fatalf("%s %q", r.Status, r.Reason)
	}
	n := 0
	for _, e := range c.Entries() {
		if e.Provider == "openai" && e.Model == "gpt-4o" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d gpt-4o entries, want 2 (one replaced)", n)
	}
}

func TestOverridesAddModel(t *testing.T) {
	c, err := mustDefault(t).With(Overrides{Models: []Entry{{
		Provider: "openai", Model: "ft:gpt-4o-mini:acme", Effective: "2026-01-01",
		Prices: map[string]string{"input_tokens": "0.30", "output_tokens": "1.20"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	// 1000 × 0.30/1M + 1000 × 1.20/1M = 0.0015.
	r := c.Price("openai", "ft:gpt-4o-mini:acme", "", "", day(2026, 2, 1), &Usage{InputTokens: 1000, OutputTokens: 1000})
	if r.Status != Computed || r.Cost != usd(t, "0.0015") || r.Model != "ft:gpt-4o-mini:acme" {
		t.Fatalf("%s %s %s", r.Status, r.Cost, r.Model)
	}
}

func TestOverridesVersion(t *testing.T) {
	base := mustDefault(t)
	o := func(price string) Overrides {
		return Overrides{Models: []Entry{{Provider: "openai", Model: "x", Effective: "2026-01-01",
			Prices: map[string]string{"input_tokens": price}}}}
	}
	a, err := base.With(o("2.5"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := base.With(o("2.50"))
	d, _ := base.With(o("2.6"))
	if !strings.HasPrefix(a.Version(), "2026-12-07+cfg.") || len(a.Version()) != len("2026-12-07+cfg.")+8 {
		t.Errorf("version %q", a.Version())
	}
	if a.Version() != b.Version() {
		t.Errorf("same prices, different versions: %q %q", a.Version(), b.Version())
	}
	if a.Version() == d.Version() {
		t.Errorf("different prices, same version %q", a.Version())
	}
	if same, _ := base.With(Overrides{}); same != base {
		t.Error("empty overrides must keep the catalog")
	}
	r, _ := base.With(Overrides{ApolloUSDPerCredit: "0.03"})
	if r.Version() == base.Version() {
		t.Error("a rate override must change the version")
	}
}

func TestOverridesRefused(t *testing.T) {
	ok := map[string]string{"input_tokens": "1"}
	cases := []struct {
		name string
		o    Overrides
		want []string
	}{
		{"not a decimal", Overrides{Models: []Entry{
			{Provider: "openai", Model: "gpt-4o", Effective: "2026-01-01", Prices: ok},
			{Provider: "openai", Model: "gpt-x", Effective: "2026-01-01", Prices: map[string]string{"input_tokens": "abc"}},
		}}, []string{`pricing.models[1].prices.input_tokens: "abc" is not a decimal amount`}},
		{"bad date", Overrides{Models: []Entry{{Provider: "openai", Model: "m", Effective: "2026-13-01", Prices: ok}}},
			[]string{`pricing.models[0]: effective date "2026-13-01" is not YYYY-MM-DD`}},
		{"no date", Overrides{Models: []Entry{{Provider: "openai", Model: "m", Prices: ok}}},
			[]string{`pricing.models[0]: missing effective date`}},
		{"no provider", Overrides{Models: []Entry{{Model: "m", Effective: "2026-01-01", Prices: ok}}},
			[]string{`pricing.models[0]: missing provider`}},
		{"unknown provider", Overrides{Models: []Entry{{Provider: "anthropic", Model: "m", Effective: "2026-01-01", Prices: ok}}},
			[]string{`pricing.models[0]: unknown provider "anthropic"`}},
		{"unknown unit", Overrides{Models: []Entry{{Provider: "openai", Model: "m", Effective: "2026-01-01",
			Prices: map[string]string{"tokens": "1"}}}},
			[]string{`pricing.models[0].prices.tokens: unknown unit (one of input_tokens, cached_input_tokens`}},
		{"negative", Overrides{Models: []Entry{{Provider: "openai", Model: "m", Effective: "2026-01-01",
			Prices: map[string]string{"output_tokens": "-1"}}}},
			[]string{`pricing.models[0].prices.output_tokens: negative price "-1"`}},
		{"too precise", Overrides{Models: []Entry{{Provider: "openai", Model: "m", Effective: "2026-01-01",
			Prices: map[string]string{"input_tokens": "0.0000000000001"}}}},
			[]string{`pricing.models[0].prices.input_tokens: "0.0000000000001" has more than 12 fractional digits`}},
		{"too large", Overrides{Models: []Entry{{Provider: "openai", Model: "m", Effective: "2026-01-01",
			Prices: map[string]string{"input_tokens": "1000000"}}}},
			[]string{`pricing.models[0].prices.input_tokens: price "1000000" is out of range`}},
		{"no prices", Overrides{Models: []Entry{{Provider: "openai", Model: "m", Effective: "2026-01-01"}}},
			[]string{`pricing.models[0]: no prices`}},
		{"no model", Overrides{Models: []Entry{{Provider: "openai", Effective: "2026-01-01", Prices: ok}}},
			[]string{`pricing.models[0]: missing model`}},
		{"operation on openai", Overrides{Models: []Entry{{Provider: "openai", Model: "m", Operation: "chat", Effective: "2026-01-01", Prices: ok}}},
			[]string{`pricing.models[0]: operation "chat" is not used for openai prices`}},
		{"no operation", Overrides{Models: []Entry{{Provider: "exa", Effective: "2026-01-01", Prices: map[string]string{"request": "0.005"}}}},
			[]string{`pricing.models[0]: missing operation`}},
		{"country off twilio", Overrides{Models: []Entry{{Provider: "openai", Model: "m", Country: "US", Effective: "2026-01-01", Prices: ok}}},
			[]string{`pricing.models[0]: country is only used for twilio prices`}},
		{"bad country", Overrides{Models: []Entry{{Provider: "twilio", Operation: "sms", Country: "USA", Effective: "2026-01-01",
			Prices: map[string]string{"sms_segment": "0.01"}}}},
			[]string{`pricing.models[0]: country "USA" is not an ISO 3166 two-letter code`}},
		{"duplicate", Overrides{Models: []Entry{
			{Provider: "openai", Model: "m", Effective: "2026-01-01", Prices: ok},
			{Provider: "openai", Model: "M", Effective: "2026-01-01", Prices: ok},
		}}, []string{`pricing.models[1]: same openai "m" effective 2026-01-01 as pricing.models[0]`}},
		{"apollo endpoint with prices", Overrides{Models: []Entry{{Provider: "apollo", Operation: "people/match", Effective: "2026-01-01",
			Prices: map[string]string{"credit": "1"}}}},
			[]string{`pricing.models[0]: apollo endpoint "people/match": give credits (per call), not prices`}},
		{"apollo endpoint without credits", Overrides{Models: []Entry{{Provider: "apollo", Operation: "people/match", Effective: "2026-01-01"}}},
			[]string{`pricing.models[0]: apollo endpoint "people/match": missing credits`}},
		{"apollo bad credits", Overrides{Models: []Entry{{Provider: "apollo", Operation: "people/match", Effective: "2026-01-01", Credits: "one"}}},
			[]string{`pricing.models[0].credits: "one" is not a decimal amount`}},
		{"apollo rate with other units", Overrides{Models: []Entry{{Provider: "apollo", Effective: "2026-01-01",
			Prices: map[string]string{"credit": "0.1", "request": "1"}}}},
			[]string{`pricing.models[0]: the apollo entry without operation must give exactly prices.credit`}},
		{"credits off apollo", Overrides{Models: []Entry{{Provider: "exa", Operation: "search", Effective: "2026-01-01", Credits: "1",
			Prices: map[string]string{"request": "1"}}}},
			[]string{`pricing.models[0]: credits is only used for apollo endpoints`}},
		{"apollo rate", Overrides{ApolloUSDPerCredit: "x"},
			[]string{`pricing.apollo_usd_per_credit: "x" is not a decimal amount`}},
		{"apollo negative rate", Overrides{ApolloUSDPerCredit: "-0.2"},
			[]string{`pricing.apollo_usd_per_credit: negative price "-0.2"`}},
		{"every error at once", Overrides{ApolloUSDPerCredit: "x", Models: []Entry{
			{Provider: "openai", Model: "a", Effective: "2026-02-30", Prices: ok},
			{Provider: "openai", Model: "b", Effective: "2026-01-01", Prices: map[string]string{"input_tokens": "1", "output_tokens": "y", "bogus": "1"}},
		}}, []string{
			`pricing.models[0]: effective date "2026-02-30" is not YYYY-MM-DD`,
			`pricing.models[1].prices.output_tokens: "y" is not a decimal amount`,
			`pricing.models[1].prices.bogus: unknown unit`,
			`pricing.apollo_usd_per_credit: "x" is not a decimal amount`,
		}},
	}
	base := mustDefault(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := base.With(tc.o)
			if err == nil {
				t.Fatalf("accepted (version %s)", c.Version())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\nlacks\n%s", err, w)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	good := "version: v1\nentries:\n  - {provider: openai, model: m, effective: 2026-01-01, prices: {input_tokens: 2.50}}\n"
	c, err := Load([]byte(good), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Unquoted YAML numbers and dates are read as their text.
	if r := c.Price("openai", "m", "", "", day(2026, 1, 1), &Usage{InputTokens: 1_000_000}); r.Cost != usd(t, "2.5") {
		t.Fatalf("%s %s", r.Status, r.Detail())
	}
	for _, tc := range []struct{ yaml, want string }{
		{"entries: []\n", "t.yaml: missing version"},
		{"version: v1\nentries:\n  - {provider: openai, modle: m}\n", "field modle not found"}, //nolint:misspell // the misspelt key is the test
		{"version: v1\nentries:\n  - {provider: openai, model: m, effective: 2026-01-01, prices: {input_tokens: abc}}\n",
			`t.yaml: entries[0].prices.input_tokens: "abc" is not a decimal amount`},
		{"version: [\n", "t.yaml: yaml"},
	} {
		if _, err := Load([]byte(tc.yaml), "t.yaml"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// TestPriceExactRandom checks Price against exact decimal arithmetic for
// random usage and random prices with up to 12 fractional digits.
func TestPriceExactRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	randPrice := func() string {
		// up to $99.999999999999 per 1M with 12 fractional digits
		return Money(rng.Int64N(100 * int64(USD))).String()
	}
	for i := 0; i < 2000; i++ {
		prices := map[string]string{"input_tokens": randPrice(), "cached_input_tokens": randPrice(),
			"cache_write_tokens": randPrice(), "output_tokens": randPrice()}
		if i%2 == 0 {
			prices["reasoning_tokens"] = randPrice()
		}
		c, err := mustDefault(t).With(Overrides{Models: []Entry{{Provider: "openai", Model: "r", Effective: "2020-01-01", Prices: prices}}})
		if err != nil {
			t.Fatal(err)
		}
		q := func() int64 { return rng.Int64N(5_000_000) }
		u := Usage{InputTokens: q(), CachedInputTokens: q() / 4, CacheWriteTokens: q() / 4, OutputTokens: q(), ReasoningTokens: q() / 2}
		r := c.Price("openai", "r", "", "", day(2025, 1, 1), &u)

		p := func(name string) decimal.Decimal { return decimal.RequireFromString(prices[name]) }
		n := func(v int64) decimal.Decimal { return decimal.NewFromInt(max(v, 0)) }
		reasoningPrice := p("output_tokens")
		if _, ok := prices["reasoning_tokens"]; ok {
			reasoningPrice = p("reasoning_tokens")
		}
		exact := n(u[InputTokens] - u[CachedInputTokens] - u[CacheWriteTokens]).Mul(p("input_tokens")).
			Add(n(u[CachedInputTokens]).Mul(p("cached_input_tokens"))).
			Add(n(u[CacheWriteTokens]).Mul(p("cache_write_tokens"))).
			Add(n(u[OutputTokens] - u[ReasoningTokens]).Mul(p("output_tokens"))).
			Add(n(u[ReasoningTokens]).Mul(reasoningPrice)).
			Shift(-6) // ÷ 1,000,000, exactly
		want := exact.RoundBank(12)
		if r.Status != Computed || !r.Cost.Decimal().Equal(want) {
			t.Fatalf("usage %v prices %v: got %s %s, want %s (exact %s)", u, prices, r.Status, r.Cost, want, exact.String())
		}
	}
}

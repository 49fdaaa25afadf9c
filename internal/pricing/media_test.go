package pricing

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestPriceAudioAndImageTokens(t *testing.T) {
	c := mustDefault(t)
	runPriceCases(t, c, []priceCase{
		{
			// gpt-4o-audio-preview after the 2024-12-17 cut: text $2.50/$10,
			// audio $40/$80 per 1M. 1234 input of which 987 audio, 567
			// output of which 321 audio:
			//   247 × 2.50 =   617.5
			//   987 × 40   = 39480
			//   246 × 10   =  2460
			//   321 × 80   = 25680
			// = 68237.5 / 1M = 0.0682375. Charging the audio tokens as
			// text too would add 987 × 2.50 + 321 × 10.
			name: "audio call", provider: "openai", model: "gpt-4o-audio-preview-2024-12-17", at: day(2025, 1, 15),
			u:    Usage{InputTokens: 1234, InputAudioTokens: 987, OutputTokens: 567, OutputAudioTokens: 321},
			want: "0.0682375", model2: "gpt-4o-audio-preview",
		},
		{
			// The 2024-10-01 snapshot keeps its launch audio price ($100/
			// $200) after the cut: 1000 × 100 + 500 × 200 = 200000 → 0.2.
			name: "audio snapshot keeps its price", provider: "openai", model: "gpt-4o-audio-preview-2024-10-01", at: day(2025, 2, 1),
			u:    Usage{InputTokens: 1000, InputAudioTokens: 1000, OutputTokens: 500, OutputAudioTokens: 500},
			want: "0.2",
		},
		{
			// gpt-4o has no audio price: never priced as text.
			name: "audio without an audio price", provider: "openai", model: "gpt-4o", at: day(2025, 1, 15),
			u: Usage{InputTokens: 1000, InputAudioTokens: 10, OutputTokens: 5}, reason: ReasonUnitNotPriced,
			detail: "openai gpt-4o (prices effective 2024-08-06) has no input_audio_tokens price, but the call used 10",
		},
		{
			name: "output audio without a price", provider: "openai", model: "gpt-4o-transcribe", at: day(2025, 6, 1),
			u: Usage{OutputTokens: 10, OutputAudioTokens: 10}, reason: ReasonUnitNotPriced,
			detail: "has no output_audio_tokens price",
		},
		{
			// gpt-4o-mini-tts: 20 text tokens in at $0.60, 1000 audio out at
			// $12: 12 + 12000 = 12012 → 0.012012.
			name: "speech", provider: "openai", model: "gpt-4o-mini-tts", at: day(2025, 4, 1),
			u:    Usage{InputTokens: 20, OutputTokens: 1000, OutputAudioTokens: 1000},
			want: "0.012012",
		},
		{
			// gpt-image-1: 50 text + 200 image input, 4160 image output:
			//   50 × 5 + 200 × 10 + 4160 × 40 = 250 + 2000 + 166400
			// = 168650 / 1M = 0.16865.
			name: "image call", provider: "openai", model: "gpt-image-1", at: day(2025, 5, 1),
			u:    Usage{InputTokens: 250, InputImageTokens: 200, OutputTokens: 4160, OutputImageTokens: 4160},
			want: "0.16865",
		},
		{
			// Its output tokens reported without saying they are images:
			// text output has no price there.
			name: "image output not told apart", provider: "openai", model: "gpt-image-1", at: day(2025, 5, 1),
			u: Usage{InputTokens: 250, OutputTokens: 4160}, reason: ReasonUnitNotPriced, detail: "has no output_tokens price",
		},
		{
			// Parts beyond the total: the total was under-reported; the parts
			// are charged, the text remainder is 0 (300 × 10 = 3000 → 0.003).
			name: "parts beyond the total", provider: "openai", model: "gpt-image-1", at: day(2025, 5, 1),
			u:    Usage{InputTokens: 100, InputImageTokens: 300},
			want: "0.003",
		},
		{
			// Cached tokens beside audio ones could be either: unpriced.
			name: "cached beside audio", provider: "openai", model: "gpt-4o-realtime-preview", at: day(2025, 3, 1),
			u: Usage{InputTokens: 1000, CachedInputTokens: 500, InputAudioTokens: 400}, reason: ReasonCachedMedia,
			detail: "500 cached input tokens beside audio or image input tokens",
		},
		{
			// Text-only realtime call with cache: 500 × 5 + 500 × 2.50 +
			// 100 × 20 = 2500 + 1250 + 2000 = 5750 → 0.00575.
			name: "realtime text with cache", provider: "openai", model: "gpt-4o-realtime-preview", at: day(2025, 3, 1),
			u:    Usage{InputTokens: 1000, CachedInputTokens: 500, OutputTokens: 100},
			want: "0.00575",
		},
	})
}

type tierCase struct {
	name, model, tier string
	u                 Usage
	want, reason      string
	detail            string
}

func TestPriceServiceTiers(t *testing.T) {
	c := mustDefault(t)
	// o3 after the 2025-06-10 cut: $2 in, $0.50 cached, $8 out. 10000 input
	// of which 2000 cached, 3000 output of which 1000 reasoning:
	//   8000 × 2 + 2000 × 0.50 + 3000 × 8 = 16000 + 1000 + 24000 = 41000
	// → 0.041 standard, 0.0205 at half.
	o3 := Usage{InputTokens: 10000, CachedInputTokens: 2000, OutputTokens: 3000, ReasoningTokens: 1000}
	for _, tc := range []tierCase{
		{name: "standard", model: "o3", u: o3, want: "0.041"},
		{name: "default", model: "o3", tier: "default", u: o3, want: "0.041"},
		{name: "auto", model: "o3", tier: " Auto ", u: o3, want: "0.041"},
		{name: "flex", model: "o3", tier: "flex", u: o3, want: "0.0205"},
		{name: "flex any case", model: "o3", tier: "FLEX", u: o3, want: "0.0205"},
		// gpt-4o-mini batch: 1,000,001 in × 0.15 + 333 out × 0.60 =
		// 150000.15 + 199.8 = 150199.95 → 0.15019995, halved 0.075099975.
		{name: "batch", model: "gpt-4o-mini", tier: "batch", u: Usage{InputTokens: 1_000_001, OutputTokens: 333}, want: "0.075099975"},
		{name: "priority unknown", model: "o3", tier: "priority", u: o3, reason: ReasonUnknownTier,
			detail: `unknown service tier "priority" for openai model o3 (priced tiers: batch, flex)`},
		{name: "scale unknown", model: "gpt-4o", tier: "scale", u: o3, reason: ReasonUnknownTier},
		// The model is unknown before the tier is: the first reason says so.
		{name: "unknown model first", model: "gpt-9", tier: "priority", u: o3, reason: ReasonNoEntry},
		// Tiers scale token costs; the audio tokens are token costs too.
		// 0.0682375 (see the audio call) × 0.5 = 0.03411875.
		{name: "batch audio", model: "gpt-4o-audio-preview", tier: "batch",
			u: Usage{InputTokens: 1234, InputAudioTokens: 987, OutputTokens: 567, OutputAudioTokens: 321}, want: "0.03411875"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.PriceTier("openai", tc.model, "", "", tc.tier, day(2025, 7, 1), &tc.u)
			checkTier(t, r, tc)
		})
	}
	// Providers without tiers: any tier but the standard one is unknown.
	r := c.PriceTier("exa", "", "search", "", "flex", day(2025, 7, 1), &Usage{Requests: 1})
	if r.Status != Unpriced || r.Reason != ReasonUnknownTier || !strings.Contains(r.Detail(), "(priced tiers: none)") {
		t.Errorf("exa flex: %s %q %q", r.Status, r.Reason, r.Detail())
	}
	r = c.PriceTier("apollo", "", "people/match", "", "batch", day(2025, 7, 1), nil)
	if r.Status != Unpriced || r.Reason != ReasonUnknownTier {
		t.Errorf("apollo batch: %s %q", r.Status, r.Reason)
	}
	if r := c.PriceTier("exa", "", "search", "", "default", day(2025, 7, 1), &Usage{Requests: 1}); r.Cost != usd(t, "0.005") {
		t.Errorf("exa default: %s %s", r.Status, r.Cost)
	}
}

func checkTier(t *testing.T, r Result, tc tierCase) {
	t.Helper()
	if tc.want != "" {
		if r.Status != Computed || r.Cost != usd(t, tc.want) {
			t.Fatalf("got %s %s (%s), want %s", r.Status, r.Cost, r.Detail(), tc.want)
		}
		return
	}
	if r.Status != Unpriced || r.Reason != tc.reason || r.Cost != 0 {
		t.Fatalf("got %s %s %q, want unpriced %q", r.Status, r.Cost, r.Reason, tc.reason)
	}
	if tc.detail != "" && r.Detail() != tc.detail {
		t.Errorf("Detail = %q, want %q", r.Detail(), tc.detail)
	}
}

// TestPriceTierRoundsOnce: the multiplier applies before the one rounding.
// 866,667 tokens at 3 pico-USD per 1M is 2.600001 pico: 3 at standard; at
// half, 1.3000005 → 1, where halving the rounded standard cost would give
// 1.5 → 2.
func TestPriceTierRoundsOnce(t *testing.T) {
	c, err := mustDefault(t).With(Overrides{Models: []Entry{{Provider: "openai", Model: "tiny", Effective: "2020-01-01",
		Prices: map[string]string{"input_tokens": "0.000000000003"}}}})
	if err != nil {
		t.Fatal(err)
	}
	u := Usage{InputTokens: 866_667}
	if r := c.PriceTier("openai", "tiny", "", "", "", day(2025, 1, 1), &u); r.Cost != 3 {
		t.Errorf("standard: %s %d pico", r.Status, int64(r.Cost))
	}
	if r := c.PriceTier("openai", "tiny", "", "", "flex", day(2025, 1, 1), &u); r.Status != Computed || r.Cost != 1 {
		t.Errorf("flex: %s %d pico", r.Status, int64(r.Cost))
	}
	// Out of range at any multiplier: overflow, not a wrapped number.
	big := Usage{InputTokens: math.MaxInt64, OutputTokens: math.MaxInt64}
	if r := c.PriceTier("openai", "gpt-4o", "", "", "batch", day(2025, 1, 1), &big); r.Status != Unpriced || r.Reason != ReasonOverflow {
		t.Errorf("overflow: %s %q", r.Status, r.Reason)
	}
}

func TestPriceExaBrackets(t *testing.T) {
	c := mustDefault(t)
	search := func(results int64) Usage { return Usage{Requests: 1, Results: results} }
	runPriceCases(t, c, []priceCase{
		{name: "10 results", provider: "exa", op: "search", at: day(2025, 6, 1), u: search(10), want: "0.005"},
		{name: "no results", provider: "exa", op: "search", at: day(2025, 6, 1), u: search(0), want: "0.005"},
		{name: "25 results", provider: "exa", op: "search", at: day(2025, 6, 1), u: search(25), want: "0.005"},
		{name: "26 results", provider: "exa", op: "search", at: day(2025, 6, 1), u: search(26), want: "0.025"},
		{name: "50 results", provider: "exa", op: "search", at: day(2025, 6, 1), u: search(50), want: "0.025"},
		{name: "100 results", provider: "exa", op: "search", at: day(2025, 6, 1), u: search(100), want: "0.025"},
		{name: "101 results", provider: "exa", op: "search", at: day(2025, 6, 1), u: search(101), reason: ReasonBeyondBrackets,
			detail: "exa search (prices effective 2025-01-01) has no price for 101 result (its prices end at 100)"},
		{name: "find_similar 50", provider: "exa", op: "find_similar", at: day(2025, 6, 1), u: search(50), want: "0.025"},
		// The March 2026 list has no brackets: $7/1k whatever the count.
		{name: "2026 10 results", provider: "exa", op: "search", at: day(2026, 4, 1), u: search(10), want: "0.007"},
		{name: "2026 50 results", provider: "exa", op: "search", at: day(2026, 4, 1), u: search(50), want: "0.007"},
	})
}

func TestLoadBracketsAndTiers(t *testing.T) {
	entry := func(brackets string) string {
		return "version: v1\nentries:\n  - {provider: exa, operation: s, effective: 2026-01-01, prices: {request: \"0.01\"}, brackets: " +
			brackets + "}\n"
	}
	for _, tc := range []struct{ yaml, want string }{
		{entry(`[{unit: results, from: 2, prices: {request: "1"}}]`), `brackets[0].unit: unknown unit "results"`},
		{entry(`[{unit: result, from: 0, prices: {request: "1"}}]`), "brackets[0].from: 0 is below 1"},
		{entry(`[{unit: result, from: 5, to: 4, prices: {request: "1"}}]`), "brackets[0].to: 4 is below from 5"},
		{entry(`[{unit: result, from: 5, prices: {request: "1"}}, {unit: result, from: 9, prices: {request: "2"}}]`),
			"brackets[1]: overlaps the bracket before it"},
		{entry(`[{unit: result, from: 5, to: 9, prices: {request: "1"}}, {unit: result, from: 9, prices: {request: "2"}}]`),
			"brackets[1]: overlaps the bracket before it"},
		{entry(`[{unit: result, from: 5, to: 9, prices: {request: "1"}}, {unit: page, from: 10, prices: {request: "2"}}]`),
			"brackets[1].unit: page, but the first bracket is by result"},
		{entry(`[{unit: result, from: 5, prices: {}}]`), "brackets[0]: no prices"},
		{entry(`[{unit: result, from: 5, prices: {request: "x"}}]`), `brackets[0].prices.request: "x" is not a decimal amount`},
		{"version: v1\nproviders:\n  - {name: openai, keyed_by: model, models: own, tiers: {flex: \"0\"}}\n",
			`tiers.flex: multiplier "0" is not above 0`},
		{"version: v1\nproviders:\n  - {name: openai, keyed_by: model, models: own, tiers: {flex: \"101\"}}\n",
			`tiers.flex: multiplier "101" is not above 0 and at most 100`},
		{"version: v1\nproviders:\n  - {name: openai, keyed_by: model, models: own, tiers: {default: \"0.5\"}}\n",
			"tiers.default: not a tier name"},
		{"version: v1\nproviders:\n  - {name: openai, keyed_by: model, models: own, tiers: {batch: half}}\n",
			"tiers.batch:"},
	} {
		if _, err := Load([]byte(tc.yaml), "t.yaml"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want %q", tc.yaml, err, tc.want)
		}
	}

	// Brackets in an override change the version; same brackets, same one.
	base := mustDefault(t)
	o := func(price string) Overrides {
		return Overrides{Models: []Entry{{Provider: "exa", Operation: "search", Effective: "2027-01-01",
			Prices:   map[string]string{"request": "0.01"},
			Brackets: []Bracket{{Unit: "result", From: 11, Prices: map[string]string{"request": price}}}}}}
	}
	a, err := base.With(o("0.02"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := base.With(o("0.020"))
	d, _ := base.With(o("0.03"))
	if a.Version() != b.Version() || a.Version() == d.Version() {
		t.Errorf("versions %q %q %q", a.Version(), b.Version(), d.Version())
	}
	// An open-ended last bracket prices any larger count.
	if r := a.Price("exa", "", "search", "", day(2027, 2, 1), &Usage{Requests: 1, Results: 1_000_000}); r.Cost != usd(t, "0.02") {
		t.Errorf("open bracket: %s %s %s", r.Status, r.Cost, r.Detail())
	}
}

// TestPriceMediaExactRandom checks token costs with audio and image parts
// and a tier multiplier against exact decimal arithmetic.
func TestPriceMediaExactRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	randPrice := func() string { return Money(rng.Int64N(100 * int64(USD))).String() }
	names := []string{"input_tokens", "input_audio_tokens", "input_image_tokens", "output_tokens",
		"reasoning_tokens", "output_audio_tokens", "output_image_tokens"}
	for i := 0; i < 1000; i++ {
		prices := map[string]string{}
		for _, n := range names {
			prices[n] = randPrice()
		}
		mult := Money(1 + rng.Int64N(int64(2*USD))).String() // (0, 2]
		text := "version: v1\nproviders:\n  - {name: openai, keyed_by: model, models: own, tiers: {t: \"" + mult + "\"}}\n" +
			"entries:\n  - {provider: openai, model: r, effective: 2020-01-01, prices: {"
		for j, n := range names {
			if j > 0 {
				text += ", "
			}
			text += n + `: "` + prices[n] + `"`
		}
		c, err := Load([]byte(text+"}}\n"), "t.yaml")
		if err != nil {
			t.Fatal(err)
		}
		q := func() int64 { return rng.Int64N(5_000_000) }
		u := Usage{InputTokens: q(), InputAudioTokens: q() / 4, InputImageTokens: q() / 4,
			OutputTokens: q(), ReasoningTokens: q() / 4, OutputAudioTokens: q() / 4, OutputImageTokens: q() / 4}
		r := c.PriceTier("openai", "r", "", "", "t", day(2025, 1, 1), &u)

		p := func(n string) decimal.Decimal { return decimal.RequireFromString(prices[n]) }
		n := func(v int64) decimal.Decimal { return decimal.NewFromInt(max(v, 0)) }
		exact := n(u[InputTokens] - u[InputAudioTokens] - u[InputImageTokens]).Mul(p("input_tokens")).
			Add(n(u[InputAudioTokens]).Mul(p("input_audio_tokens"))).
			Add(n(u[InputImageTokens]).Mul(p("input_image_tokens"))).
			Add(n(u[OutputTokens] - u[ReasoningTokens] - u[OutputAudioTokens] - u[OutputImageTokens]).Mul(p("output_tokens"))).
			Add(n(u[ReasoningTokens]).Mul(p("reasoning_tokens"))).
			Add(n(u[OutputAudioTokens]).Mul(p("output_audio_tokens"))).
			Add(n(u[OutputImageTokens]).Mul(p("output_image_tokens"))).
			Mul(decimal.RequireFromString(mult)).
			Shift(-6)
		want := exact.RoundBank(12)
		if r.Status != Computed || !r.Cost.Decimal().Equal(want) {
			t.Fatalf("usage %v prices %v ×%s: got %s %s, want %s (exact %s)", u, prices, mult, r.Status, r.Cost, want, exact)
		}
	}
}

// TestPriceTierNoAlloc: tiers and brackets keep pricing allocation-free.
func TestPriceTierNoAlloc(t *testing.T) {
	c := mustDefault(t)
	at := day(2025, 7, 1)
	audio := Usage{InputTokens: 100, InputAudioTokens: 50, OutputTokens: 10, OutputAudioTokens: 5}
	exa := Usage{Requests: 1, Results: 50}
	var sink Result
	for name, f := range map[string]func(){
		"flex audio":   func() { sink = c.PriceTier("openai", "gpt-4o-audio-preview", "", "", "flex", at, &audio) },
		"unknown tier": func() { sink = c.PriceTier("openai", "o3", "", "", "priority", at, &audio) },
		"exa bracket":  func() { sink = c.PriceTier("exa", "", "search", "", "", at, &exa) },
	} {
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
	_ = sink
}

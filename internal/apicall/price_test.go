package apicall

import (
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/pricing"
)

func catalog(t *testing.T) *pricing.Catalog {
	t.Helper()
	c, err := pricing.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReadsMediaTokensAndTier(t *testing.T) {
	c, ok := FromSpan(span(map[string]any{
		"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-audio-preview",
		"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 50,
		"gen_ai.usage.input_audio_tokens": 40, "gen_ai.usage.output_audio_tokens": "30",
		"gen_ai.usage.input_image_tokens": 7, "gen_ai.usage.output_image_tokens": -8,
		"openai.request.service_tier": "auto", "openai.response.service_tier": " flex ",
	}))
	want := Call{Provider: "openai", Model: "gpt-4o-audio-preview", RequestModel: "gpt-4o-audio-preview",
		InputTokens: 100, OutputTokens: 50, InputAudioTokens: 40, OutputAudioTokens: 30, InputImageTokens: 7,
		ServiceTier: "flex"}
	c.ReportedCost = want.ReportedCost
	if !ok || c != want {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	// The asked tier stands when none was served; a long one is cut at a
	// character boundary.
	for _, tc := range []struct {
		attrs map[string]any
		want  string
	}{
		{map[string]any{"openai.request.service_tier": "batch"}, "batch"},
		{map[string]any{"openai.request.service_tier": "flex", "openai.response.service_tier": ""}, "flex"},
		{map[string]any{"openai.response.service_tier": strings.Repeat("a", 31) + "é…"}, strings.Repeat("a", 31)},
		{map[string]any{}, ""},
	} {
		tc.attrs["gen_ai.provider.name"] = "openai"
		c, _ := FromSpan(span(tc.attrs))
		if c.ServiceTier != tc.want {
			t.Errorf("%v: tier %q, want %q", tc.attrs, c.ServiceTier, tc.want)
		}
	}
}

func TestPriceUsage(t *testing.T) {
	cat := catalog(t)
	at := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		call   Call
		want   string // exact USD; "" when unpriced
		reason string
	}{
		{
			// gpt-4o-audio-preview, text $2.50/$10, audio $40/$80 per 1M:
			// 247 × 2.5 + 987 × 40 + 246 × 10 + 321 × 80 = 68237.5 → 0.0682375.
			name: "audio", call: Call{Provider: "openai", Model: "gpt-4o-audio-preview-2024-12-17",
				InputTokens: 1234, InputAudioTokens: 987, OutputTokens: 567, OutputAudioTokens: 321},
			want: "0.0682375",
		},
		{
			name: "audio on a text model", call: Call{Provider: "openai", Model: "gpt-4o", InputTokens: 10, InputAudioTokens: 5},
			reason: pricing.ReasonUnitNotPriced,
		},
		{
			// gpt-image-1: 50 × 5 + 200 × 10 + 4160 × 40 = 168650 → 0.16865.
			name: "image", call: Call{Provider: "openai", Model: "gpt-image-1",
				InputTokens: 250, InputImageTokens: 200, OutputTokens: 4160, OutputImageTokens: 4160},
			want: "0.16865",
		},
		{
			// o3: 8000 × 2 + 2000 × 0.5 + 3000 × 8 = 41000 → 0.041, flex half.
			name: "flex", call: Call{Provider: "openai", Model: "o3", ServiceTier: "flex",
				InputTokens: 10000, CachedInputTokens: 2000, OutputTokens: 3000, ReasoningTokens: 1000},
			want: "0.0205",
		},
		{
			// gpt-4o-mini: 1,000,001 × 0.15 + 333 × 0.60 = 150199.95 →
			// 0.15019995, batch half 0.075099975.
			name: "batch", call: Call{Provider: "openai", Model: "gpt-4o-mini", ServiceTier: "batch",
				InputTokens: 1_000_001, OutputTokens: 333},
			want: "0.075099975",
		},
		{
			name: "default tier", call: Call{Provider: "openai", Model: "gpt-4o-mini", ServiceTier: "default",
				InputTokens: 1_000_001, OutputTokens: 333},
			want: "0.15019995",
		},
		{
			name: "unknown tier", call: Call{Provider: "openai", Model: "o3", ServiceTier: "priority", InputTokens: 10},
			reason: pricing.ReasonUnknownTier,
		},
		// Exa: the provider bills one request; its price depends on results.
		{name: "exa 10 results", call: Call{Provider: "exa", Operation: "search", Results: 10}, want: "0.005"},
		{name: "exa 50 results", call: Call{Provider: "exa", Operation: "search", Results: 50}, want: "0.025"},
		{name: "exa 500 results", call: Call{Provider: "exa", Operation: "search", Results: 500}, reason: pricing.ReasonBeyondBrackets},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := PriceUsage(cat, &tc.call, at)
			if tc.want != "" {
				want, _ := pricing.ParseMoney(tc.want)
				if r.Status != pricing.Computed || r.Cost != want {
					t.Fatalf("got %s %s (%s), want %s", r.Status, r.Cost, r.Detail(), tc.want)
				}
				return
			}
			if r.Status != pricing.Unpriced || r.Reason != tc.reason {
				t.Fatalf("got %s %s %q, want unpriced %q", r.Status, r.Cost, r.Reason, tc.reason)
			}
		})
	}
}

// TestStoredRoundTrip: a call written as the exporter writes it (token
// columns, usage_units, service_tier) and read back prices the same.
func TestStoredRoundTrip(t *testing.T) {
	cat := catalog(t)
	at := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	calls := []Call{
		{Provider: "openai", Operation: "chat", Model: "gpt-4o-audio-preview", ServiceTier: "batch",
			InputTokens: 1234, InputAudioTokens: 987, OutputTokens: 567, OutputAudioTokens: 321},
		{Provider: "openai", Model: "gpt-image-1", InputTokens: 250, InputImageTokens: 200, OutputTokens: 4160, OutputImageTokens: 4160},
		{Provider: "openai", Model: "o3", ServiceTier: "flex", InputTokens: 10000, CachedInputTokens: 2000,
			OutputTokens: 3000, ReasoningTokens: 1000},
		// Unpriced (no cache-write price), and unpriced again.
		{Provider: "openai", Model: "o3", InputTokens: 10, CacheWriteTokens: 4},
		{Provider: "exa", Operation: "search", Results: 50},
		{Provider: "exa", Operation: "contents", Pages: 3},
		{Provider: "twilio", Operation: "sms", SMSSegments: 3},
		{Provider: "twilio", Operation: "voice", VoiceSeconds: 61},
		{Provider: "apollo", Operation: "people/match", Credits: 2},
	}
	for _, c := range calls {
		s := Stored{Provider: c.Provider, Operation: c.Operation, Model: c.Model, ServiceTier: c.ServiceTier,
			InputTokens: uint64(c.InputTokens), OutputTokens: uint64(c.OutputTokens), CachedInputTokens: uint64(c.CachedInputTokens),
			CacheWriteInputTokens: uint64(c.CacheWriteTokens), ReasoningTokens: uint64(c.ReasoningTokens), UsageUnits: UsageUnits(&c)}
		back := s.Call()
		if back != c {
			t.Errorf("round trip:\n got  %+v\n want %+v", back, c)
		}
		r1, r2 := PriceUsage(cat, &c, at), PriceUsage(cat, &back, at)
		if (r1.Status != pricing.Computed && c.CacheWriteTokens == 0) || r1.Cost != r2.Cost || r1.Status != r2.Status || r1.Reason != r2.Reason {
			t.Errorf("%s %s: priced %s %s, again %s %s", c.Provider, c.Model, r1.Status, r1.Cost, r2.Status, r2.Cost)
		}
	}
	if m := UsageUnits(&Call{InputTokens: 5}); m != nil {
		t.Errorf("no units: %v", m)
	}
	// Stored values are bad input too: absurd counts read as 0, unknown
	// keys are left alone.
	var c Call
	UsageFromUnits(&c, map[string]uint64{UnitResults: 1 << 63, UnitPages: MaxCount + 1, UnitCredits: MaxCount, "future_unit": 9})
	if c.Results != 0 || c.Pages != 0 || c.Credits != MaxCount {
		t.Errorf("bounded: %+v", c)
	}
	if got := (&Stored{InputTokens: 1 << 63, ServiceTier: strings.Repeat("z", 99)}).Call(); got.InputTokens != 0 || len(got.ServiceTier) != MaxServiceTierBytes {
		t.Errorf("bounded columns: %+v", got)
	}
}

// TestUnitKeysAreCatalogUnits: the token kinds are stored under the names
// the catalog prices them by.
func TestUnitKeysAreCatalogUnits(t *testing.T) {
	for key, u := range map[string]pricing.Unit{
		UnitInputAudioTokens: pricing.InputAudioTokens, UnitOutputAudioTokens: pricing.OutputAudioTokens,
		UnitInputImageTokens: pricing.InputImageTokens, UnitOutputImageTokens: pricing.OutputImageTokens,
	} {
		if u.String() != key {
			t.Errorf("%s stored as %q", u, key)
		}
	}
}

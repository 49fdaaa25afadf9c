package pricing

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

func usd(t testing.TB, s string) Money {
	t.Helper()
	m, err := ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustDefault(t testing.TB) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type priceCase struct {
	name                      string
	provider, model, op, ctry string
	at                        time.Time
	u                         Usage
	want                      string // expected cost in USD, exact; "" when unpriced
	reason                    string // expected Reason when unpriced
	model2                    string // expected Result.Model ("" = don't check)
	pricedAs                  string // expected Result.Provider ("" = don't check)
	detail                    string // substring of Detail ("" = don't check)
}

func runPriceCases(t *testing.T, c *Catalog, cases []priceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.u
			r := c.Price(tc.provider, tc.model, tc.op, tc.ctry, tc.at, &u)
			if tc.want != "" {
				if r.Status != Computed || r.Cost != usd(t, tc.want) {
					t.Fatalf("got %s %s (%s: %s), want computed %s", r.Status, r.Cost, r.Reason, r.Detail(), tc.want)
				}
				if r.Reason != "" {
					t.Errorf("priced call has reason %q", r.Reason)
				}
			} else {
				if r.Status != Unpriced || r.Reason != tc.reason {
					t.Fatalf("got %s %s reason %q, want unpriced %q", r.Status, r.Cost, r.Reason, tc.reason)
				}
				if r.Cost != 0 {
					t.Errorf("unpriced call carries cost %s", r.Cost)
				}
			}
			if tc.model2 != "" && r.Model != tc.model2 {
				t.Errorf("Model = %q, want %q", r.Model, tc.model2)
			}
			if tc.pricedAs != "" && r.Provider != tc.pricedAs {
				t.Errorf("Provider = %q, want %q", r.Provider, tc.pricedAs)
			}
			if tc.detail != "" && !strings.Contains(r.Detail(), tc.detail) {
				t.Errorf("Detail = %q, want it to contain %q", r.Detail(), tc.detail)
			}
		})
	}
}

func TestPriceOpenAI(t *testing.T) {
	c := mustDefault(t)
	runPriceCases(t, c, []priceCase{
		{
			// 1000 input of which 800 cached, 100 output, gpt-4o at its
			// 2024-08-06 price ($2.50 in, $1.25 cached, $10 out per 1M):
			//   200 × 2.50/1M = 0.0005
			//   800 × 1.25/1M = 0.0010
			//   100 × 10/1M   = 0.0010
			// = 0.0025. Counting the cached tokens as input too would give
			// 0.0045: they are a subset, charged once.
			name: "cached subset", provider: "openai", model: "gpt-4o-2024-08-06", at: day(2024, 9, 1),
			u:    Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 100},
			want: "0.0025", model2: "gpt-4o", pricedAs: "openai",
		},
		{
			// Same call before the 2024-08-06 change: $5 in / $15 out.
			// 1000 × 5/1M = 0.005 + 100 × 15/1M = 0.0015 → 0.0065.
			name: "gpt-4o launch price", provider: "openai", model: "gpt-4o", at: day(2024, 6, 1),
			u:    Usage{InputTokens: 1000, OutputTokens: 100},
			want: "0.0065",
		},
		{
			name: "last second before the change", provider: "openai", model: "gpt-4o",
			at: time.Date(2024, 8, 5, 23, 59, 59, 0, time.UTC), u: Usage{InputTokens: 1000, OutputTokens: 100},
			want: "0.0065",
		},
		{
			// From 00:00 UTC on the effective date: 1000 × 2.50/1M +
			// 100 × 10/1M = 0.0025 + 0.001 = 0.0035.
			name: "first second of the change", provider: "openai", model: "gpt-4o",
			at: time.Date(2024, 8, 6, 0, 0, 0, 0, time.UTC), u: Usage{InputTokens: 1000, OutputTokens: 100},
			want: "0.0035",
		},
		{
			// The same instant seen in another zone is the same price.
			name: "time zone", provider: "openai", model: "gpt-4o",
			at: time.Date(2024, 8, 5, 20, 0, 0, 0, time.FixedZone("EDT", -4*3600)), u: Usage{InputTokens: 1000, OutputTokens: 100},
			want: "0.0035",
		},
		{
			name: "before the first price", provider: "openai", model: "gpt-4o", at: day(2024, 5, 12),
			u: Usage{InputTokens: 1000}, reason: ReasonNotInEffect,
			detail: "no price in effect at 2024-05-12 for openai model gpt-4o (prices start 2024-05-13)",
		},
		{
			// The 2024-05-13 snapshot has its own entry: still $5/$15 in 2025.
			name: "snapshot with own entry", provider: "openai", model: "gpt-4o-2024-05-13", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, OutputTokens: 100}, want: "0.0065", model2: "gpt-4o-2024-05-13",
		},
		{
			// That snapshot has no cached price: a call that used cached
			// tokens cannot be priced.
			name: "used unit without price", provider: "openai", model: "gpt-4o-2024-05-13", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 100}, reason: ReasonUnitNotPriced,
			detail: "openai gpt-4o-2024-05-13 (prices effective 2024-05-13) has no cached_input_tokens price, but the call used 800",
		},
		{
			// OpenAI does not bill cache writes and has no price for them.
			name: "cache write without price", provider: "openai", model: "gpt-4o", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, CacheWriteTokens: 10}, reason: ReasonUnitNotPriced, detail: "no cache_write_tokens price",
		},
		{
			// gpt-4o-mini: 10,000 input (4,000 cached), 500 output:
			//   6000 × 0.15/1M  = 0.0009
			//   4000 × 0.075/1M = 0.0003
			//    500 × 0.60/1M  = 0.0003  → 0.0015
			name: "gpt-4o-mini", provider: "openai", model: "gpt-4o-mini-2024-07-18", at: day(2025, 3, 1),
			u: Usage{InputTokens: 10_000, CachedInputTokens: 4_000, OutputTokens: 500}, want: "0.0015", model2: "gpt-4o-mini",
		},
		{
			// o3 before its 2025-06-10 cut ($10 in / $40 out): 2000 input,
			// 5000 output of which 4000 reasoning (charged as output):
			//   2000 × 10/1M = 0.02
			//   1000 × 40/1M = 0.04   (non-reasoning output)
			//   4000 × 40/1M = 0.16   (reasoning)
			// = 0.22; charging reasoning on top of output would give 0.38.
			name: "o3 reasoning subset", provider: "openai", model: "o3-2025-04-16", at: day(2025, 5, 1),
			u: Usage{InputTokens: 2000, OutputTokens: 5000, ReasoningTokens: 4000}, want: "0.22", model2: "o3",
		},
		{
			// After the cut ($2 / $8): 2000 × 2/1M + 5000 × 8/1M = 0.004 + 0.04.
			name: "o3 after price cut", provider: "openai", model: "o3", at: day(2025, 7, 1),
			u: Usage{InputTokens: 2000, OutputTokens: 5000, ReasoningTokens: 4000}, want: "0.044",
		},
		{
			// o3-mini-2025-01-31 → o3-mini ($1.10 / $4.40):
			// 1234 × 1.10/1M = 0.0013574; 567 × 4.40/1M = 0.0024948 → 0.0038522.
			name: "dated suffix YYYY-MM-DD", provider: "openai", model: "o3-mini-2025-01-31", at: day(2025, 2, 1),
			u: Usage{InputTokens: 1234, OutputTokens: 567}, want: "0.0038522", model2: "o3-mini",
		},
		{
			// gpt-4-0613 → gpt-4 ($30 / $60): 100 × 30/1M + 50 × 60/1M = 0.006.
			name: "dated suffix MMDD", provider: "openai", model: "gpt-4-0613", at: day(2024, 1, 1),
			u: Usage{InputTokens: 100, OutputTokens: 50}, want: "0.006", model2: "gpt-4",
		},
		{
			// gpt-3.5-turbo-0125 → alias at the 0125 price ($0.50 / $1.50):
			// 2000 × 0.5/1M + 1000 × 1.5/1M = 0.001 + 0.0015.
			name: "3.5 alias", provider: "openai", model: "gpt-3.5-turbo-0125", at: day(2024, 6, 1),
			u: Usage{InputTokens: 2000, OutputTokens: 1000}, want: "0.0025", model2: "gpt-3.5-turbo",
		},
		{
			// …while gpt-3.5-turbo-1106 keeps its own price ($1 / $2): 0.002 + 0.002.
			name: "3.5 snapshot", provider: "openai", model: "gpt-3.5-turbo-1106", at: day(2024, 6, 1),
			u: Usage{InputTokens: 2000, OutputTokens: 1000}, want: "0.004", model2: "gpt-3.5-turbo-1106",
		},
		{
			// Case and spaces do not matter: GPT-4o-2024-08-06 at $2.50/$10.
			name: "case folding", provider: "OpenAI", model: " GPT-4o-2024-08-06 ", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, OutputTokens: 100}, want: "0.0035", model2: "gpt-4o",
		},
		{
			name: "vendor prefix on openai", provider: "openai", model: "openai/gpt-4o", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, OutputTokens: 100}, want: "0.0035", model2: "gpt-4o",
		},
		{
			// ft:gpt-4o-mini-2024-07-18:acme::abc123 → ft:gpt-4o-mini ($0.30 / $1.20):
			// 1000 × 0.30/1M + 1000 × 1.20/1M = 0.0003 + 0.0012.
			name: "fine-tune", provider: "openai", model: "ft:gpt-4o-mini-2024-07-18:acme::abc123", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, OutputTokens: 1000}, want: "0.0015", model2: "ft:gpt-4o-mini",
		},
		{
			// 1M embedding tokens at $0.02/1M.
			name: "embeddings", provider: "openai", model: "text-embedding-3-small", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1_000_000}, want: "0.02",
		},
		{
			// 1 token of gpt-5-nano input: 0.05/1M = 0.00000005 USD = 50,000 pico.
			name: "one token", provider: "openai", model: "gpt-5-nano", at: day(2025, 9, 1),
			u: Usage{InputTokens: 1}, want: "0.00000005",
		},
		{
			// A call with no usage on a known model (a failed call) is a real $0.
			name: "zero usage", provider: "openai", model: "gpt-4o", at: day(2025, 1, 1), want: "0",
		},
		{
			// cached (800) exceeds input (500): input is taken to be 800, all
			// of it cached: 800 × 1.25/1M = 0.001. Never a negative part.
			name: "cached above input clamps", provider: "openai", model: "gpt-4o", at: day(2025, 1, 1),
			u: Usage{InputTokens: 500, CachedInputTokens: 800}, want: "0.001",
		},
		{
			// reasoning (300) exceeds output (100): output is taken to be 300,
			// all reasoning: 300 × 8/1M = 0.0024.
			name: "reasoning above output clamps", provider: "openai", model: "o3", at: day(2025, 7, 1),
			u: Usage{OutputTokens: 100, ReasoningTokens: 300}, want: "0.0024",
		},
		{
			// Requests are not billed by token-priced models.
			name: "requests ignored for tokens", provider: "openai", model: "gpt-4o", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, Requests: 1}, want: "0.0025",
		},
		{
			name: "unknown model", provider: "openai", model: "gpt-9", at: day(2026, 1, 1),
			u: Usage{InputTokens: 10}, reason: ReasonNoEntry, detail: "no catalog entry for openai model gpt-9",
		},
		{
			// A model merely ending in digits is not stripped to another model.
			name: "digits are not a date", provider: "openai", model: "gpt-4o-9999", at: day(2026, 1, 1),
			u: Usage{InputTokens: 10}, reason: ReasonNoEntry,
		},
		{
			name: "no model", provider: "openai", model: "  ", at: day(2026, 1, 1),
			u: Usage{InputTokens: 10}, reason: ReasonNoModel,
		},
		{
			name: "unknown provider", provider: "anthropic", model: "claude-3-5-sonnet", at: day(2026, 1, 1),
			u: Usage{InputTokens: 10}, reason: ReasonUnknownProvider, detail: `unknown provider "anthropic"`,
		},
		{
			name: "negative usage", provider: "openai", model: "gpt-4o", at: day(2026, 1, 1),
			u: Usage{InputTokens: 10, OutputTokens: -5}, reason: ReasonNegativeUsage, detail: "negative output_tokens quantity -5",
		},
		{
			// MaxInt64 output tokens of gpt-4.5-preview ($150/1M) is far
			// beyond MaxCost.
			name: "overflow", provider: "openai", model: "gpt-4.5-preview", at: day(2025, 3, 1),
			u:      Usage{InputTokens: math.MaxInt64, CachedInputTokens: math.MaxInt64, OutputTokens: math.MaxInt64, ReasoningTokens: math.MaxInt64},
			reason: ReasonOverflow,
		},
		{
			// Just under MaxCost passes: 6,666,666,666 output tokens at
			// $150/1M = 6,666,666,666 × 150 / 1e6 = 999,999.9999 USD.
			name: "largest cost", provider: "openai", model: "gpt-4.5-preview", at: day(2025, 3, 1),
			u: Usage{OutputTokens: 6_666_666_666}, want: "999999.9999",
		},
		{
			// One more token: 1,000,000.00005 USD > MaxCost.
			name: "past largest cost", provider: "openai", model: "gpt-4.5-preview", at: day(2025, 3, 1),
			u: Usage{OutputTokens: 6_666_666_667}, reason: ReasonOverflow,
		},
	})
}

func TestPriceOpenRouter(t *testing.T) {
	base := mustDefault(t)
	c, err := base.With(Overrides{Models: []Entry{
		{Provider: "openrouter", Model: "anthropic/claude-3.5-sonnet", Effective: "2024-06-20",
			Prices: map[string]string{"input_tokens": "3", "cached_input_tokens": "0.30", "cache_write_tokens": "3.75", "output_tokens": "15"}},
		{Provider: "openrouter", Model: "meta-llama/llama-3.1-8b-instruct:free", Effective: "2024-07-23",
			Prices: map[string]string{"input_tokens": "0", "output_tokens": "0"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	runPriceCases(t, c, []priceCase{
		{
			// openai/gpt-4o → OpenAI's gpt-4o list (2025: $2.50/$10):
			// 1000 × 2.5/1M + 100 × 10/1M = 0.0035.
			name: "vendor fallback", provider: "openrouter", model: "openai/gpt-4o", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, OutputTokens: 100}, want: "0.0035", model2: "gpt-4o", pricedAs: "openai",
		},
		{
			name: "vendor fallback with date", provider: "openrouter", model: "openai/gpt-4o-mini-2024-07-18", at: day(2025, 1, 1),
			u: Usage{InputTokens: 10_000, CachedInputTokens: 4_000, OutputTokens: 500}, want: "0.0015", model2: "gpt-4o-mini", pricedAs: "openai",
		},
		{
			name: "paid variant falls back", provider: "openrouter", model: "openai/gpt-4o:nitro", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, OutputTokens: 100}, want: "0.0035", model2: "gpt-4o", pricedAs: "openai",
		},
		{
			// A :free variant is never priced at the vendor's paid price.
			name: "free variant of ours", provider: "openrouter", model: "openai/gpt-4o:free", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000}, reason: ReasonNoEntry, detail: "a :free variant is priced only by an entry of its own",
		},
		{
			// …and is $0 only where the catalog says so.
			name: "free variant in catalog", provider: "openrouter", model: "meta-llama/llama-3.1-8b-instruct:free", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000, OutputTokens: 100}, want: "0", pricedAs: "openrouter",
		},
		{
			name: "free variant not in catalog", provider: "openrouter", model: "mistralai/mistral-7b-instruct:free", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000}, reason: ReasonNoEntry,
		},
		{
			// An OpenRouter entry: 10,000 input of which 2,000 cache reads and
			// 3,000 cache writes, 1,000 output:
			//   5000 × 3/1M    = 0.015
			//   2000 × 0.30/1M = 0.0006
			//   3000 × 3.75/1M = 0.01125
			//   1000 × 15/1M   = 0.015    → 0.04185
			name: "openrouter entry with cache writes", provider: "openrouter", model: "anthropic/claude-3.5-sonnet", at: day(2025, 1, 1),
			u: Usage{InputTokens: 10_000, CachedInputTokens: 2_000, CacheWriteTokens: 3_000, OutputTokens: 1_000}, want: "0.04185",
			model2: "anthropic/claude-3.5-sonnet", pricedAs: "openrouter",
		},
		{
			name: "vendor not ours", provider: "openrouter", model: "anthropic/claude-3-opus", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000}, reason: ReasonNoEntry, detail: "no catalog entry for openrouter model anthropic/claude-3-opus",
		},
		{
			name: "vendor model unknown", provider: "openrouter", model: "openai/gpt-9", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000}, reason: ReasonNoEntry,
		},
		{
			name: "no vendor", provider: "openrouter", model: "gpt-4o", at: day(2025, 1, 1),
			u: Usage{InputTokens: 1000}, reason: ReasonNoEntry,
		},
	})
}

func TestPriceExa(t *testing.T) {
	c := mustDefault(t)
	runPriceCases(t, c, []priceCase{
		// The processor sets Requests = 1 for every Exa call.
		{name: "search 2025", provider: "exa", op: "search", at: day(2025, 6, 1),
			u: Usage{Requests: 1, Results: 10}, want: "0.005", model2: "search"}, // $5/1k requests; results not billed
		{name: "search 2026", provider: "exa", op: "search", at: day(2026, 6, 1),
			u: Usage{Requests: 1, Results: 10}, want: "0.007"}, // $7/1k since March 2026
		{name: "contents", provider: "exa", op: "contents", at: day(2026, 6, 1),
			u: Usage{Requests: 1, Pages: 7}, want: "0.007"}, // 7 pages × $1/1k
		{name: "answer", provider: "exa", op: "/answer", at: day(2026, 6, 1),
			u: Usage{Requests: 1}, want: "0.005"},
		{name: "find_similar", provider: "exa", op: "find_similar", at: day(2026, 6, 1),
			u: Usage{Requests: 1}, want: "0.005"},
		{name: "research unpriced", provider: "exa", op: "research", at: day(2026, 6, 1),
			u: Usage{Requests: 1}, reason: ReasonNoEntry, detail: "no catalog entry for exa operation research"},
		{name: "before first price", provider: "exa", op: "search", at: day(2024, 6, 1),
			u: Usage{Requests: 1}, reason: ReasonNotInEffect},
		{name: "no operation", provider: "exa", at: day(2026, 6, 1),
			u: Usage{Requests: 1}, reason: ReasonNoModel},
	})
}

func TestPriceTwilio(t *testing.T) {
	base := mustDefault(t)
	c, err := base.With(Overrides{Models: []Entry{
		{Provider: "twilio", Operation: "sms", Country: "GB", Effective: "2024-01-01", Prices: map[string]string{"sms_segment": "0.0400"}},
		{Provider: "twilio", Operation: "sms", Country: "DE", Effective: "2030-01-01", Prices: map[string]string{"sms_segment": "0.0800"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	runPriceCases(t, c, []priceCase{
		{name: "US sms", provider: "twilio", op: "sms", ctry: "US", at: day(2025, 1, 1),
			u: Usage{SMSSegments: 3}, want: "0.0237"}, // 3 × 0.0079
		{name: "country by code case", provider: "twilio", op: "sms", ctry: "us", at: day(2025, 1, 1),
			u: Usage{SMSSegments: 1}, want: "0.0079"},
		{name: "GB sms", provider: "twilio", op: "sms", ctry: "GB", at: day(2025, 1, 1),
			u: Usage{SMSSegments: 3}, want: "0.12"}, // 3 × 0.04
		{name: "unknown country → default", provider: "twilio", op: "sms", ctry: "FR", at: day(2025, 1, 1),
			u: Usage{SMSSegments: 3}, want: "0.0237"},
		{name: "no country → default", provider: "twilio", op: "sms", at: day(2025, 1, 1),
			u: Usage{SMSSegments: 2}, want: "0.0158"},
		{name: "country price not yet in effect → default", provider: "twilio", op: "sms", ctry: "DE", at: day(2025, 1, 1),
			u: Usage{SMSSegments: 1}, want: "0.0079"},
		{name: "voice", provider: "twilio", op: "voice", ctry: "US", at: day(2025, 1, 1),
			u: Usage{VoiceMinutes: 5}, want: "0.07"}, // 5 × 0.0140
		{name: "status read is free", provider: "twilio", op: "sms_status", at: day(2025, 1, 1), want: "0"},
		{name: "unknown operation", provider: "twilio", op: "fax", at: day(2025, 1, 1),
			u: Usage{Requests: 1}, reason: ReasonNoEntry},
		{name: "segments overflow", provider: "twilio", op: "sms", at: day(2025, 1, 1),
			u: Usage{SMSSegments: 1 << 62}, reason: ReasonOverflow},
	})
}

func TestPriceTwilioNoDefault(t *testing.T) {
	c := &Catalog{version: "t"}
	norm, err := c.normalize([]Entry{{Provider: "twilio", Operation: "sms", Country: "GB", Effective: "2024-01-01",
		Prices: map[string]string{"sms_segment": "0.04"}}}, "t", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.build(norm); err != nil {
		t.Fatal(err)
	}
	r := c.Price("twilio", "", "sms", "FR", day(2025, 1, 1), &Usage{SMSSegments: 1})
	if r.Status != Unpriced || r.Reason != ReasonNoEntry || !strings.Contains(r.Detail(), "no default price") {
		t.Fatalf("got %s %q %q", r.Status, r.Reason, r.Detail())
	}
	r = c.Price("twilio", "", "sms", "GB", day(2025, 1, 1), &Usage{SMSSegments: 1})
	if r.Status != Computed || r.Cost != usd(t, "0.04") {
		t.Fatalf("GB: %s %s", r.Status, r.Cost)
	}
}

func TestPriceApollo(t *testing.T) {
	c := mustDefault(t)
	runPriceCases(t, c, []priceCase{
		// Table: people/match consumes 1 credit; a credit is $0.20 (estimate).
		{name: "credits from table", provider: "apollo", op: "people/match", at: day(2025, 1, 1),
			u: Usage{Requests: 1}, want: "0.20", model2: "people/match"},
		{name: "path form", provider: "apollo", op: "/api/v1/people/match", at: day(2025, 1, 1),
			want: "0.20", model2: "people/match"},
		// Reported credits win over the table: 3 × 0.20.
		{name: "reported credits", provider: "apollo", op: "people/match", at: day(2025, 1, 1),
			u: Usage{Credits: 3}, want: "0.60"},
		// Bulk endpoints bill per record: no table figure, reported credits price it.
		{name: "bulk without credits", provider: "apollo", op: "people/bulk_match", at: day(2025, 1, 1),
			reason: ReasonNoEntry, detail: "no catalog entry for apollo operation people/bulk_match"},
		{name: "bulk with credits", provider: "apollo", op: "people/bulk_match", at: day(2025, 1, 1),
			u: Usage{Credits: 10}, want: "2.00"},
		{name: "search consumes no credits", provider: "apollo", op: "mixed_people/search", at: day(2025, 1, 1), want: "0"},
		{name: "unknown endpoint", provider: "apollo", op: "contacts/create", at: day(2025, 1, 1),
			reason: ReasonNoEntry},
		{name: "unknown endpoint, reported credits", provider: "apollo", op: "contacts/create", at: day(2025, 1, 1),
			u: Usage{Credits: 2}, want: "0.40"},
		{name: "no endpoint", provider: "apollo", at: day(2025, 1, 1), reason: ReasonNoModel},
		{name: "before the table", provider: "apollo", op: "people/match", at: day(2022, 1, 1), reason: ReasonNotInEffect},
		{name: "reported credits before the rate", provider: "apollo", op: "people/match", at: day(2022, 1, 1),
			u: Usage{Credits: 1}, reason: ReasonNoCreditRate},
		{name: "negative credits", provider: "apollo", op: "people/match", at: day(2025, 1, 1),
			u: Usage{Credits: -1}, reason: ReasonNegativeUsage},
		{name: "credits overflow", provider: "apollo", op: "people/match", at: day(2025, 1, 1),
			u: Usage{Credits: math.MaxInt64}, reason: ReasonOverflow},
	})

	// apollo_usd_per_credit overrides the rate at every date; fractional
	// credits from an entry: 0.5 × 0.03 = 0.015.
	o, err := c.With(Overrides{ApolloUSDPerCredit: "0.03", Models: []Entry{
		{Provider: "apollo", Operation: "people/bulk_match", Effective: "2024-01-01", Credits: "0.5"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	runPriceCases(t, o, []priceCase{
		{name: "override rate, table", provider: "apollo", op: "people/match", at: day(2025, 1, 1), want: "0.03"},
		{name: "override rate, reported", provider: "apollo", op: "people/match", at: day(2025, 1, 1),
			u: Usage{Credits: 3}, want: "0.09"},
		{name: "override rate before catalog rate", provider: "apollo", op: "x", at: day(2020, 1, 1),
			u: Usage{Credits: 1}, want: "0.03"},
		{name: "fractional credits", provider: "apollo", op: "people/bulk_match", at: day(2025, 1, 1), want: "0.015"},
	})
}

// TestPriceRounding checks the one rounding step, half to even at the
// pico-USD, with a price of 1 pico-USD per 1M tokens (1e-6 pico per token).
func TestPriceRounding(t *testing.T) {
	c, err := mustDefault(t).With(Overrides{Models: []Entry{
		{Provider: "openai", Model: "tiny", Effective: "2020-01-01", Prices: map[string]string{
			"input_tokens": "0.000000000001", "output_tokens": "0.000000000003"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		u    Usage
		want Money
	}{
		{Usage{InputTokens: 499_999}, 0},   // 0.499999 pico → 0
		{Usage{InputTokens: 500_000}, 0},   // 0.5 → 0 (even)
		{Usage{InputTokens: 1_500_000}, 2}, // 1.5 → 2 (even)
		{Usage{InputTokens: 2_500_000}, 2}, // 2.5 → 2 (even)
		{Usage{InputTokens: 2_500_001}, 3}, // 2.500001 → 3
		// Parts are summed before the one rounding: 0.4 + 3 × 0.2 = 1.0
		// pico, where rounding each part would give 0 + 1.
		{Usage{InputTokens: 400_000, OutputTokens: 200_000}, 1},
	}
	for _, tc := range cases {
		r := c.Price("openai", "tiny", "", "", day(2025, 1, 1), &tc.u)
		if r.Status != Computed || r.Cost != tc.want {
			t.Errorf("%v: got %s %d pico, want %d", tc.u, r.Status, int64(r.Cost), tc.want)
		}
	}
}

// TestPriceEveryEntry prices one of each unit an entry prices at its own
// effective date: every built-in entry is reachable and computes.
func TestPriceEveryEntry(t *testing.T) {
	c := mustDefault(t)
	for _, e := range c.Entries() {
		at, _ := time.Parse(time.DateOnly, e.Effective)
		var u Usage
		for name := range e.Prices {
			unit, _ := ParseUnit(name)
			u[unit] = 1
		}
		if u[ReasoningTokens] == 0 && u[OutputTokens] == 1 {
			u[ReasoningTokens] = 1
		}
		if u[CachedInputTokens]+u[CacheWriteTokens] > 0 {
			u[InputTokens] = 3
		}
		op := e.Operation
		if e.Provider == "apollo" && op == "" {
			op, u = "people/match", Usage{Credits: 1}
		}
		// Cached tokens beside audio or image tokens are unpriced (not
		// told apart): price the two on separate calls.
		media := u
		media[CachedInputTokens], media[CacheWriteTokens] = 0, 0
		u[InputAudioTokens], u[InputImageTokens] = 0, 0
		for _, u := range []Usage{u, media} {
			r := c.Price(e.Provider, e.Model, op, e.Country, at, &u)
			if r.Status != Computed || r.Effective != e.Effective || (r.Model != e.Model+e.Operation && e.Provider != "apollo") {
				t.Errorf("%+v: %s %s %q %q eff %s", e, r.Status, r.Cost, r.Reason, r.Model, r.Effective)
			}
		}
	}
}

func TestCatalogContents(t *testing.T) {
	c := mustDefault(t)
	if c.Version() != "2026-12-07" {
		t.Errorf("version %q", c.Version())
	}
	for _, m := range []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o1-mini",
		"o3", "o3-mini", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano", "text-embedding-3-small",
		"text-embedding-3-large", "text-embedding-ada-002"} {
		r := c.Price("openai", m, "", "", day(2026, 11, 1), &Usage{InputTokens: 1})
		if r.Status != Computed || r.Cost <= 0 {
			t.Errorf("%s: %s %s %s", m, r.Status, r.Cost, r.Detail())
		}
	}
}

func TestResultZeroIsUnpriced(t *testing.T) {
	var r Result
	if r.Status != Unpriced || r.Status.String() != "unpriced" {
		t.Fatal("the zero Result must be unpriced")
	}
	for s, want := range map[Status]string{Reported: "reported", Computed: "computed", Unpriced: "unpriced", Refused: "refused"} {
		if s.String() != want {
			t.Errorf("%d: %q", s, s.String())
		}
		if back, ok := ParseStatus(want); !ok || back != s {
			t.Errorf("ParseStatus(%q)", want)
		}
	}
	if (Result{Status: Unpriced, Reason: "voice call duration unknown"}).Detail() != "voice call duration unknown" {
		t.Error("a caller's reason is its own detail")
	}
}

func TestUnits(t *testing.T) {
	for u := Unit(0); u < NumUnits; u++ {
		back, ok := ParseUnit(u.String())
		if !ok || back != u {
			t.Errorf("unit %d %q", u, u)
		}
		if u.PerMillion() != strings.HasSuffix(u.String(), "_tokens") {
			t.Errorf("%s PerMillion = %v", u, u.PerMillion())
		}
	}
	if _, ok := ParseUnit("tokens"); ok {
		t.Error("ParseUnit(tokens)")
	}
}

func TestPriceNilUsage(t *testing.T) {
	r := mustDefault(t).Price("openai", "gpt-4o", "", "", day(2025, 1, 1), nil)
	if r.Status != Computed || r.Cost != 0 {
		t.Fatalf("%s %s", r.Status, r.Cost)
	}
}

func TestPriceConcurrent(t *testing.T) {
	c := mustDefault(t)
	want := usd(t, "0.0025")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 100}
			for i := 0; i < 2000; i++ {
				if r := c.Price("openai", "gpt-4o-2024-08-06", "", "", day(2024, 9, 1), &u); r.Cost != want {
					t.Errorf("got %s", r.Cost)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestPriceAllocs(t *testing.T) {
	c := mustDefault(t)
	at := day(2025, 1, 1)
	calls := []struct {
		name                      string
		provider, model, op, ctry string
		u                         Usage
	}{
		{"openai dated suffix", "openai", "gpt-4o-2024-08-06", "chat", "", Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 100}},
		{"openai mixed case", "OpenAI", "GPT-4o-2024-08-06", "chat", "", Usage{InputTokens: 1000, OutputTokens: 100}},
		{"openai fine-tune", "openai", "ft:gpt-4o-mini-2024-07-18:acme::abc", "chat", "", Usage{InputTokens: 1000}},
		{"openrouter vendor", "openrouter", "openai/gpt-4o:nitro", "chat", "", Usage{InputTokens: 1000}},
		{"exa", "exa", "", "search", "", Usage{Requests: 1}},
		{"twilio country", "twilio", "", "sms", "US", Usage{SMSSegments: 2}},
		{"apollo", "apollo", "", "people/match", "", Usage{Requests: 1}},
		{"unpriced unknown model", "openai", "gpt-9", "chat", "", Usage{InputTokens: 1}},
		{"unpriced unit", "openai", "gpt-4o", "chat", "", Usage{CacheWriteTokens: 1}},
	}
	for _, call := range calls {
		var sink Result
		n := testing.AllocsPerRun(1000, func() {
			sink = c.Price(call.provider, call.model, call.op, call.ctry, at, &call.u)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per call", call.name, n)
		}
		_ = sink
	}
}

func BenchmarkPrice(b *testing.B) {
	c := mustDefault(b)
	at := day(2025, 1, 1)
	for _, bc := range []struct {
		name                      string
		provider, model, op, ctry string
		u                         Usage
	}{
		{"openai/exact", "openai", "gpt-4o", "chat", "", Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 100}},
		{"openai/dated", "openai", "gpt-4o-2024-08-06", "chat", "", Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 100}},
		{"openai/reasoning", "openai", "o3-2025-04-16", "chat", "", Usage{InputTokens: 1000, OutputTokens: 5000, ReasoningTokens: 4000}},
		{"openrouter/vendor", "openrouter", "openai/gpt-4o-mini", "chat", "", Usage{InputTokens: 1000, OutputTokens: 100}},
		{"twilio/country", "twilio", "", "sms", "US", Usage{SMSSegments: 2}},
		{"apollo/table", "apollo", "", "people/match", "", Usage{Requests: 1}},
		{"unpriced/unknown", "openai", "gpt-9", "chat", "", Usage{InputTokens: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var cost Money
			for b.Loop() {
				cost += c.Price(bc.provider, bc.model, bc.op, bc.ctry, at, &bc.u).Cost
			}
			_ = cost
		})
	}
	b.Run("parallel/openai-dated", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			u := Usage{InputTokens: 1000, CachedInputTokens: 800, OutputTokens: 100}
			for pb.Next() {
				_ = c.Price("openai", "gpt-4o-2024-08-06", "chat", "", at, &u)
			}
		})
	})
}

package insights

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/pricing"
)

// Config holds the thresholds of /api/v1/insights/recommendations.
// A Recommendation appears only when its figures cross these; each
// threshold is a judgement call, so each is a setting.
type Config struct {
	// MinCalls is the fewest calls a group needs before any traffic-based
	// Recommendation is made about it: a handful of calls is an anecdote.
	MinCalls int `mapstructure:"min_calls"`
	// RightSizing suggests a cheaper model for short-output traffic.
	RightSizing RightSizingConfig `mapstructure:"right_sizing"`
	// PromptCaching flags long prompts that are rarely served from cache.
	PromptCaching PromptCachingConfig `mapstructure:"prompt_caching"`
	// Routing flags OpenRouter models billed at widely different prices.
	Routing RoutingConfig `mapstructure:"routing"`
	// TwilioSegments flags SMS averaging many segments per message.
	TwilioSegments TwilioSegmentsConfig `mapstructure:"twilio_segments"`
	// ApolloCredits projects when Apollo credits run out.
	ApolloCredits ApolloCreditsConfig `mapstructure:"apollo_credits"`
	// Keys flags configured providers with no traffic or failing checks.
	Keys KeysConfig `mapstructure:"keys"`
	// RecentFor is how long the answer of a read without a range (the
	// last 30 days) is reused as it is for the same tenant, scope and
	// kinds: the console asks it on every visit, and a month's advice
	// does not move in a minute. An older answer, up to an hour, is
	// served while a new one is computed in the background. 0 computes
	// every read.
	RecentFor time.Duration `mapstructure:"recent_for"`
}

// RightSizingConfig: calls on Models' keys whose operation is one of
// Operations and whose average output is under MaxAvgOutputTokens.
type RightSizingConfig struct {
	MaxAvgOutputTokens float64 `mapstructure:"max_avg_output_tokens"`
	// Operations are the simple ones (chat, text completion): embeddings
	// or images have no "short output" to speak of.
	Operations []string `mapstructure:"operations"`
	// Models maps an expensive model to the cheaper one of the same
	// provider to suggest; "" switches a default pair off. Both must have
	// prices in the pricing catalog.
	Models map[string]string `mapstructure:"models"`
}

// PromptCachingConfig: models with a cached-input price whose calls send
// at least MinAvgInputTokens on average, less than MaxCachedShare of them
// cached; the saving assumes AchievableCachedShare could be.
type PromptCachingConfig struct {
	MinAvgInputTokens     float64 `mapstructure:"min_avg_input_tokens"`
	MaxCachedShare        float64 `mapstructure:"max_cached_share"`
	AchievableCachedShare float64 `mapstructure:"achievable_cached_share"`
}

// RoutingConfig: an OpenRouter model whose dearest call paid at least
// MinPriceSpread (0.25 = 25%) more per token than its cheapest.
type RoutingConfig struct {
	MinPriceSpread float64 `mapstructure:"min_price_spread"`
}

// TwilioSegmentsConfig: messages averaging more than
// MaxSegmentsPerMessage segments.
type TwilioSegmentsConfig struct {
	MaxSegmentsPerMessage float64 `mapstructure:"max_segments_per_message"`
}

// ApolloCreditsConfig: Apollo has no credit-balance API, so what is left is
// read from provider_gauges (apollo credits_remaining) when something
// writes it, else from PlanCredits, the monthly allowance (0: unknown).
// A Recommendation appears when the credits run out within
// ExhaustionWithin of the window's end at the window's rate.
type ApolloCreditsConfig struct {
	PlanCredits      int64         `mapstructure:"plan_credits"`
	ExhaustionWithin time.Duration `mapstructure:"exhaustion_within"`
}

// KeysConfig: a provider's key checks failing with auth_failed for at least
// FailingFor.
type KeysConfig struct {
	FailingFor time.Duration `mapstructure:"failing_for"`
}

func DefaultConfig() Config {
	return Config{
		MinCalls: 10,
		RightSizing: RightSizingConfig{
			MaxAvgOutputTokens: 50,
			Operations:         []string{"chat", "text_completion"},
			// Same-family pairs that all have catalog prices: ValidateUnder
			// checks, and TestConfig validates the defaults.
			Models: map[string]string{
				"gpt-4o":         "gpt-4o-mini",
				"gpt-4.1":        "gpt-4.1-mini",
				"gpt-4.1-mini":   "gpt-4.1-nano",
				"o3":             "o4-mini",
				"openai/gpt-4o":  "openai/gpt-4o-mini",
				"openai/gpt-4.1": "openai/gpt-4.1-mini",
			},
		},
		PromptCaching:  PromptCachingConfig{MinAvgInputTokens: 1024, MaxCachedShare: 0.2, AchievableCachedShare: 0.5},
		Routing:        RoutingConfig{MinPriceSpread: 0.25},
		TwilioSegments: TwilioSegmentsConfig{MaxSegmentsPerMessage: 1.5},
		ApolloCredits:  ApolloCreditsConfig{ExhaustionWithin: 30 * 24 * time.Hour},
		Keys:           KeysConfig{FailingFor: 48 * time.Hour},
		RecentFor:      time.Minute,
	}
}

// rightSizingProvider is the provider whose catalog prices a model name:
// "vendor/model" names are a gateway's, bare names a direct seller's.
func rightSizingProvider(model string) string {
	if strings.Contains(model, "/") {
		return gateway()
	}
	return directSeller()
}

// ValidateUnder checks the insights block; each error names its key below
// prefix. Not called Validate: confmap would call it on its own and every
// error would be reported twice.
func (c *Config) ValidateUnder(prefix string) error {
	var errs []error
	bad := func(key, msg string) { errs = append(errs, fmt.Errorf("%s%s: %s", prefix, key, msg)) }
	if c.MinCalls < 1 {
		bad("min_calls", "must be at least 1")
	}
	if c.RightSizing.MaxAvgOutputTokens <= 0 {
		bad("right_sizing.max_avg_output_tokens", "must be positive")
	}
	for i, op := range c.RightSizing.Operations {
		if strings.TrimSpace(op) == "" {
			bad(fmt.Sprintf("right_sizing.operations[%d]", i), "must not be empty")
		}
	}
	if cat, err := pricing.Default(); err == nil {
		from := make([]string, 0, len(c.RightSizing.Models))
		for m := range c.RightSizing.Models {
			from = append(from, m)
		}
		sort.Strings(from)
		now := time.Now()
		// Calls are matched to pairs by resolved model: two keys that
		// resolve to one (gpt-4o and gpt-4o-2024-08-06) must agree.
		seen := map[providerModel]string{}
		for _, m := range from {
			to := c.RightSizing.Models[m]
			if to == "" {
				continue
			}
			key := "right_sizing.models." + m
			resolved := providerModel{rightSizingProvider(m), cat.ResolveModel(rightSizingProvider(m), m).Name}
			other, clash := seen[resolved]
			if !clash {
				seen[resolved] = m
			}
			switch {
			case rightSizingProvider(m) != rightSizingProvider(to):
				bad(key, fmt.Sprintf("%s and %s are not priced by the same provider", m, to))
			case m == to || cat.ResolveModel(rightSizingProvider(m), to).Name == resolved.name:
				bad(key, "a model cannot replace itself")
			case clash && c.RightSizing.Models[other] != to:
				bad(key, fmt.Sprintf("%s is the same model as %s (%s), paired with %s", m, other, resolved.name, c.RightSizing.Models[other]))
			default:
				for _, name := range []string{m, to} {
					if _, ok := catalogTokenPrices(cat, rightSizingProvider(name), name, now); !ok {
						bad(key, fmt.Sprintf("%s has no input and output token prices in the pricing catalog", name))
					}
				}
			}
		}
	}
	if c.PromptCaching.MinAvgInputTokens <= 0 {
		bad("prompt_caching.min_avg_input_tokens", "must be positive")
	}
	if c.PromptCaching.MaxCachedShare <= 0 || c.PromptCaching.MaxCachedShare >= 1 {
		bad("prompt_caching.max_cached_share", "must be between 0 and 1, exclusive")
	}
	if c.PromptCaching.AchievableCachedShare <= 0 || c.PromptCaching.AchievableCachedShare > 1 {
		bad("prompt_caching.achievable_cached_share", "must be above 0 and at most 1")
	} else if c.PromptCaching.AchievableCachedShare <= c.PromptCaching.MaxCachedShare {
		bad("prompt_caching.achievable_cached_share", "must be above max_cached_share, or no saving is possible")
	}
	if c.Routing.MinPriceSpread <= 0 {
		bad("routing.min_price_spread", "must be positive")
	}
	if c.TwilioSegments.MaxSegmentsPerMessage < 1 {
		bad("twilio_segments.max_segments_per_message", "must be at least 1")
	}
	if c.ApolloCredits.PlanCredits < 0 {
		bad("apollo_credits.plan_credits", "must not be negative (0: unknown)")
	}
	if c.ApolloCredits.ExhaustionWithin <= 0 {
		bad("apollo_credits.exhaustion_within", "must be positive")
	}
	if c.Keys.FailingFor <= 0 {
		bad("keys.failing_for", "must be positive")
	}
	if c.RecentFor < 0 || c.RecentFor > time.Hour {
		bad("recent_for", "must be between 0 (compute every read) and 1h")
	}
	return errors.Join(errs...)
}

package openai

import (
	"net/http"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// RateLimits reads x-ratelimit-{limit,remaining,reset}-{requests,tokens}
// (resets are Go-style durations such as "6m0s" or "12ms").
func RateLimits(h http.Header) []provider.RateLimit {
	var out []provider.RateLimit
	for _, scope := range []string{"requests", "tokens"} {
		rl := provider.RateLimit{Scope: scope, Limit: provider.HeaderInt(h, "x-ratelimit-limit-"+scope), Remaining: provider.HeaderInt(h, "x-ratelimit-remaining-"+scope)}
		if d, err := time.ParseDuration(strings.TrimSpace(h.Get("x-ratelimit-reset-" + scope))); err == nil {
			rl.Reset = d
		}
		if rl.Limit >= 0 || rl.Remaining >= 0 {
			out = append(out, rl)
		}
	}
	return out
}

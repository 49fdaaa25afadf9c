package apollo

import (
	"net/http"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// RateLimits reads both generations of Apollo's headers: limits
// x-rate-limit-minute|hourly|24-hour (legacy x-rate-limit-daily), usage
// x-minute-usage|x-hourly-usage|x-24-hour-usage (legacy x-daily-usage) and
// what is left, x-*-requests-left. Remaining is computed from limit − usage
// when Apollo sends both, since its "left" figures are unreliable.
func RateLimits(h http.Header) []provider.RateLimit {
	type gen struct{ scope, limit, usage, left string }
	gens := []gen{
		{"minute", "x-rate-limit-minute", "x-minute-usage", "x-minute-requests-left"},
		{"hour", "x-rate-limit-hourly", "x-hourly-usage", "x-hourly-requests-left"},
		{"day", "x-rate-limit-24-hour", "x-24-hour-usage", "x-24-hour-requests-left"},
		{"day", "x-rate-limit-daily", "x-daily-usage", "x-daily-requests-left"},
	}
	var out []provider.RateLimit
	seen := map[string]bool{}
	for _, g := range gens {
		if seen[g.scope] {
			continue
		}
		limit, used, left := provider.HeaderInt(h, g.limit), provider.HeaderInt(h, g.usage), provider.HeaderInt(h, g.left)
		if limit < 0 && left < 0 {
			continue
		}
		rl := provider.RateLimit{Scope: g.scope, Limit: limit, Remaining: left}
		if limit >= 0 && used >= 0 {
			rl.Remaining = max(limit-used, 0)
		}
		seen[g.scope] = true
		out = append(out, rl)
	}
	return out
}

package providerclient

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// OpenAIRateLimits reads x-ratelimit-{limit,remaining,reset}-{requests,tokens}
// (resets are Go-style durations such as "6m0s" or "12ms").
func OpenAIRateLimits(h http.Header) []RateLimit {
	var out []RateLimit
	for _, scope := range []string{"requests", "tokens"} {
		rl := RateLimit{Scope: scope, Limit: headerInt(h, "x-ratelimit-limit-"+scope), Remaining: headerInt(h, "x-ratelimit-remaining-"+scope)}
		if d, err := time.ParseDuration(strings.TrimSpace(h.Get("x-ratelimit-reset-" + scope))); err == nil {
			rl.Reset = d
		}
		if rl.Limit >= 0 || rl.Remaining >= 0 {
			out = append(out, rl)
		}
	}
	return out
}

// OpenRouterRateLimits reads X-RateLimit-Limit/Remaining/Reset, which
// OpenRouter sends only with a 429. Reset is a Unix time in milliseconds.
func OpenRouterRateLimits(h http.Header) []RateLimit {
	rl := RateLimit{Scope: "requests", Limit: headerInt(h, "X-RateLimit-Limit"), Remaining: headerInt(h, "X-RateLimit-Remaining")}
	if ms := headerInt(h, "X-RateLimit-Reset"); ms > 0 {
		if d := time.Until(time.UnixMilli(ms)); d > 0 {
			rl.Reset = d
		}
	}
	if rl.Limit < 0 && rl.Remaining < 0 {
		return nil
	}
	return []RateLimit{rl}
}

// ApolloRateLimits reads both generations of Apollo's headers: limits
// x-rate-limit-minute|hourly|24-hour (legacy x-rate-limit-daily), usage
// x-minute-usage|x-hourly-usage|x-24-hour-usage (legacy x-daily-usage) and
// what is left, x-*-requests-left. Remaining is computed from limit − usage
// when Apollo sends both, since its "left" figures are unreliable.
func ApolloRateLimits(h http.Header) []RateLimit {
	type gen struct{ scope, limit, usage, left string }
	gens := []gen{
		{"minute", "x-rate-limit-minute", "x-minute-usage", "x-minute-requests-left"},
		{"hour", "x-rate-limit-hourly", "x-hourly-usage", "x-hourly-requests-left"},
		{"day", "x-rate-limit-24-hour", "x-24-hour-usage", "x-24-hour-requests-left"},
		{"day", "x-rate-limit-daily", "x-daily-usage", "x-daily-requests-left"},
	}
	var out []RateLimit
	seen := map[string]bool{}
	for _, g := range gens {
		if seen[g.scope] {
			continue
		}
		limit, used, left := headerInt(h, g.limit), headerInt(h, g.usage), headerInt(h, g.left)
		if limit < 0 && left < 0 {
			continue
		}
		rl := RateLimit{Scope: g.scope, Limit: limit, Remaining: left}
		if limit >= 0 && used >= 0 {
			rl.Remaining = max(limit-used, 0)
		}
		seen[g.scope] = true
		out = append(out, rl)
	}
	return out
}

func headerInt(h http.Header, name string) int64 {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return -1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		// "12.0", "1e3"; NaN, infinities and values beyond int64 are
		// unreadable (a float → int64 conversion of them is undefined).
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || !(f >= 0 && f < math.MaxInt64) {
			return -1
		}
		return int64(f)
	}
	if n < 0 {
		return -1
	}
	return n
}

package openrouter

import (
	"net/http"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// RateLimits reads X-RateLimit-Limit/Remaining/Reset, which
// OpenRouter sends only with a 429. Reset is a Unix time in milliseconds.
func RateLimits(h http.Header) []provider.RateLimit {
	rl := provider.RateLimit{Scope: "requests", Limit: provider.HeaderInt(h, "X-RateLimit-Limit"), Remaining: provider.HeaderInt(h, "X-RateLimit-Remaining")}
	if ms := provider.HeaderInt(h, "X-RateLimit-Reset"); ms > 0 {
		if d := time.Until(time.UnixMilli(ms)); d > 0 {
			rl.Reset = d
		}
	}
	if rl.Limit < 0 && rl.Remaining < 0 {
		return nil
	}
	return []provider.RateLimit{rl}
}

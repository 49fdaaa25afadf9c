package apollo

import (
	"net/http"
	"testing"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

func TestRateLimitHeaders(t *testing.T) {
	a := http.Header{}
	a.Set("x-rate-limit-minute", "200")
	a.Set("x-minute-usage", "20")
	a.Set("x-minute-requests-left", "999") // unreliable: limit − usage wins
	a.Set("x-rate-limit-daily", "2000")    // legacy generation
	a.Set("x-daily-usage", "2100")
	got := RateLimits(a)
	if len(got) != 2 || got[0] != (provider.RateLimit{Scope: "minute", Limit: 200, Remaining: 180}) ||
		got[1] != (provider.RateLimit{Scope: "day", Limit: 2000, Remaining: 0}) {
		t.Fatalf("apollo: %+v", got)
	}
}

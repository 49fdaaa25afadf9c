package openai

import (
	"net/http"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

func TestRateLimitHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("x-ratelimit-limit-requests", "5000")
	h.Set("x-ratelimit-remaining-requests", "4999")
	h.Set("x-ratelimit-reset-requests", "12ms")
	h.Set("x-ratelimit-limit-tokens", "800000")
	h.Set("x-ratelimit-remaining-tokens", "799000")
	h.Set("x-ratelimit-reset-tokens", "6m0s")
	got := RateLimits(h)
	if len(got) != 2 || got[0] != (provider.RateLimit{Scope: "requests", Limit: 5000, Remaining: 4999, Reset: 12 * time.Millisecond}) ||
		got[1] != (provider.RateLimit{Scope: "tokens", Limit: 800000, Remaining: 799000, Reset: 6 * time.Minute}) {
		t.Fatalf("openai: %+v", got)
	}
}

package openrouter

import (
	"net/http"
	"testing"
)

func TestRateLimitHeaders(t *testing.T) {
	if RateLimits(http.Header{}) != nil {
		t.Fatal("openrouter limits from no headers")
	}
}

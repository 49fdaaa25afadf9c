package provider

import (
	"net/http"
	"testing"
	"time"
)

func TestHostileNumbers(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"1e300": maxRetryAfter, "+Inf": maxRetryAfter, "NaN": 0, "-5": 0, "1.5": 1500 * time.Millisecond, "90000": maxRetryAfter,
	} {
		if got := retryAfter(http.Header{"Retry-After": {v}}); got != want {
			t.Errorf("Retry-After %s → %s, want %s", v, got, want)
		}
	}
	for v, want := range map[string]int64{"1e300": -1, "+Inf": -1, "NaN": -1, "9223372036854775807": 1<<63 - 1, "12.9": 12, "-3": -1} {
		if got := HeaderInt(http.Header{"X": {v}}, "X"); got != want {
			t.Errorf("header %s → %d, want %d", v, got, want)
		}
	}
}

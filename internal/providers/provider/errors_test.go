package provider

import "testing"

func TestClassifyHTTP(t *testing.T) {
	cases := []struct {
		status int
		typ    string
		want   string
	}{
		{200, "", ClassNone},
		{401, "", ClassAuthFailed},
		{402, "", ClassQuotaExhausted},
		{429, "rate_limit_exceeded", ClassRateLimited},
		{429, "insufficient_quota", ClassQuotaExhausted},
		{400, "", ClassClientError},
		{503, "", ClassServerError},
		{504, "", ClassTimeout},
		{0, "context deadline exceeded", ClassTimeout},
		{0, "connection refused", ClassNetwork},
		{0, "", ClassNone},
	}
	for _, c := range cases {
		if got := ClassifyHTTP(c.status, c.typ); got != c.want {
			t.Errorf("ClassifyHTTP(%d, %q) = %q, want %q", c.status, c.typ, got, c.want)
		}
	}
}

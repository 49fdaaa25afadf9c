package providerclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/provider"
)

func TestClientClassifiesFailures(t *testing.T) {
	cases := []struct {
		name       string
		handler    http.HandlerFunc
		class      string
		status     int
		retryAfter time.Duration
		message    string
	}{
		{"openai 401", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
		}, provider.ClassAuthFailed, 401, 0, "Incorrect API key provided"},
		{"429 with Retry-After", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`))
		}, provider.ClassRateLimited, 429, 7 * time.Second, "Rate limit reached"},
		{"429 insufficient quota", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`))
		}, provider.ClassQuotaExhausted, 429, 0, "You exceeded your current quota"},
		{"exa 402 tag", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(402)
			_, _ = w.Write([]byte(`{"requestId":"r1","error":"No more credits","tag":"NO_MORE_CREDITS"}`))
		}, provider.ClassQuotaExhausted, 402, 0, "No more credits"},
		{"apollo plain text 401", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(401)
			_, _ = w.Write([]byte("Invalid access credentials."))
		}, provider.ClassAuthFailed, 401, 0, "Invalid access credentials."},
		{"503", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }, provider.ClassServerError, 503, 0, ""},
		{"truncated json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"data":[{"a":1},`)) },
			provider.ClassBadResponse, 200, 0, ""},
		{"slow body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"data":[`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, provider.ClassTimeout, 200, 0, ""},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, provider.ClassTimeout, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			cl := &Client{Provider: "test", BaseURL: srv.URL, HTTP: srv.Client(),
				Auth: func(r *http.Request) { r.Header.Set("Authorization", "Bearer sk-secret-value") }}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			var out map[string]any
			_, err := cl.Do(ctx, http.MethodGet, "/x", nil, nil, &out)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("want *Error, got %v", err)
			}
			if pe.Class != c.class || pe.Status != c.status || pe.RetryAfter != c.retryAfter || pe.Message != c.message {
				t.Fatalf("got class %q status %d retry %s message %q", pe.Class, pe.Status, pe.RetryAfter, pe.Message)
			}
			if strings.Contains(err.Error(), "sk-secret-value") || strings.Contains(err.Error(), srv.URL+"/x") {
				t.Fatalf("error leaks the key or the URL: %v", err)
			}
		})
	}
}

func TestRateLimitHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("x-ratelimit-limit-requests", "5000")
	h.Set("x-ratelimit-remaining-requests", "4999")
	h.Set("x-ratelimit-reset-requests", "12ms")
	h.Set("x-ratelimit-limit-tokens", "800000")
	h.Set("x-ratelimit-remaining-tokens", "799000")
	h.Set("x-ratelimit-reset-tokens", "6m0s")
	got := OpenAIRateLimits(h)
	if len(got) != 2 || got[0] != (RateLimit{Scope: "requests", Limit: 5000, Remaining: 4999, Reset: 12 * time.Millisecond}) ||
		got[1] != (RateLimit{Scope: "tokens", Limit: 800000, Remaining: 799000, Reset: 6 * time.Minute}) {
		t.Fatalf("openai: %+v", got)
	}
	a := http.Header{}
	a.Set("x-rate-limit-minute", "200")
	a.Set("x-minute-usage", "20")
	a.Set("x-minute-requests-left", "999") // unreliable: limit − usage wins
	a.Set("x-rate-limit-daily", "2000")    // legacy generation
	a.Set("x-daily-usage", "2100")
	got = ApolloRateLimits(a)
	if len(got) != 2 || got[0] != (RateLimit{Scope: "minute", Limit: 200, Remaining: 180}) ||
		got[1] != (RateLimit{Scope: "day", Limit: 2000, Remaining: 0}) {
		t.Fatalf("apollo: %+v", got)
	}
	if OpenRouterRateLimits(http.Header{}) != nil {
		t.Fatal("openrouter limits from no headers")
	}
}

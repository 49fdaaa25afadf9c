package provider

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
		}, ClassAuthFailed, 401, 0, "Incorrect API key provided"},
		{"429 with Retry-After", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`))
		}, ClassRateLimited, 429, 7 * time.Second, "Rate limit reached"},
		{"429 insufficient quota", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`))
		}, ClassQuotaExhausted, 429, 0, "You exceeded your current quota"},
		{"exa 402 tag", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(402)
			_, _ = w.Write([]byte(`{"requestId":"r1","error":"No more credits","tag":"NO_MORE_CREDITS"}`))
		}, ClassQuotaExhausted, 402, 0, "No more credits"},
		{"apollo plain text 401", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(401)
			_, _ = w.Write([]byte("Invalid access credentials."))
		}, ClassAuthFailed, 401, 0, "Invalid access credentials."},
		{"503", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }, ClassServerError, 503, 0, ""},
		{"truncated json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"data":[{"a":1},`)) },
			ClassBadResponse, 200, 0, ""},
		{"slow body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"data":[`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, ClassTimeout, 200, 0, ""},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, ClassTimeout, 0, 0, ""},
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

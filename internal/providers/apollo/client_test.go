package apollo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/providers/provider/clienttest"
)

const apolloTestKey = "apollo_MASTER_key_123"

func apolloRL(rls []provider.RateLimit) []string {
	var out []string
	for _, r := range rls {
		out = append(out, fmt.Sprintf("%s %s limit=%d remaining=%d reset=%s", r.Endpoint, r.Scope, r.Limit, r.Remaining, r.Reset))
	}
	return out
}

// apolloServer serves handler under /api/v1 after checking the key header.
func apolloServer(t *testing.T, handler http.HandlerFunc) *clienttest.Server {
	t.Helper()
	return clienttest.NewKeyedServer(t, "x-api-key", apolloTestKey, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("unexpected Authorization header")
		}
		handler(w, r)
	})
}

func apolloNew(srv *clienttest.Server) *Client {
	return NewClient(ClientConfig{BaseURL: srv.URL + "/api/v1/", APIKey: apolloTestKey}, srv.Client())
}

const apolloUsageStatsBody = `{
  "[\"api/v1/people\",\"match\"]": {
    "day":    {"limit": 2000, "consumed": 150, "left_over": 1999},
    "hour":   {"limit": 400,  "consumed": 400, "left_over": 3},
    "minute": {"limit": 50,   "consumed": 60,  "left_over": 0}
  },
  "[\"api/v1/mixed_companies\",\"search\"]": {
    "day":    {"limit": 600, "consumed": 0, "left_over": 600},
    "hour":   {"limit": 200, "consumed": 1, "left_over": 200},
    "minute": {"limit": 50,  "consumed": 1, "left_over": 49}
  },
  "api/v1/organizations/enrich": {
    "minute": {"limit": "100", "consumed": "1", "left_over": "12"},
    "day":    {"limit": null, "consumed": 3, "left_over": 42}
  },
  "[\"api/v1/contacts\"]": {"hour": {"consumed": 5}}
}`

func TestApolloPollUsageStats(t *testing.T) {
	srv := apolloServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/usage_stats/api_usage_stats" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		if b, _ := io.ReadAll(r.Body); string(b) != "{}" {
			t.Errorf("body = %q", b)
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		// legacy daily headers next to the current minute/hour ones
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("x-rate-limit-minute", "200")
		h.Set("x-minute-usage", "5")
		h.Set("x-minute-requests-left", "100") // disagrees: limit − usage wins
		h.Set("x-rate-limit-hourly", "1000")
		h.Set("x-hourly-usage", "10")
		h.Set("x-hourly-requests-left", "990")
		h.Set("x-rate-limit-daily", "5000")
		h.Set("x-daily-usage", "20")
		h.Set("x-daily-requests-left", "4980")
		fmt.Fprint(w, apolloUsageStatsBody)
	})
	a := apolloNew(srv)
	if a.Provider() != Name {
		t.Fatalf("Provider() = %q", a.Provider())
	}
	p, err := a.Poll(context.Background(), time.Now().Add(-time.Hour), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Usage) != 0 || len(p.Gauges) != 0 {
		t.Errorf("usage/gauges = %+v / %+v", p.Usage, p.Gauges)
	}
	clienttest.SameLines(t, "rate limits", apolloRL(p.RateLimits), []string{
		// contacts announces neither a limit nor what is left: nothing
		"mixed_companies/search minute limit=50 remaining=49 reset=0s",
		"mixed_companies/search hour limit=200 remaining=199 reset=0s",
		"mixed_companies/search day limit=600 remaining=600 reset=0s",
		"people/match minute limit=50 remaining=0 reset=0s",   // consumed > limit: clamped
		"people/match hour limit=400 remaining=0 reset=0s",    // left_over says 3
		"people/match day limit=2000 remaining=1850 reset=0s", // left_over says 1999
		"organizations/enrich minute limit=100 remaining=99 reset=0s",
		"organizations/enrich day limit=-1 remaining=42 reset=0s", // no limit: left_over is all there is
		" minute limit=200 remaining=195 reset=0s",
		" hour limit=1000 remaining=990 reset=0s",
		" day limit=5000 remaining=4980 reset=0s",
	})
}

func TestApolloEndpointNames(t *testing.T) {
	for key, want := range map[string]string{
		`["api/v1/people","match"]`:         "people/match",
		`["/api/v1/people","bulk_match"]`:   "people/bulk_match",
		`["api/v1/organizations","enrich"]`: "organizations/enrich",
		`["api/v1/mixed_people","search"]`:  "mixed_people/search",
		`["api/v1/auth"]`:                   "auth",
		`api/v1/organizations/bulk_enrich`:  "organizations/bulk_enrich",
		`people/match`:                      "people/match",
		`["api/v1/people", 3]`:              `["api/v1/people", 3]`,
		`weird key`:                         "weird key",
	} {
		if got := apolloEndpoint(key); got != want {
			t.Errorf("apolloEndpoint(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestApolloPollNotMasterKey(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":"api/v1/usage_stats/api_usage_stats is not accessible with this api_key","error_code":"API_INACCESSIBLE"}`: "usage stats need a master API key (Apollo said: api/v1/usage_stats/api_usage_stats is not accessible with this api_key)",
		``: "usage stats need a master API key",
	} {
		srv := apolloServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, body)
		})
		p, err := apolloNew(srv).Poll(context.Background(), time.Time{}, time.Now())
		var pe *provider.Error
		if !errors.As(err, &pe) {
			t.Fatalf("err = %v", err)
		}
		if pe.Class != provider.ClassAuthFailed || pe.Status != 403 || pe.Message != want {
			t.Errorf("error = %+v", pe)
		}
		if strings.Contains(err.Error(), apolloTestKey) {
			t.Errorf("key leaked: %v", err)
		}
		if len(p.RateLimits)+len(p.Usage) != 0 {
			t.Errorf("poll = %+v", p)
		}
	}
}

func TestApolloPollFailures(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		status            int
		class, message    string
	}{
		{"plain 401", "text/plain", "Invalid access credentials.", 401, provider.ClassAuthFailed, "Invalid access credentials."},
		{"429", "application/json", `{"message":"The maximum number of api calls allowed for api/v1/usage_stats/api_usage_stats is 10 times per minute."}`,
			429, provider.ClassRateLimited, "The maximum number of api calls allowed for api/v1/usage_stats/api_usage_stats is 10 times per minute."},
		{"500", "text/html", "<html>oops</html>", 500, provider.ClassServerError, "<html>oops</html>"},
		{"not a map", "application/json", `[1,2]`, 200, provider.ClassBadResponse, ""},
		{"no windows", "application/json", `{"[\"api/v1/people\",\"match\"]": 7}`, 200, provider.ClassBadResponse,
			"no usage stats entry has minute/hour/day windows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := apolloServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			_, err := apolloNew(srv).Poll(context.Background(), time.Time{}, time.Now())
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if pe.Class != tc.class || pe.Status != tc.status || pe.Message != tc.message {
				t.Errorf("error = %+v", pe)
			}
			if tc.status == 429 && pe.RetryAfter != 30*time.Second {
				t.Errorf("RetryAfter = %s", pe.RetryAfter)
			}
		})
	}
}

func TestApolloCheck(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		status            int
		up                bool
		class, message    string
	}{
		{"logged in", "application/json", `{"healthy":true,"is_logged_in":true}`, 200, true, "", ""},
		{"not logged in", "application/json", `{"healthy":true,"is_logged_in":false}`, 200, false, provider.ClassAuthFailed,
			"is_logged_in is false: key not accepted"},
		{"no field", "application/json", `{"healthy":true}`, 200, false, provider.ClassBadResponse, "health answer has no is_logged_in"},
		{"plain 401", "text/plain; charset=utf-8", "Invalid access credentials.", 401, false, provider.ClassAuthFailed, "Invalid access credentials."},
		{"502", "text/plain", "Bad Gateway", 502, false, provider.ClassServerError, "Bad Gateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := apolloServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.Path != "/api/v1/auth/health" {
					t.Errorf("request %s %s", r.Method, r.URL)
				}
				h := w.Header()
				h.Set("Content-Type", tc.ctype)
				// the current header generation
				h.Set("x-rate-limit-minute", "400")
				h.Set("x-minute-usage", "1")
				h.Set("x-minute-requests-left", "399")
				h.Set("x-rate-limit-hourly", "2000")
				h.Set("x-hourly-usage", "3")
				h.Set("x-hourly-requests-left", "1")
				h.Set("x-rate-limit-24-hour", "4000")
				h.Set("x-24-hour-usage", "4100")
				h.Set("x-24-hour-requests-left", "7")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			ch := apolloNew(srv).Check(context.Background())
			if ch.Up != tc.up || ch.Class != tc.class || ch.HTTPStatus != tc.status || ch.Message != tc.message || ch.Latency <= 0 {
				t.Errorf("check = %+v", ch)
			}
			clienttest.SameLines(t, "check rate limits", apolloRL(ch.RateLimits), []string{
				" minute limit=400 remaining=399 reset=0s",
				" hour limit=2000 remaining=1997 reset=0s",
				" day limit=4000 remaining=0 reset=0s",
			})
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("%d requests", n)
			}
		})
	}
}

func TestApolloTimeout(t *testing.T) {
	srv := apolloServer(t, clienttest.Slow)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := apolloNew(srv).Poll(ctx, time.Time{}, time.Now()); provider.ClassOf(err) != provider.ClassTimeout {
		t.Fatalf("err = %v", err)
	}
}

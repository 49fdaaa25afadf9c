package providerclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The fuzz targets below feed each provider's poller and key check with
// arbitrary answers through an in-memory transport, and check what every
// answer must respect whatever it says:
//
//   - no panic, and bounded work: a poll makes at most a fixed number of
//     requests (a provider repeating its page cursor is not followed
//     forever) and every request goes to the configured host (credentials
//     are never sent elsewhere, whatever a next-page link says);
//   - no negative usage: quantities (tokens, requests, counts) are never
//     negative; only money kinds (*_usd) may be (refunds, credits);
//   - buckets are real intervals: Start before End;
//   - rate limits are -1 (not announced) or more, resets and Retry-After
//     never negative;
//   - no configured key in any error or check message, even when the
//     provider quotes it, and check messages stay short.
//
// fuzzStatuses are the answers' status codes, picked by the first argument.
var fuzzStatuses = []int{200, 200, 200, 200, 201, 204, 400, 401, 402, 403, 404, 422, 429, 500, 502, 503}

const fuzzHost = "provider.fuzz"

// fuzzTransport answers every request in memory with body(path).
type fuzzTransport struct {
	t      *testing.T
	status int
	header http.Header
	body   func(path string) []byte
	n      int
}

func (ft *fuzzTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ft.n++
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	if r.URL.Host != fuzzHost {
		ft.t.Errorf("request sent to %s: credentials left the provider's host", r.URL.Redacted())
	}
	h := ft.header.Clone()
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: ft.status, Header: h, Body: io.NopCloser(bytes.NewReader(ft.body(r.URL.Path))),
		Request: r, ContentLength: -1}, nil
}

func newFuzzTransport(t *testing.T, status uint8, headers string, body func(string) []byte) (*fuzzTransport, *http.Client) {
	ft := &fuzzTransport{t: t, status: fuzzStatuses[int(status)%len(fuzzStatuses)], header: fuzzHeaders(headers), body: body}
	return ft, &http.Client{Transport: ft, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// fuzzHeaders reads "Name: value" lines.
func fuzzHeaders(s string) http.Header {
	h := http.Header{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && len(h) < 32 {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return h
}

// fuzzWindow is the poll window: three UTC days.
func fuzzWindow() (from, now time.Time) {
	now = time.Date(2026, 11, 26, 15, 4, 5, 0, time.UTC)
	return now.Add(-50 * time.Hour), now
}

// checkPoll checks a poll's outcome against the invariants above.
func checkPoll(t *testing.T, ft *fuzzTransport, maxRequests int, p Poll, err error, secrets ...string) {
	t.Helper()
	if ft.n > maxRequests {
		t.Errorf("poll made %d requests, more than %d", ft.n, maxRequests)
	}
	for _, u := range p.Usage {
		if u.Kind == "" {
			t.Errorf("usage without kind: %+v", u)
		}
		if !strings.HasSuffix(u.Kind, "_usd") && u.Value.IsNegative() {
			t.Errorf("negative %s: %s", u.Kind, u.Value)
		}
		if !u.Start.Before(u.End) {
			t.Errorf("bucket [%s, %s) is not an interval", u.Start, u.End)
		}
	}
	checkRateLimits(t, p.RateLimits)
	checkErr(t, err, secrets...)
}

func checkRateLimits(t *testing.T, rls []RateLimit) {
	t.Helper()
	for _, rl := range rls {
		if rl.Limit < -1 || rl.Remaining < -1 || rl.Reset < 0 {
			t.Errorf("rate limit out of range: %+v", rl)
		}
	}
}

func checkErr(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	if ClassOf(err) == "" {
		t.Errorf("error without class: %v", err)
	}
	noSecret(t, err.Error(), secrets)
	var walk func(error)
	walk = func(e error) {
		var pe *Error
		if errors.As(e, &pe) {
			if pe.RetryAfter < 0 {
				t.Errorf("negative Retry-After %s", pe.RetryAfter)
			}
			if len(pe.Message) > 1024 {
				t.Errorf("error message of %d bytes", len(pe.Message))
			}
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
}

func checkCheck(t *testing.T, ch Check, secrets ...string) {
	t.Helper()
	noSecret(t, ch.Message, secrets)
	if len(ch.Message) > 1024 {
		t.Errorf("check message of %d bytes", len(ch.Message))
	}
	if !ch.Up && ch.Class == "" {
		t.Errorf("down without a class: %+v", ch)
	}
	checkRateLimits(t, ch.RateLimits)
}

func noSecret(t *testing.T, s string, secrets []string) {
	t.Helper()
	for _, k := range secrets {
		if strings.Contains(s, k) {
			t.Errorf("key %q leaked in %q", k, s)
		}
	}
}

const (
	fuzzOpenAIAdmin = "sk-admin-FUZZ0000secret"
	fuzzOpenAIAPI   = "sk-proj-FUZZ1111secret"
)

// FuzzOpenAI: the Usage and Costs API pages (usage, costs) and the key
// check. The same page comes back for every page request, so has_more with
// any cursor must stop at the second page.
func FuzzOpenAI(f *testing.F) {
	usage := `{"object":"page","data":[{"object":"bucket","start_time":1764028800,"end_time":1764115200,"results":[
		{"object":"organization.usage.completions.result","input_tokens":1000,"output_tokens":200,"input_cached_tokens":800,
		"num_model_requests":3,"project_id":"proj_1","model":"gpt-4o-mini","batch":null}]}],"has_more":false,"next_page":null}`
	costs := `{"object":"page","data":[{"start_time":1764028800,"end_time":1764115200,"results":[
		{"object":"organization.costs.result","amount":{"value":0.06,"currency":"usd"},"line_item":"gpt-4o, input","project_id":"proj_1"}]}],
		"has_more":true,"next_page":"page_AAAA"}`
	f.Add(uint8(0), "x-ratelimit-limit-requests: 500\nx-ratelimit-remaining-requests: 499\nx-ratelimit-reset-requests: 120ms", []byte(usage), []byte(costs))
	f.Add(uint8(0), "", []byte(`{"data":[{"start_time":"1764028800","end_time":1764115200,"result":[{"input_tokens":-5,"output_tokens":1e400,"x":"12"}]}],"has_more":true,"next_page":""}`),
		[]byte(`{"data":[{"start_time":1764115200,"end_time":1764028800,"results":[{"amount":{"value":"-0.5","currency":"EUR"}},{"amount":{"value":"1e-9999"}}]}]}`))
	f.Add(uint8(0), "", []byte(`{"data":[{"start_time":9223372036854775807999,"end_time":-1e30,"results":[{"input_tokens":5}]},{"start_time":null}]}`), []byte(`[]`))
	f.Add(uint8(8), "Retry-After: 1e300", []byte(`{"error":{"message":"Incorrect API key provided: `+fuzzOpenAIAdmin+`","type":"invalid_request_error","code":"invalid_api_key"}}`), []byte(`{}`))
	f.Add(uint8(12), "Retry-After: +Inf\nx-ratelimit-limit-tokens: 1e300\nx-ratelimit-remaining-tokens: NaN", []byte(`{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}`), []byte(`null`))
	f.Add(uint8(13), "", []byte("<html>502 Bad Gateway</html>"), []byte(`{"data":`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, usageBody, costsBody []byte) {
		ft, hc := newFuzzTransport(t, status, headers, func(path string) []byte {
			if strings.HasSuffix(path, "/organization/costs") {
				return costsBody
			}
			return usageBody
		})
		o := NewOpenAI(OpenAIConfig{BaseURL: "https://" + fuzzHost + "/v1", AdminKey: fuzzOpenAIAdmin, APIKey: fuzzOpenAIAPI}, hc)
		from, now := fuzzWindow()
		p, err := o.Poll(context.Background(), from, now)
		// Eight usage types and the costs, at most two pages each.
		checkPoll(t, ft, 2*(len(openAIDefaultUsageTypes)+1), p, err, fuzzOpenAIAdmin, fuzzOpenAIAPI)
		for _, u := range p.Usage {
			if u.Account != "openai" {
				t.Errorf("usage of account %q", u.Account)
			}
		}
		checkCheck(t, o.Check(context.Background()), fuzzOpenAIAdmin, fuzzOpenAIAPI)
	})
}

const (
	fuzzOpenRouterKey  = "sk-or-v1-FUZZ2222secret"
	fuzzOpenRouterMgmt = "sk-or-v1-FUZZ3333mgmt"
)

// FuzzOpenRouter: /key, /credits and /activity, and the key check.
func FuzzOpenRouter(f *testing.F) {
	key := `{"data":{"label":"sk-or-v1-abc...xyz","limit":10,"limit_reset":"monthly","limit_remaining":7.5,"usage":2.5,
		"usage_daily":0.25,"usage_weekly":1,"usage_monthly":2.5,"byok_usage":0,"is_free_tier":false,"free_model_daily_requests":{"remaining":50}}}`
	credits := `{"data":{"total_credits":25,"total_usage":12.3456}}`
	activity := `{"data":[{"date":"2026-11-25","model":"openai/gpt-4o-mini","provider_name":"OpenAI","usage":0.0123,"requests":3,
		"prompt_tokens":1000,"completion_tokens":200,"reasoning_tokens":0,"byok_usage_inference":0}]}`
	f.Add(uint8(0), "", []byte(key), []byte(credits), []byte(activity))
	f.Add(uint8(0), "", []byte(`{"data":{"label":"`+fuzzOpenRouterKey+`","limit":null,"usage":"1e9999"}}`), []byte(`{"data":{"total_credits":"x","total_usage":-1}}`),
		[]byte(`{"data":[{"date":"2026-11-25T00:00:00Z","requests":-3,"prompt_tokens":"-1","usage":-0.5},{"date":"2026-11-2"},{"date":12}]}`))
	f.Add(uint8(12), "X-RateLimit-Limit: 1e300\nX-RateLimit-Remaining: -4\nX-RateLimit-Reset: 99999999999999999", []byte(`{"error":{"code":429,"message":"Rate limit exceeded"}}`), []byte(`{}`), []byte(`{}`))
	f.Add(uint8(7), "", []byte(`{"error":{"code":401,"message":"No auth credentials found for `+fuzzOpenRouterMgmt+`"}}`), []byte(`{"data":null}`), []byte(`{"data":{}}`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, keyBody, creditsBody, activityBody []byte) {
		ft, hc := newFuzzTransport(t, status, headers, func(path string) []byte {
			switch {
			case strings.HasSuffix(path, "/credits"):
				return creditsBody
			case strings.HasSuffix(path, "/activity"):
				return activityBody
			}
			return keyBody
		})
		r := NewOpenRouter(OpenRouterConfig{BaseURL: "https://" + fuzzHost + "/api/v1", APIKey: fuzzOpenRouterKey, ManagementKey: fuzzOpenRouterMgmt}, hc)
		from, now := fuzzWindow()
		p, err := r.Poll(context.Background(), from, now)
		checkPoll(t, ft, 3, p, err, fuzzOpenRouterKey, fuzzOpenRouterMgmt)
		for _, g := range p.Gauges {
			noSecret(t, g.Account, []string{fuzzOpenRouterKey, fuzzOpenRouterMgmt})
		}
		for _, u := range p.Usage {
			if u.Start.Before(from.Truncate(24*time.Hour)) || !u.Start.Before(now.Truncate(24*time.Hour)) {
				t.Errorf("activity day %s outside [%s, %s)", u.Start, from, now)
			}
		}
		checkCheck(t, r.Check(context.Background()), fuzzOpenRouterKey, fuzzOpenRouterMgmt)
	})
}

const (
	fuzzExaAPIKey     = "exa-api-FUZZ4444secret"
	fuzzExaServiceKey = "exa-svc-FUZZ5555secret"
)

// FuzzExa: the key list, each key's daily usage, and the key check.
func FuzzExa(f *testing.F) {
	keys := `{"apiKeys":[{"id":"key_1","name":"prod"},{"id":7},{"id":null,"name":"skipped"}]}`
	usage := `{"api_key_id":"key_1","api_key_name":"prod","team_id":"team_42","total_cost_usd":0.105,
		"cost_breakdown":[{"price_id":"p1","price_name":"search","quantity":21,"amount_usd":0.105}]}`
	f.Add(uint8(0), "", []byte(keys), []byte(usage))
	f.Add(uint8(0), "", []byte(`[{"id":"a"},{"id":"b"}]`), []byte(`{"team_id":5,"total_cost_usd":"-1e-9999","cost_breakdown":[{"quantity":-21,"amount_usd":null},{"quantity":"NaN"}]}`))
	f.Add(uint8(0), "", []byte(`{"data":"nope","keys":[{"id":"x"}]}`), []byte(`{"cost_breakdown":{}}`))
	f.Add(uint8(8), "", []byte(`{"error":"Invalid API key `+fuzzExaServiceKey+`","tag":"INVALID_API_KEY"}`), []byte(`{}`))
	f.Add(uint8(6), "", []byte(`{"error":"query required `+fuzzExaAPIKey+`"}`), []byte(`{}`))
	f.Add(uint8(8), "", []byte(`{"error":"no more credits","tag":"NO_MORE_CREDITS"}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, keysBody, usageBody []byte) {
		ft, hc := newFuzzTransport(t, status, headers, func(path string) []byte {
			if path == exaKeysPath || path == "/search" {
				return keysBody
			}
			return usageBody
		})
		e := NewExa(ExaConfig{BaseURL: "https://" + fuzzHost, AdminBaseURL: "https://" + fuzzHost, APIKey: fuzzExaAPIKey, ServiceKey: fuzzExaServiceKey}, hc)
		from, now := fuzzWindow()
		p, err := e.Poll(context.Background(), from, now)
		// The key list, then at most one request per key and day.
		nkeys := 0
		if ks, kerr := e.keys(context.Background()); kerr == nil {
			nkeys = len(ks)
		}
		checkPoll(t, ft, 2+nkeys*len(exaDays(from, now)), p, err, fuzzExaAPIKey, fuzzExaServiceKey)
		checkCheck(t, e.Check(context.Background()), fuzzExaAPIKey, fuzzExaServiceKey)
		api := NewExa(ExaConfig{BaseURL: "https://" + fuzzHost, APIKey: fuzzExaAPIKey}, hc)
		checkCheck(t, api.Check(context.Background()), fuzzExaAPIKey)
	})
}

const (
	fuzzTwilioSID   = "AC00000000000000000000000000000fuzz"
	fuzzTwilioToken = "twilio-FUZZ6666secret"
)

// FuzzTwilio: the Daily and Today usage records lists (paged by
// next_page_uri), the balance, and the key check.
func FuzzTwilio(f *testing.F) {
	records := `{"usage_records":[{"account_sid":"` + fuzzTwilioSID + `","category":"sms","start_date":"2026-11-25","end_date":"2026-11-25",
		"count":"12","count_unit":"messages","usage":"14","usage_unit":"segments","price":"0.1106","price_unit":"usd"},
		{"category":"totalprice","start_date":"2026-11-25","price":"0.5","price_unit":"USD","usage":"0.5","usage_unit":"usd"}],
		"next_page_uri":"/2010-04-01/Accounts/` + fuzzTwilioSID + `/Usage/Records/Daily.json?Page=1&PageToken=PA1"}`
	balance := `{"account_sid":"` + fuzzTwilioSID + `","balance":"-3.25","currency":"USD","status":"active"}`
	f.Add(uint8(0), "", []byte(records), []byte(balance))
	f.Add(uint8(0), "", []byte(`{"usage_records":[{"category":"calls","start_date":"2026-13-45","count":"-4","usage":-1,"price":"1e9999","price_unit":"eur"}],
		"next_page_uri":"https://evil.example/steal"}`), []byte(`{"balance":"NaN","currency":"usd","status":"suspended`+strings.Repeat("!", 2000)+`"}`))
	f.Add(uint8(0), "", []byte(`{"usage_records":[],"next_page_uri":"//evil.example/x"}`), []byte(`{"status":"closed"}`))
	f.Add(uint8(0), "", []byte(`{"usage_records":null,"next_page_uri":"https://`+fuzzHost+`/2010-04-01/x.json"}`), []byte(`{}`))
	f.Add(uint8(7), "", []byte(`{"code":20003,"message":"Authenticate `+fuzzTwilioToken+`","status":401}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, recordsBody, balanceBody []byte) {
		ft, hc := newFuzzTransport(t, status, headers, func(path string) []byte {
			if strings.Contains(path, "/Usage/Records/") {
				return recordsBody
			}
			return balanceBody
		})
		tw := NewTwilio(TwilioConfig{BaseURL: "https://" + fuzzHost, AccountSID: fuzzTwilioSID, AuthToken: fuzzTwilioToken}, hc)
		from, now := fuzzWindow()
		p, err := tw.Poll(context.Background(), from, now)
		// Per category a Daily and a Today list of at most two pages, and the balance.
		checkPoll(t, ft, len(TwilioDefaultCategories)*2*2+1, p, err, fuzzTwilioToken)
		for _, n := range tw.Notes() {
			noSecret(t, n, []string{fuzzTwilioToken})
		}
		checkCheck(t, tw.Check(context.Background()), fuzzTwilioToken)
	})
}

const fuzzApolloKey = "apollo-FUZZ7777secret"

// FuzzApollo: the usage stats (per endpoint and window) and the key check.
func FuzzApollo(f *testing.F) {
	stats := `{"[\"api/v1/people\", \"match\"]":{"day":{"limit":2000,"consumed":12,"left_over":1988},
		"hour":{"limit":400,"consumed":12,"left_over":388},"minute":{"limit":200,"consumed":1,"left_over":199}},
		"api/v1/mixed_companies/search":{"day":{"limit":"1000","consumed":"1001"}}}`
	f.Add(uint8(0), "x-rate-limit-minute: 200\nx-minute-usage: 3\nx-minute-requests-left: 197", []byte(stats), []byte(`{"is_logged_in":true}`))
	f.Add(uint8(0), "x-rate-limit-24-hour: 1e300\nx-24-hour-usage: -5\nx-daily-requests-left: +Inf", []byte(`{"k":{"day":{"limit":1e30,"consumed":-1,"left_over":99999999999999999999}},"j":[],"[]":{"minute":null}}`),
		[]byte(`{"is_logged_in":false}`))
	f.Add(uint8(0), "", []byte(`{"x":1}`), []byte(`{}`))
	f.Add(uint8(9), "", []byte(`forbidden for key `+fuzzApolloKey), []byte(`{"is_logged_in":"yes"}`))
	f.Fuzz(func(t *testing.T, status uint8, headers string, statsBody, healthBody []byte) {
		ft, hc := newFuzzTransport(t, status, headers, func(path string) []byte {
			if strings.HasSuffix(path, "/auth/health") {
				return healthBody
			}
			return statsBody
		})
		a := NewApollo(ApolloConfig{BaseURL: "https://" + fuzzHost + "/api/v1", APIKey: fuzzApolloKey}, hc)
		from, now := fuzzWindow()
		p, err := a.Poll(context.Background(), from, now)
		checkPoll(t, ft, 1, p, err, fuzzApolloKey)
		if len(p.Usage) > 0 || len(p.Gauges) > 0 {
			t.Errorf("apollo reported usage or gauges: %+v", p)
		}
		checkCheck(t, a.Check(context.Background()), fuzzApolloKey)
	})
}

// TestHostileNumbers pins the findings of the fuzz targets above: waits and
// limits that would overflow (a float → int64 conversion of them is
// undefined) read as the cap or as "not announced", never negative.
func TestHostileNumbers(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"1e300": maxRetryAfter, "+Inf": maxRetryAfter, "NaN": 0, "-5": 0, "1.5": 1500 * time.Millisecond, "90000": maxRetryAfter,
	} {
		if got := retryAfter(http.Header{"Retry-After": {v}}); got != want {
			t.Errorf("Retry-After %s → %s, want %s", v, got, want)
		}
	}
	for v, want := range map[string]int64{"1e300": -1, "+Inf": -1, "NaN": -1, "9223372036854775807": 1<<63 - 1, "12.9": 12, "-3": -1} {
		if got := headerInt(http.Header{"X": {v}}, "X"); got != want {
			t.Errorf("header %s → %d, want %d", v, got, want)
		}
	}
	for v, want := range map[any]int64{"1e30": -1, "99999999999999999999": -1, "-1": -1, "12": 12, nil: -1} {
		if got := apolloInt(v); got != want {
			t.Errorf("apolloInt(%v) = %d, want %d", v, got, want)
		}
	}
}

package apiproxyreceiver

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/nexus-otel/nexus/internal/semconv"
)

// Error answers as the providers document them.
const (
	openAI429       = `{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
	openAI401       = `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`
	openRouter402   = `{"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/credits","metadata":{}}}`
	openRouter502   = `{"error":{"code":502,"message":"Provider returned error","metadata":{"provider_name":"OpenAI"}},"usage":{"prompt_tokens":0,"completion_tokens":0,"cost":0.0000042}}`
	exa402          = `{"requestId":"r1","error":"You have run out of credits","tag":"NO_MORE_CREDITS"}`
	exa400WithCost  = `{"requestId":"r2","error":"Invalid contents option","tag":"INVALID_REQUEST","costDollars":{"total":0.001}}`
	twilio429       = `{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}`
	twilio400       = `{"code":21211,"message":"Invalid 'To' Phone Number: +1555","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`
	apolloForbidden = `{"error":"api/v1/people/match is not accessible with this api_key","error_code":"API_INACCESSIBLE"}`
)

// proxyCase is one call through the proxy and the cost it must get.
type proxyCase struct {
	name, method, path, body string
	serve                    http.HandlerFunc
	endpoint                 func(c *Config, url string)
	status                   string // cost status
	cost                     int64  // pico-USD when reported or computed
	reason                   string // refused: exact; unpriced: substring
}

func textAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func jsonAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { serveJSON(w, status, body) }
}

// cutAfter streams events, then drops the connection.
func cutAfter(events []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		serveStream(w, events, 0)
		panic(http.ErrAbortHandler)
	}
}

// TestRefusalsThroughTheProxy: per provider, a request the provider refused
// is stored as a known $0 with its reason, through the proxy and the cost
// processor as configs/proxy.yaml runs them; a reported cost on an error
// wins; what the provider may have billed is priced or unpriced.
func TestRefusalsThroughTheProxy(t *testing.T) {
	openAI := func(c *Config, u string) { c.Route("openai").Endpoint = u + "/v1" }
	openRouter := func(c *Config, u string) { c.Route("openrouter").Endpoint = u + "/api/v1" }
	exa := func(c *Config, u string) { c.Route("exa").Endpoint = u }
	twilio := func(c *Config, u string) { c.Route("twilio").Endpoint = u }
	apollo := func(c *Config, u string) { c.Route("apollo").Endpoint = u + "/api/v1" }
	const (
		chatPath   = "/openai/v1/chat/completions"
		orPath     = "/openrouter/api/v1/chat/completions"
		smsPath    = "/twilio/2010-04-01/Accounts/AC123/Messages.json"
		smsBody    = "To=%2B15558675310&Body=Hello"
		matchPath  = "/apollo/api/v1/people/match"
		streamBody = `{"messages":[{"content":"Hello","role":"user"}],"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}`
	)
	events := openAIStream("gpt-4o-mini-2024-07-18")
	cases := []proxyCase{
		{name: "openai 429", method: "POST", path: chatPath, body: chatReq, serve: jsonAnswer(429, openAI429), endpoint: openAI,
			status: "refused", reason: "refused: HTTP 429 rate_limited"},
		{name: "openai 401", method: "POST", path: chatPath, body: chatReq, serve: jsonAnswer(401, openAI401), endpoint: openAI,
			status: "refused", reason: "refused: HTTP 401 auth_failed"},
		// Cut after the usage chunk, before [DONE]: billed for what it
		// generated, 800 × $0.15 + 200 cached × $0.075 + 500 × $0.60 per 1M.
		{name: "openai stream cut after usage", method: "POST", path: chatPath, body: streamBody, serve: cutAfter(events[:5]), endpoint: openAI,
			status: "computed", cost: 435_000_000},
		{name: "openai stream cut before usage", method: "POST", path: chatPath, body: streamBody, serve: cutAfter(events[:3]), endpoint: openAI,
			status: "unpriced", reason: "failed after HTTP 200 with no usage reported: unknown what openai billed"},
		{name: "openrouter 402", method: "POST", path: orPath, body: `{"model":"openai/gpt-4o"}`, serve: jsonAnswer(402, openRouter402),
			endpoint: openRouter, status: "refused", reason: "refused: HTTP 402 quota_exhausted"},
		{name: "openrouter 502 reporting a cost", method: "POST", path: orPath, body: `{"model":"openai/gpt-4o"}`, serve: jsonAnswer(502, openRouter502),
			endpoint: openRouter, status: "reported", cost: 4_200_000},
		{name: "openrouter error inside a 200", method: "POST", path: orPath, body: `{"model":"openai/gpt-4o","stream":true}`,
			serve: func(w http.ResponseWriter, r *http.Request) {
				serveStream(w, []string{
					`data: {"id":"gen-e","model":"openai/gpt-4o","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}` + "\n\n",
					`data: {"id":"gen-e","model":"openai/gpt-4o","object":"chat.completion.chunk","error":{"code":"server_error","message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}` + "\n\n",
				}, 0)
			},
			endpoint: openRouter, status: "unpriced", reason: "failed after HTTP 200 with no usage reported: unknown what openrouter billed"},
		{name: "exa 402", method: "POST", path: "/exa/search", body: `{"query":"q"}`, serve: jsonAnswer(402, exa402), endpoint: exa,
			status: "refused", reason: "refused: HTTP 402 quota_exhausted"},
		{name: "exa 429", method: "POST", path: "/exa/search", body: `{"query":"q"}`, serve: jsonAnswer(429, `{"requestId":"r","error":"Too many requests"}`),
			endpoint: exa, status: "refused", reason: "refused: HTTP 429 rate_limited"},
		{name: "exa 400 reporting a cost", method: "POST", path: "/exa/contents", body: `{"ids":["x"]}`, serve: jsonAnswer(400, exa400WithCost),
			endpoint: exa, status: "reported", cost: 1_000_000_000},
		{name: "twilio 429", method: "POST", path: smsPath, body: smsBody, serve: jsonAnswer(429, twilio429), endpoint: twilio,
			status: "refused", reason: "refused: HTTP 429 rate_limited"},
		{name: "twilio 400 invalid number", method: "POST", path: smsPath, body: smsBody, serve: jsonAnswer(400, twilio400), endpoint: twilio,
			status: "refused", reason: "refused: HTTP 400 client_error"},
		{name: "apollo 401", method: "POST", path: matchPath, body: `{}`, serve: textAnswer(401, "Invalid access credentials."), endpoint: apollo,
			status: "refused", reason: "refused: HTTP 401 auth_failed"},
		{name: "apollo 403", method: "POST", path: matchPath, body: `{}`, serve: jsonAnswer(403, apolloForbidden), endpoint: apollo,
			status: "refused", reason: "refused: HTTP 403 auth_failed"},
		{name: "apollo 429", method: "POST", path: matchPath, body: `{}`, serve: textAnswer(429, "Too many requests"), endpoint: apollo,
			status: "refused", reason: "refused: HTTP 429 rate_limited"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t, tc.serve)
			tp := startProxy(t, func(c *Config) { tc.endpoint(c, up.URL) })
			res, _ := rawDo(tp.url+tc.path, tc.method, tc.body)
			if res != nil && up.count() != 1 {
				t.Fatalf("provider saw %d requests", up.count())
			}
			checkProxyCost(t, tp.span(t, 1), tc)
		})
	}
}

// TestProxyNoResponse: a request that never reached the provider is
// refused ($0); one that timed out is unpriced.
func TestProxyNoResponse(t *testing.T) {
	tp := startProxy(t, func(c *Config) { c.Route("twilio").Endpoint = "http://" + closedPort(t) })
	rawDo(tp.url+"/twilio/2010-04-01/Accounts/AC123/Messages.json", "POST", "To=%2B15558675310&Body=Hi")
	checkProxyCost(t, tp.span(t, 1), proxyCase{status: "refused", reason: "not sent: network_error (connection_refused)"})

	slow := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	tp = startProxy(t, func(c *Config) {
		c.Route("exa").Endpoint = slow.URL
		c.Route("exa").ResponseHeaderTimeout = 100 * time.Millisecond
	})
	rawDo(tp.url+"/exa/search", "POST", `{"query":"q"}`)
	checkProxyCost(t, tp.span(t, 1), proxyCase{status: "unpriced", reason: "no response status (timeout): unknown whether exa billed it"})
}

// rawDo sends a request and drains the answer; a cut answer is no failure
// here (res is nil then).
func rawDo(url, method, body string) (*http.Response, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	res, err := rawClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res, nil
}

func checkProxyCost(t *testing.T, s spanOf, tc proxyCase) {
	t.Helper()
	status, version, unpriced := s.str(semconv.AttrCostStatus), s.str(semconv.AttrPricingVersion), s.str(semconv.AttrUnpricedReason)
	reason := s.str(semconv.AttrCostReason)
	cost, hasCost := s.attr(semconv.AttrCostPicoUSD)
	if status != tc.status {
		t.Fatalf("cost status %q (pricing %q, unpriced %q), want %q: %v", status, version, unpriced, tc.status, s.span.Attributes().AsRaw())
	}
	switch tc.status {
	case "refused":
		if !hasCost || cost.Type() != pcommon.ValueTypeInt || cost.Int() != 0 || reason != tc.reason || version != "" || s.has(semconv.AttrUnpricedReason) {
			t.Fatalf("refused: cost %v, pricing %q, reason %q, unpriced %q; want exactly $0 and %q", cost.AsRaw(), version, reason, unpriced, tc.reason)
		}
	case "unpriced":
		if hasCost || !strings.Contains(unpriced, tc.reason) {
			t.Fatalf("unpriced: cost %v, reason %q lacks %q", cost.AsRaw(), unpriced, tc.reason)
		}
	default:
		if !hasCost || cost.Int() != tc.cost {
			t.Fatalf("%s: cost %v, want %d", tc.status, cost.AsRaw(), tc.cost)
		}
	}
}

package costprocessor

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/semconv"
)

// failedCase is a failed call as an instrumented app reports it, and what
// it must cost.
type failedCase struct {
	name   string
	attrs  map[string]any
	error  bool   // span status Error
	status string // cost status
	cost   int64  // pico-USD, unless unpriced
	reason string // refused: the exact reason; unpriced: a substring of it
}

const (
	twilioMessages = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
	apolloMatch    = "https://api.apollo.io/api/v1/people/match"
)

// TestRefusedCallsCostNothing: per provider, a request the provider refused
// is a known $0 with its reason (status refused), a reported cost still
// wins, and what the provider may have billed is priced or unpriced, never
// $0 by default.
func TestRefusedCallsCostNothing(t *testing.T) {
	openai := func(kv ...any) map[string]any {
		m := map[string]any{"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	openrouter := func(kv ...any) map[string]any {
		m := map[string]any{"gen_ai.provider.name": "openrouter", "gen_ai.operation.name": "chat", "gen_ai.request.model": "openai/gpt-4o-mini"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	httpCall := func(url string, kv ...any) map[string]any {
		m := map[string]any{"url.full": url, "http.request.method": "POST"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	groups := map[string][]failedCase{
		"openai": {
			{name: "429 rate limited", attrs: openai("http.response.status_code", 429, "error.type", "rate_limit_exceeded"), error: true,
				status: "refused", reason: "refused: HTTP 429 rate_limited"},
			{name: "429 out of quota", attrs: openai("http.response.status_code", 429, "error.type", "insufficient_quota"), error: true,
				status: "refused", reason: "refused: HTTP 429 quota_exhausted"},
			{name: "401 bad key", attrs: openai("http.response.status_code", 401), error: true,
				status: "refused", reason: "refused: HTTP 401 auth_failed"},
			{name: "500 outage", attrs: openai("http.response.status_code", 500), error: true,
				status: "refused", reason: "refused: HTTP 500 server_error"},
			// Input tokens on a 400 are the client's own count: the
			// provider answered before generating anything.
			{name: "400 with client-counted prompt tokens", attrs: openai("http.response.status_code", 400, "gen_ai.usage.input_tokens", 5000), error: true,
				status: "refused", reason: "refused: HTTP 400 client_error"},
			// No HTTP attributes: the SDK's error class says what it was.
			{name: "sdk RateLimitError, no status", attrs: openai("error.type", "openai.RateLimitError"), error: true,
				status: "refused", reason: "refused: HTTP 429 rate_limited (error.type openai.RateLimitError)"},
			{name: "sdk AuthenticationError, no status", attrs: openai("error.type", "AuthenticationError"), error: true,
				status: "refused", reason: "refused: HTTP 401 auth_failed (error.type AuthenticationError)"},
			// …unless the call reports usage, which only a response gives.
			{name: "error class with usage is priced", attrs: openai("error.type", "RateLimitError", "gen_ai.usage.input_tokens", 1000, "gen_ai.usage.output_tokens", 200),
				error: true, status: "computed", cost: 270_000_000},
			// A stream that failed mid-way was billed for what it generated:
			// 1000 × $0.15 + 200 × $0.60 per 1M.
			{name: "stream cut after tokens", attrs: openai("http.response.status_code", 200, "error.type", "connection_reset",
				"gen_ai.usage.input_tokens", 1000, "gen_ai.usage.output_tokens", 200), error: true, status: "computed", cost: 270_000_000},
			{name: "stream cut before usage", attrs: openai("http.response.status_code", 200, "error.type", "timeout"), error: true,
				status: "unpriced", reason: "failed after HTTP 200 with no usage reported: unknown what openai billed"},
			{name: "timeout, no response", attrs: openai("error.type", "timeout"), error: true,
				status: "unpriced", reason: "no response status (timeout): unknown whether openai billed it"},
			{name: "span error and nothing else", attrs: openai(), error: true,
				status: "unpriced", reason: "no response status: unknown whether openai billed it"},
			{name: "connection refused: never sent", attrs: openai("error.type", "connection_refused"), error: true,
				status: "refused", reason: "not sent: network_error (connection_refused)"},
		},
		"openrouter": {
			{name: "402 out of credits", attrs: openrouter("http.response.status_code", 402, "error.type", "402"), error: true,
				status: "refused", reason: "refused: HTTP 402 quota_exhausted"},
			{name: "429 rate limited", attrs: openrouter("http.response.status_code", 429), error: true,
				status: "refused", reason: "refused: HTTP 429 rate_limited"},
			{name: "503 no provider", attrs: openrouter("http.response.status_code", 503), error: true,
				status: "refused", reason: "refused: HTTP 503 server_error"},
			{name: "reported cost on an error wins", attrs: openrouter("http.response.status_code", 502, "gen_ai.usage.cost", 0.00042), error: true,
				status: "reported", cost: 420_000_000},
			// An error event inside a 200: the upstream may have generated
			// tokens before it; without usage nobody knows how many.
			{name: "error inside a 200, no usage", attrs: openrouter("http.response.status_code", 200, "error.type", "server_error"), error: true,
				status: "unpriced", reason: "failed after HTTP 200 with no usage reported: unknown what openrouter billed"},
			{name: "error inside a 200, cost reported", attrs: openrouter("http.response.status_code", 200, "error.type", "server_error",
				"nexus.reported_cost.usd", "0.0000123"), error: true, status: "reported", cost: 12_300_000},
			{name: "error inside a 200, tokens reported", attrs: openrouter("http.response.status_code", 200, "error.type", "server_error",
				"gen_ai.usage.input_tokens", 1000, "gen_ai.usage.output_tokens", 200), error: true, status: "computed", cost: 270_000_000},
		},
		"exa": {
			{name: "402 no more credits", attrs: httpCall("https://api.exa.ai/search", "http.response.status_code", 402, "error.type", "NO_MORE_CREDITS"),
				error: true, status: "refused", reason: "refused: HTTP 402 quota_exhausted"},
			{name: "429 rate limited", attrs: httpCall("https://api.exa.ai/search", "http.response.status_code", 429), error: true,
				status: "refused", reason: "refused: HTTP 429 rate_limited"},
			{name: "401 bad key, not marked failed", attrs: httpCall("https://api.exa.ai/contents", "http.response.status_code", 401),
				status: "refused", reason: "refused: HTTP 401 auth_failed"},
			{name: "reported cost on an error wins", attrs: httpCall("https://api.exa.ai/search", "http.response.status_code", 400,
				"exa.cost_dollars.total", "0.001"), error: true, status: "reported", cost: 1_000_000_000},
			// Accepted, then cut on the way back: billed per request.
			{name: "200 then cut", attrs: httpCall("https://api.exa.ai/search", "http.response.status_code", 200, "error.type", "connection_reset"),
				error: true, status: "computed", cost: 7_000_000_000},
			{name: "timeout", attrs: httpCall("https://api.exa.ai/search", "error.type", "timeout"), error: true,
				status: "unpriced", reason: "no response status (timeout): unknown whether exa billed it"},
		},
		"twilio": {
			{name: "429 too many requests", attrs: httpCall(twilioMessages, "http.response.status_code", 429, "error.type", "20429"), error: true,
				status: "refused", reason: "refused: HTTP 429 rate_limited"},
			// Segments the app counted itself do not make a refused message billed.
			{name: "400 invalid number with segments", attrs: httpCall(twilioMessages, "http.response.status_code", 400, "error.type", "21211",
				"twilio.num_segments", 2), error: true, status: "refused", reason: "refused: HTTP 400 client_error"},
			{name: "401 bad credentials", attrs: httpCall(twilioMessages, "http.response.status_code", 401, "error.type", "20003"), error: true,
				status: "refused", reason: "refused: HTTP 401 auth_failed"},
			{name: "twilio code, no status", attrs: httpCall(twilioMessages, "error.type", "20429"), error: true,
				status: "refused", reason: "refused: HTTP 429 rate_limited (error.type 20429)"},
			{name: "voice call refused", attrs: httpCall("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json", "http.response.status_code", 429),
				error: true, status: "refused", reason: "refused: HTTP 429 rate_limited"},
			// A created message is billed, whatever happened after.
			{name: "201 then cut", attrs: httpCall(twilioMessages, "http.response.status_code", 201, "error.type", "connection_closed"),
				error: true, status: "computed", cost: 7_900_000_000},
			// A status fetch is free: $0 whether or not it was answered.
			{name: "status fetch timed out", attrs: map[string]any{"url.full": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1.json",
				"http.request.method": "GET", "error.type": "timeout"}, error: true, status: "computed", cost: 0},
			{name: "dns failure: never sent", attrs: httpCall(twilioMessages, "error.type", "dns_error"), error: true,
				status: "refused", reason: "not sent: network_error (dns_error)"},
		},
		"apollo": {
			{name: "401 invalid credentials", attrs: httpCall(apolloMatch, "http.response.status_code", 401, "error.type", "401"), error: true,
				status: "refused", reason: "refused: HTTP 401 auth_failed"},
			{name: "403 master key needed", attrs: httpCall(apolloMatch, "http.response.status_code", 403), error: true,
				status: "refused", reason: "refused: HTTP 403 auth_failed"},
			{name: "422 validation", attrs: httpCall(apolloMatch, "http.response.status_code", 422), error: true,
				status: "refused", reason: "refused: HTTP 422 client_error"},
			{name: "429 rate limited", attrs: httpCall(apolloMatch, "http.response.status_code", 429), error: true,
				status: "refused", reason: "refused: HTTP 429 rate_limited"},
			{name: "200 then cut", attrs: httpCall(apolloMatch, "http.response.status_code", 200, "error.type", "connection_reset"),
				error: true, status: "computed", cost: 200_000_000_000},
			{name: "timeout with reported credits", attrs: httpCall(apolloMatch, "error.type", "timeout", "apollo.credits", 2),
				error: true, status: "computed", cost: 400_000_000_000},
		},
		"others": {
			// No billing rules for a provider Nexus does not know.
			{name: "unknown provider stays unpriced", attrs: map[string]any{"gen_ai.provider.name": "anthropic", "http.response.status_code": 429},
				error: true, status: "unpriced", reason: "unknown provider"},
		},
	}
	p, sink := newTracesProcessor(t, nil)
	for prov, cases := range groups {
		for _, c := range cases {
			t.Run(prov+"/"+c.name, func(t *testing.T) {
				td := spanWith(c.attrs, 80*time.Millisecond)
				if c.error {
					td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Status().SetCode(ptrace.StatusCodeError)
				}
				if err := p.ConsumeTraces(context.Background(), td); err != nil {
					t.Fatal(err)
				}
				checkFailedCost(t, outAttrs(sink), c)
			})
		}
	}
}

func checkFailedCost(t *testing.T, a pcommon.Map, c failedCase) {
	t.Helper()
	status, _ := a.Get(semconv.AttrCostStatus)
	cost, hasCost := a.Get(semconv.AttrCostPicoUSD)
	unpriced, hasUnpriced := a.Get(semconv.AttrUnpricedReason)
	version, hasVersion := a.Get(semconv.AttrPricingVersion)
	reason, hasReason := a.Get(semconv.AttrCostReason)
	if status.Str() != c.status {
		t.Fatalf("status %q (unpriced reason %q, pricing %q), want %q", status.Str(), unpriced.Str(), version.Str(), c.status)
	}
	switch c.status {
	case "unpriced":
		if hasCost || !strings.Contains(unpriced.Str(), c.reason) {
			t.Fatalf("unpriced: cost %v (%v), reason %q lacks %q", cost.AsRaw(), hasCost, unpriced.Str(), c.reason)
		}
	case "refused":
		if !hasCost || cost.Type() != pcommon.ValueTypeInt || cost.Int() != 0 || hasUnpriced || hasVersion || !hasReason || reason.Str() != c.reason {
			t.Fatalf("refused: cost %v (%v), unpriced reason %v, pricing %q, reason %q; want exactly $0 and %q", cost.AsRaw(), hasCost, hasUnpriced, version.Str(), reason.Str(), c.reason)
		}
	default:
		if !hasCost || cost.Int() != c.cost || hasUnpriced {
			t.Fatalf("%s: cost %v (%v), want %d", c.status, cost.AsRaw(), hasCost, c.cost)
		}
		if (c.status == "computed") != (hasVersion && strings.HasPrefix(version.Str(), "20")) {
			t.Fatalf("%s with pricing version %q", c.status, version.Str())
		}
	}
}

// TestRefusedLogRecord: a log record of a refused call is priced the same.
func TestRefusedLogRecord(t *testing.T) {
	lp, lsink := newLogsProcessor(t)
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(callTime))
	lr.SetSeverityNumber(plog.SeverityNumberError)
	_ = lr.Attributes().FromRaw(map[string]any{"url.full": twilioMessages, "http.request.method": "POST", "http.response.status_code": 429})
	if err := lp.ConsumeLogs(context.Background(), ld); err != nil {
		t.Fatal(err)
	}
	a := lsink.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	checkFailedCost(t, a, failedCase{status: "refused", reason: "refused: HTTP 429 rate_limited"})
}

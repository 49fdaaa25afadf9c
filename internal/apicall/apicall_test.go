package apicall

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

func span(attrs map[string]any) ptrace.Span {
	s := ptrace.NewSpan()
	_ = s.Attributes().FromRaw(attrs)
	return s
}

func TestFromSpan(t *testing.T) {
	cases := []struct {
		name  string
		attrs map[string]any
		error bool
		want  Call
		ok    bool
	}{
		{
			name: "current genai names",
			attrs: map[string]any{
				"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat",
				"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
				"gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30,
				"gen_ai.usage.cache_read.input_tokens": 100, "server.address": "api.openai.com",
			},
			want: Call{Provider: "openai", Operation: "chat", Model: "gpt-4o-2024-08-06", RequestModel: "gpt-4o",
				ServerAddress: "api.openai.com", InputTokens: 120, OutputTokens: 30, CachedInputTokens: 100},
			ok: true,
		},
		{
			name: "deprecated names and tokens as strings",
			attrs: map[string]any{
				"gen_ai.system": "openrouter", "gen_ai.request.model": "openai/gpt-4o-mini",
				"gen_ai.usage.prompt_tokens": "15", "gen_ai.usage.completion_tokens": 7.0,
			},
			want: Call{Provider: "openrouter", Model: "openai/gpt-4o-mini", RequestModel: "openai/gpt-4o-mini",
				InputTokens: 15, OutputTokens: 7},
			ok: true,
		},
		{
			name: "plain http span by url, failed with 429",
			attrs: map[string]any{
				"url.full": "https://api.exa.ai/search", "http.request.method": "POST",
				"http.response.status_code": 429, "http.route": "/search",
			},
			error: true,
			want: Call{Provider: "exa", Operation: "search", ServerAddress: "api.exa.ai", HTTPMethod: "POST",
				HTTPStatus: 429, Failed: true, ErrorClass: "rate_limited", Answer: provider.Refused, AnswerStatus: 429},
			ok: true,
		},
		{
			name:  "deprecated http names",
			attrs: map[string]any{"net.peer.name": "api.twilio.com", "http.method": "POST", "http.status_code": "201"},
			want:  Call{Provider: "twilio", ServerAddress: "api.twilio.com", HTTPMethod: "POST", HTTPStatus: 201, AnswerStatus: 201},
			ok:    true,
		},
		{
			name:  "bad token values read as zero",
			attrs: map[string]any{"gen_ai.system": "openai", "gen_ai.usage.input_tokens": -5, "gen_ai.usage.output_tokens": "lots"},
			want:  Call{Provider: "openai"},
			ok:    true,
		},
		{
			name:  "unknown genai provider kept by name",
			attrs: map[string]any{"gen_ai.provider.name": "Anthropic"},
			want:  Call{Provider: "anthropic"},
			ok:    true,
		},
		{
			name: "twilio sms with segments, country and price",
			attrs: map[string]any{
				"url.full": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", "http.request.method": "POST",
				"twilio.num_segments": 3, "twilio.to_country": "GB",
			},
			want: Call{Provider: "twilio", Operation: "sms", ServerAddress: "api.twilio.com", HTTPMethod: "POST",
				SMSSegments: 3, Country: "GB"},
			ok: true,
		},
		{
			name:  "apollo credits and cache/reasoning tokens",
			attrs: map[string]any{"server.address": "api.apollo.io", "url.path": "/api/v1/people/match", "apollo.credits": "2"},
			want:  Call{Provider: "apollo", Operation: "people/match", ServerAddress: "api.apollo.io", Credits: 2},
			ok:    true,
		},
		{
			name: "token kinds",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 1000,
				"gen_ai.usage.cache_creation.input_tokens": 200, "gen_ai.usage.output_tokens": 500,
				"gen_ai.usage.reasoning.output_tokens": 300},
			want: Call{Provider: "openai", InputTokens: 1000, CacheWriteTokens: 200, OutputTokens: 500, ReasoningTokens: 300},
			ok:   true,
		},
		{
			// No HTTP status: the SDK's error class names the refusal.
			name:  "instrumented sdk error class",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o", "error.type": "openai.RateLimitError"},
			error: true,
			want: Call{Provider: "openai", Model: "gpt-4o", RequestModel: "gpt-4o", ErrorType: "openai.RateLimitError", Failed: true,
				ErrorClass: "rate_limited", Answer: provider.Refused, AnswerStatus: 429},
			ok: true,
		},
		{
			name:  "no response",
			attrs: map[string]any{"gen_ai.provider.name": "openai", "error.type": "timeout"},
			error: true,
			want:  Call{Provider: "openai", ErrorType: "timeout", Failed: true, ErrorClass: "timeout", Answer: provider.NoAnswer},
			ok:    true,
		},
		{name: "not an api call", attrs: map[string]any{"http.route": "/internal", "server.address": "db.local"}, ok: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := span(c.attrs)
			if c.error {
				s.Status().SetCode(ptrace.StatusCodeError)
			}
			got, ok := FromSpan(s)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			if got != c.want {
				t.Fatalf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestFromSpanDoesNotAllocate(t *testing.T) {
	s := span(map[string]any{
		"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
		"gen_ai.usage.input_tokens": 120, "gen_ai.usage.output_tokens": 30,
	})
	allocs := testing.AllocsPerRun(100, func() { _, _ = FromSpan(s) })
	if allocs != 0 {
		t.Fatalf("FromSpan allocates %.0f times per span", allocs)
	}
}

func TestReportedCostAndCustomHosts(t *testing.T) {
	s := span(map[string]any{"gen_ai.system": "openrouter", "gen_ai.usage.cost": 0.00123})
	c, _ := FromSpan(s)
	if !c.HasReportedCost || c.ReportedCost.Double() != 0.00123 {
		t.Fatalf("reported cost not read: %+v", c)
	}
	s = span(map[string]any{"url.full": "https://api.exa.ai/search", "exa.cost_dollars.total": "0.005"})
	if c, _ = FromSpan(s); !c.HasReportedCost || c.ReportedCost.Str() != "0.005" {
		t.Fatalf("exa cost not read: %+v", c)
	}
	s = span(map[string]any{"url.full": "https://llm-gw.corp:8443/v1/chat/completions", "http.request.method": "POST"})
	if _, ok := FromSpan(s); ok {
		t.Fatal("unknown host taken for a provider")
	}
	r := Reader{Hosts: map[string]string{"llm-gw.corp": "openai"}}
	c, ok := r.FromSpan(s)
	if !ok || c.Provider != "openai" || c.Operation != "chat" || c.ServerAddress != "llm-gw.corp" {
		t.Fatalf("custom host: %+v", c)
	}
}

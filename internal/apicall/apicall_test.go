package apicall

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
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
			want: Call{Provider: "exa", Operation: "/search", ServerAddress: "api.exa.ai", HTTPMethod: "POST",
				HTTPStatus: 429, Failed: true, ErrorClass: "rate_limited"},
			ok: true,
		},
		{
			name:  "deprecated http names",
			attrs: map[string]any{"net.peer.name": "api.twilio.com", "http.method": "POST", "http.status_code": "201"},
			want:  Call{Provider: "twilio", ServerAddress: "api.twilio.com", HTTPMethod: "POST", HTTPStatus: 201},
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

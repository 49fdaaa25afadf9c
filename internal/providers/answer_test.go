package providers

import (
	"testing"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

func TestAnswerOf(t *testing.T) {
	cases := []struct {
		status  int
		errType string
		failed  bool
		want    provider.Answer
		eff     int
	}{
		{200, "", false, provider.Performed, 200},
		{0, "", false, provider.Performed, 0}, // a GenAI span without HTTP attributes
		// Accepted, then failed: OpenRouter's error event inside a 200, a
		// stream cut mid-way.
		{200, "server_error", true, provider.Performed, 200},
		{201, "", true, provider.Performed, 201},
		// The provider's own refusals, whatever error.type says.
		{429, "20429", true, provider.Refused, 429},
		{429, "rate_limit_exceeded", true, provider.Refused, 429},
		{401, "", true, provider.Refused, 401},
		{402, "NO_MORE_CREDITS", true, provider.Refused, 402},
		{503, "", true, provider.Refused, 503},
		{400, "", false, provider.Refused, 400}, // failed or not, a 400 is a refusal
		// No status: error.type implies one.
		{0, "429", true, provider.Refused, 429},
		{0, " 500 ", true, provider.Refused, 500},
		{0, "RateLimitError", true, provider.Refused, 429},
		{0, "openai.RateLimitError", true, provider.Refused, 429},
		{0, "openai.error.AuthenticationError", true, provider.Refused, 401},
		{0, "BadRequestError", true, provider.Refused, 400},
		{0, "insufficient_quota", true, provider.Refused, 429},
		{0, "api_key_budget_exceeded", true, provider.Refused, 402},
		{0, "APIStatusError", true, provider.Refused, 0},
		{0, "20429", true, provider.Refused, 429},
		{0, "21211", true, provider.Refused, 400},
		{0, "20003", true, provider.Refused, 401},
		// Never sent.
		{0, "connection_refused", true, provider.NotSent, 0},
		{0, "dns_error", true, provider.NotSent, 0},
		{0, "java.net.UnknownHostException", true, provider.NotSent, 0},
		{0, "httpx.ConnectError", true, provider.NotSent, 0},
		// No answer: the request may have gone out.
		{0, "timeout", true, provider.NoAnswer, 0},
		{0, "connection_reset", true, provider.NoAnswer, 0},
		{0, "openai.APIConnectionError", true, provider.NoAnswer, 0},
		{0, "APITimeoutError", true, provider.NoAnswer, 0},
		{0, "ValueError", true, provider.NoAnswer, 0},
		{0, "", true, provider.NoAnswer, 0},
		{0, "30003", true, provider.NoAnswer, 0}, // a Twilio delivery error: the message went out
		{0, "200", true, provider.NoAnswer, 0},
		{0, "600", true, provider.NoAnswer, 0},
		{0, ".", true, provider.NoAnswer, 0},
	}
	for _, c := range cases {
		got, eff := AnswerOf(c.status, c.errType, c.failed)
		if got != c.want || eff != c.eff {
			t.Errorf("AnswerOf(%d, %q, %v) = %d %d, want %d %d", c.status, c.errType, c.failed, got, eff, c.want, c.eff)
		}
	}
	allocs := testing.AllocsPerRun(100, func() { AnswerOf(0, "openai.error.RateLimitError", true) })
	if allocs != 0 {
		t.Fatalf("AnswerOf allocates %.0f times", allocs)
	}
}

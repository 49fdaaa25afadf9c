package provider

import "testing"

func TestAnswerOf(t *testing.T) {
	cases := []struct {
		status  int
		errType string
		failed  bool
		want    Answer
		eff     int
	}{
		{200, "", false, Performed, 200},
		{0, "", false, Performed, 0}, // a GenAI span without HTTP attributes
		// Accepted, then failed: OpenRouter's error event inside a 200, a
		// stream cut mid-way.
		{200, "server_error", true, Performed, 200},
		{201, "", true, Performed, 201},
		// The provider's own refusals, whatever error.type says.
		{429, "20429", true, Refused, 429},
		{429, "rate_limit_exceeded", true, Refused, 429},
		{401, "", true, Refused, 401},
		{402, "NO_MORE_CREDITS", true, Refused, 402},
		{503, "", true, Refused, 503},
		{400, "", false, Refused, 400}, // failed or not, a 400 is a refusal
		// No status: error.type implies one.
		{0, "429", true, Refused, 429},
		{0, " 500 ", true, Refused, 500},
		{0, "RateLimitError", true, Refused, 429},
		{0, "openai.RateLimitError", true, Refused, 429},
		{0, "openai.error.AuthenticationError", true, Refused, 401},
		{0, "BadRequestError", true, Refused, 400},
		{0, "insufficient_quota", true, Refused, 429},
		{0, "api_key_budget_exceeded", true, Refused, 402},
		{0, "APIStatusError", true, Refused, 0},
		{0, "20429", true, Refused, 429},
		{0, "21211", true, Refused, 400},
		{0, "20003", true, Refused, 401},
		// Never sent.
		{0, "connection_refused", true, NotSent, 0},
		{0, "dns_error", true, NotSent, 0},
		{0, "java.net.UnknownHostException", true, NotSent, 0},
		{0, "httpx.ConnectError", true, NotSent, 0},
		// No answer: the request may have gone out.
		{0, "timeout", true, NoAnswer, 0},
		{0, "connection_reset", true, NoAnswer, 0},
		{0, "openai.APIConnectionError", true, NoAnswer, 0},
		{0, "APITimeoutError", true, NoAnswer, 0},
		{0, "ValueError", true, NoAnswer, 0},
		{0, "", true, NoAnswer, 0},
		{0, "30003", true, NoAnswer, 0}, // a Twilio delivery error: the message went out
		{0, "200", true, NoAnswer, 0},
		{0, "600", true, NoAnswer, 0},
		{0, ".", true, NoAnswer, 0},
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

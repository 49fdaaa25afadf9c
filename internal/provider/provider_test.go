package provider

import "testing"

func TestFromHost(t *testing.T) {
	cases := map[string]string{
		"api.openai.com":         OpenAI,
		"API.OpenAI.com:443":     OpenAI,
		"eu.api.openai.com":      OpenAI,
		"openrouter.ai":          OpenRouter,
		"api.exa.ai":             Exa,
		"api.twilio.com":         Twilio,
		"api.apollo.io":          Apollo,
		"notopenai.com":          "",
		"api.openai.com.evil.io": "",
		"":                       "",
	}
	for in, want := range cases {
		if got := FromHost(in); got != want {
			t.Errorf("FromHost(%q) = %q, want %q", in, got, want)
		}
	}
	if got := FromURL("https://api.exa.ai/search?x=1"); got != Exa {
		t.Errorf("FromURL exa = %q", got)
	}
	if got := FromURL("::bad"); got != "" {
		t.Errorf("FromURL bad = %q", got)
	}
}

func TestFromGenAIName(t *testing.T) {
	for in, want := range map[string]string{"openai": OpenAI, "OpenAI": OpenAI, "openrouter": OpenRouter, "anthropic": ""} {
		if got := FromGenAIName(in); got != want {
			t.Errorf("FromGenAIName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassifyHTTP(t *testing.T) {
	cases := []struct {
		status int
		typ    string
		want   string
	}{
		{200, "", ClassNone},
		{401, "", ClassAuthFailed},
		{402, "", ClassQuotaExhausted},
		{429, "rate_limit_exceeded", ClassRateLimited},
		{429, "insufficient_quota", ClassQuotaExhausted},
		{400, "", ClassClientError},
		{503, "", ClassServerError},
		{504, "", ClassTimeout},
		{0, "context deadline exceeded", ClassTimeout},
		{0, "connection refused", ClassNetwork},
		{0, "", ClassNone},
	}
	for _, c := range cases {
		if got := ClassifyHTTP(c.status, c.typ); got != c.want {
			t.Errorf("ClassifyHTTP(%d, %q) = %q, want %q", c.status, c.typ, got, c.want)
		}
	}
}

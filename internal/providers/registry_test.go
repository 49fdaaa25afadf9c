package providers

import (
	"reflect"
	"testing"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

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

func TestOperation(t *testing.T) {
	extra := []provider.Route{{Provider: Exa, Pattern: "websets/v0/websets", Operation: "websets"}}
	cases := []struct{ provider, method, path, want string }{
		{Exa, "POST", "https://api.exa.ai/search", "search"},
		{Exa, "POST", "/contents?x=1", "contents"},
		{Exa, "POST", "https://api.exa.ai/findSimilar", "find_similar"},
		{Exa, "POST", "https://api.exa.ai/websets/v0/websets", "websets"},
		{Twilio, "POST", "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json", "sms"},
		{Twilio, "GET", "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json", ""},
		{Twilio, "POST", "/2010-04-01/Accounts/AC1/Calls.json", "voice"},
		{Apollo, "POST", "https://api.apollo.io/api/v1/people/match", "people/match"},
		{Apollo, "POST", "/v1/mixed_companies/search", "mixed_companies/search"},
		{Apollo, "GET", "https://api.apollo.io/api/v1/organizations/5e66b6381e05b4008c8331b8", "organizations/show"},
		{OpenAI, "POST", "https://api.openai.com/v1/chat/completions", "chat"},
		{OpenAI, "POST", "https://api.openai.com", ""},
		{Exa, "POST", "/unknown", ""},
	}
	for _, c := range cases {
		if got := Operation(c.provider, c.method, c.path, extra); got != c.want {
			t.Errorf("Operation(%s %s %s) = %q, want %q", c.provider, c.method, c.path, got, c.want)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		Operation(Twilio, "POST", "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json?x=1", extra)
	})
	if allocs != 0 {
		t.Fatalf("Operation allocates %.0f times", allocs)
	}
}

// TestRegistry: every field of Providers is a provider's block under its
// name's key, and the names are unique.
func TestRegistry(t *testing.T) {
	typ := reflect.TypeOf(Providers{})
	if typ.NumField() != len(All) || len(All) == 0 {
		t.Fatalf("%d fields, %d providers", typ.NumField(), len(All))
	}
	seen := map[string]bool{}
	for i, p := range All {
		if key := typ.Field(i).Tag.Get("mapstructure"); key != p.Name {
			t.Errorf("field %s: key %q, provider %q", typ.Field(i).Name, key, p.Name)
		}
		if seen[p.Name] || p.BaseURL == "" || len(p.Hosts) == 0 || p.StandIn == nil {
			t.Errorf("provider %q: duplicate or incomplete", p.Name)
		}
		seen[p.Name] = true
	}
}

package pricing

import (
	"testing"
	"time"
)

// TestResolveModel: the names real traffic carries resolve to the list
// that prices them, named in the provider they were called on.
func TestResolveModel(t *testing.T) {
	c := mustDefault(t)
	for _, tc := range []struct {
		prov, model        string
		name, family       string
		priced             bool
		priceProvider, key string
	}{
		{"openai", "gpt-4o", "gpt-4o", "gpt-4o", true, "openai", "gpt-4o"},
		{"openai", "gpt-4o-2024-08-06", "gpt-4o", "gpt-4o", true, "openai", "gpt-4o"},
		{"openai", " GPT-4o-2024-11-20 ", "gpt-4o", "gpt-4o", true, "openai", "gpt-4o"},
		{"openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", "gpt-4o-mini", true, "openai", "gpt-4o-mini"},
		// A snapshot with a list of its own keeps its name; its family is
		// the alias.
		{"openai", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13", "gpt-4o", true, "openai", "gpt-4o-2024-05-13"},
		{"openai", "gpt-3.5-turbo-0613", "gpt-3.5-turbo-0613", "gpt-3.5-turbo", true, "openai", "gpt-3.5-turbo-0613"},
		{"openai", "o3-2025-04-16", "o3", "o3", true, "openai", "o3"},
		// A gateway's vendor prefix on an OpenAI call.
		{"openai", "openai/gpt-4.1-2025-04-14", "gpt-4.1", "gpt-4.1", true, "openai", "gpt-4.1"},
		// Fine-tunes: priced by their base's fine-tune list, and their
		// own family (never the base model's).
		{"openai", "ft:gpt-4o-mini-2024-07-18:org::abc", "ft:gpt-4o-mini", "ft:gpt-4o-mini", true, "openai", "ft:gpt-4o-mini"},
		{"openai", "ft:gpt-4o-2024-08-06:acme:support:9xYz", "ft:gpt-4o", "ft:gpt-4o", true, "openai", "ft:gpt-4o"},
		// OpenRouter: the vendor's list, OpenRouter's name.
		{"openrouter", "openai/gpt-4o", "openai/gpt-4o", "openai/gpt-4o", true, "openai", "gpt-4o"},
		{"openrouter", "openai/gpt-4o-2024-08-06", "openai/gpt-4o", "openai/gpt-4o", true, "openai", "gpt-4o"},
		{"openrouter", "openai/gpt-4o-2024-05-13", "openai/gpt-4o-2024-05-13", "openai/gpt-4o", true, "openai", "gpt-4o-2024-05-13"},
		{"openrouter", "openai/gpt-4o-2024-08-06:nitro", "openai/gpt-4o:nitro", "openai/gpt-4o", true, "openai", "gpt-4o"},
		// Unpriced: the name itself, lowercased; the family drops the date
		// and the variant.
		{"openrouter", "Anthropic/Claude-3.5-Sonnet", "anthropic/claude-3.5-sonnet", "anthropic/claude-3.5-sonnet", false, "", ""},
		{"openrouter", "anthropic/claude-3.5-sonnet-20240620", "anthropic/claude-3.5-sonnet-20240620", "anthropic/claude-3.5-sonnet", false, "", ""},
		{"openrouter", "openai/gpt-4o:free", "openai/gpt-4o:free", "openai/gpt-4o", false, "", ""},
		{"openai", "gpt-9-2027-01-01", "gpt-9-2027-01-01", "gpt-9", false, "", ""},
		// Providers priced per operation, and names that are not models.
		{"exa", "Search", "search", "search", false, "", ""},
		{"openai", "", "", "", false, "", ""},
		{"nope", "gpt-4o", "gpt-4o", "gpt-4o", false, "", ""},
	} {
		got := c.ResolveModel(tc.prov, tc.model)
		want := Model{Name: tc.name, Family: tc.family, Priced: tc.priced, Provider: tc.priceProvider, Key: tc.key}
		if got != want {
			t.Errorf("ResolveModel(%s, %q) = %+v, want %+v", tc.prov, tc.model, got, want)
		}
	}
}

// TestResolveModelIsPricesResolution: for every name, the list
// ResolveModel names is the one Price uses, and a model's canonical name
// prices exactly as the name it came from.
func TestResolveModelIsPricesResolution(t *testing.T) {
	c := mustDefault(t)
	at := day(2026, 11, 1)
	u := Usage{InputTokens: 12_345, CachedInputTokens: 2_000, OutputTokens: 678}
	names := []string{"ft:gpt-4o-mini-2024-07-18:org::abc", "openai/gpt-4o", "gpt-4.1-mini-2025-04-14", "gpt-9", "o1-mini-2024-09-12"}
	for _, e := range c.Entries() {
		if e.Model != "" {
			names = append(names, e.Model, e.Model+"-2024-08-06", "openai/"+e.Model, "openai/"+e.Model+":nitro", "openai/"+e.Model+":free")
		}
	}
	for _, prov := range []string{"openai", "openrouter"} {
		for _, name := range names {
			m := c.ResolveModel(prov, name)
			r := c.Price(prov, name, "", "", at, &u)
			if m.Priced != (r.Reason != ReasonNoEntry) || m.Priced && (m.Provider != r.Provider || m.Key != r.Model) {
				t.Errorf("%s %q: resolved %+v, priced by %s %s (%s)", prov, name, m, r.Provider, r.Model, r.Detail())
				continue
			}
			if !m.Priced {
				continue
			}
			if again := c.Price(prov, m.Name, "", "", at, &u); again.Status != r.Status || again.Cost != r.Cost {
				t.Errorf("%s %q prices %s %s, its name %q %s %s", prov, name, r.Status, r.Cost, m.Name, again.Status, again.Cost)
			}
		}
	}
}

func TestEndpointCredits(t *testing.T) {
	c := mustDefault(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for op, want := range map[string]string{"people/match": "1", "/api/v1/People/Match/": "1", "mixed_people/search": "0"} {
		got, ok := c.EndpointCredits(op, at)
		if !ok || got != usd(t, want) {
			t.Errorf("%q: %s %v, want %s", op, got, ok, want)
		}
	}
	for _, op := range []string{"people/bulk_match", "", "nothing"} {
		if _, ok := c.EndpointCredits(op, at); ok {
			t.Errorf("%q has credits", op)
		}
	}
	if _, ok := c.EndpointCredits("people/match", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)); ok {
		t.Error("credits before the entry's date")
	}
}

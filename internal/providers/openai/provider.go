// Package openai is everything Nexus knows about OpenAI: its hosts and base
// URL, the routes of its API, its config block (admin and API keys), the
// client of its Usage and Costs APIs, and a stand-in of them for tests.
// Calls are billed by tokens; the proxy reads their usage with the reading
// every OpenAI-style API shares.
package openai

import "github.com/nexus-otel/nexus/internal/providers/provider"

// Name is the provider's name in the `provider` column and the config.
const Name = "openai"

// BaseURL is the public API's root.
const BaseURL = "https://api.openai.com/v1"

// Descriptor describes OpenAI to the rest of Nexus.
func Descriptor() *provider.Provider {
	return &provider.Provider{
		Name:       Name,
		Hosts:      []string{"api.openai.com"},
		BaseURL:    BaseURL,
		GenAINames: []string{Name},
		GenAI:      true,
		Routes:     routes(),
		Billing:    provider.Billing{ByTokens: true},
		Advice:     provider.Advice{DirectModels: true},
		Refusals:   Refusals(),
		StandIn:    StandIn,
	}
}

// routes name the operations of plain HTTP spans that carry no
// gen_ai.operation.name.
func routes() []provider.Route {
	return []provider.Route{
		{Provider: Name, Pattern: "chat/completions", Operation: "chat"},
		{Provider: Name, Pattern: "responses", Operation: "chat"},
		{Provider: Name, Pattern: "completions", Operation: "text_completion"},
		{Provider: Name, Pattern: "embeddings", Operation: "embeddings"},
		// gpt-image-1 bills text and image tokens like a chat model.
		{Provider: Name, Pattern: "images/generations", Operation: "generate_content"},
		{Provider: Name, Pattern: "images/edits", Operation: "generate_content"},
	}
}

// Package openrouter is everything Nexus knows about OpenRouter, an OpenAI-
// compatible gateway: its hosts and base URL, routes, config block (API and
// management keys), the client of /key, /credits and /activity, and a stand-
// in for tests. It reuses the OpenAI package's key scrubbing, the same key
// formats being quoted back.
package openrouter

import (
	"github.com/nexus-otel/nexus/internal/providers/openai"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Name is the provider's name in the `provider` column and the config.
const Name = "openrouter"

// BaseURL is the public API's root.
const BaseURL = "https://openrouter.ai/api/v1"

// Descriptor describes OpenRouter to the rest of Nexus.
func Descriptor() *provider.Provider {
	return &provider.Provider{
		Name:       Name,
		Hosts:      []string{"openrouter.ai"},
		BaseURL:    BaseURL,
		GenAINames: []string{Name},
		GenAI:      true,
		Routes:     routes(),
		Billing:    provider.Billing{ByTokens: true},
		Advice:     provider.Advice{Gateway: true},
		Refusals:   openai.Refusals(),
		StandIn:    StandIn,
	}
}

// routes name the operations of plain HTTP spans that carry no
// gen_ai.operation.name.
func routes() []provider.Route {
	return []provider.Route{
		{Provider: Name, Pattern: "chat/completions", Operation: "chat"},
		{Provider: Name, Pattern: "completions", Operation: "text_completion"},
		{Provider: Name, Pattern: "embeddings", Operation: "embeddings"},
	}
}

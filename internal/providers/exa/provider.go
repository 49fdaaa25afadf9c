// Package exa is everything Nexus knows about Exa (search): its hosts and
// base URL, routes, config block (API and service keys), the client of its
// Team Management usage API, how its calls are billed (per request), the
// proxy's reader of the cost every answer states, and a stand-in for tests.
package exa

import "github.com/nexus-otel/nexus/internal/providers/provider"

// Name is the provider's name in the `provider` column and the config.
const Name = "exa"

// BaseURL is the public API's root.
const BaseURL = "https://api.exa.ai"

// AdminBaseURL is the root of the Team Management API (service key).
const AdminBaseURL = "https://admin-api.exa.ai"

// Descriptor describes Exa to the rest of Nexus.
func Descriptor() *provider.Provider {
	return &provider.Provider{
		Name:        Name,
		Hosts:       []string{"api.exa.ai"},
		BaseURL:     BaseURL,
		GenAINames:  []string{Name},
		GenAI:       false,
		Routes:      routes(),
		Billing:     provider.Billing{Units: units},
		NewResponse: newResponse,
		Refusals:    refusals(),
		StandIn:     StandIn,
	}
}

// routes name the operations of plain HTTP spans that carry no
// gen_ai.operation.name.
func routes() []provider.Route {
	return []provider.Route{
		{Provider: Name, Pattern: "search", Operation: "search"},
		{Provider: Name, Pattern: "contents", Operation: "contents"},
		{Provider: Name, Pattern: "answer", Operation: "answer"},
		{Provider: Name, Pattern: "findSimilar", Operation: "find_similar"},
		{Provider: Name, Pattern: "research/v1", Operation: "research"},
		{Provider: Name, Pattern: "research/v1/{}", Operation: "research"},
	}
}

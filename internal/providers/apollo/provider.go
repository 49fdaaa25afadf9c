// Package apollo is everything Nexus knows about Apollo (apollo.io): its
// hosts and base URL, routes (named by endpoint, as its credits are), config
// block (master key), the client of its usage stats and health check, and a
// stand-in for tests. Its calls are priced in credits by the pricing
// catalog.
package apollo

import "github.com/nexus-otel/nexus/internal/providers/provider"

// Name is the provider's name in the `provider` column and the config.
const Name = "apollo"

// BaseURL is the public API's root.
const BaseURL = "https://api.apollo.io/api/v1"

// Descriptor describes Apollo to the rest of Nexus.
func Descriptor() *provider.Provider {
	return &provider.Provider{
		Name:       Name,
		Hosts:      []string{"api.apollo.io"},
		BaseURL:    BaseURL,
		GenAINames: []string{Name},
		GenAI:      false,
		Routes:     routes(),
		Billing:    provider.Billing{},
		Advice:     provider.Advice{Credits: true},
		StandIn:    StandIn,
	}
}

// routes name the operations of plain HTTP spans that carry no
// gen_ai.operation.name.
// Operations are named by the endpoint path (without /api/v1), as
// its credit table in the pricing catalog is.
func routes() []provider.Route {
	return []provider.Route{
		{Provider: Name, Pattern: "people/match", Operation: "people/match"},
		{Provider: Name, Pattern: "people/bulk_match", Operation: "people/bulk_match"},
		{Provider: Name, Pattern: "mixed_people/search", Operation: "mixed_people/search"},
		{Provider: Name, Pattern: "mixed_companies/search", Operation: "mixed_companies/search"},
		{Provider: Name, Pattern: "organizations/enrich", Operation: "organizations/enrich"},
		{Provider: Name, Pattern: "organizations/bulk_enrich", Operation: "organizations/bulk_enrich"},
		{Provider: Name, Pattern: "organizations/{}", Operation: "organizations/show"},
		{Provider: Name, Pattern: "people/{}", Operation: "people/show"},
	}
}

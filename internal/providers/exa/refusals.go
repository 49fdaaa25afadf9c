package exa

import "github.com/nexus-otel/nexus/internal/providers/provider"

// refusals are Exa's error tags that mean it refused a call.
func refusals() provider.Refusals {
	return provider.Refusals{Names: []provider.RefusalName{
		{Name: "NO_MORE_CREDITS", Status: 402},
		{Name: "API_KEY_BUDGET_EXCEEDED", Status: 402},
	}}
}

// Package twilio is everything Nexus knows about Twilio: its hosts and base
// URL, routes, config block (account SID and token or API key), the client
// of its Usage Records and balance, how messages and calls are billed
// (segments, started minutes), the proxy's reader of prices, segments and
// destinations, and a stand-in for tests.
package twilio

import "github.com/nexus-otel/nexus/internal/providers/provider"

// Name is the provider's name in the `provider` column and the config.
const Name = "twilio"

// BaseURL is the public API's root.
const BaseURL = "https://api.twilio.com"

// Descriptor describes Twilio to the rest of Nexus.
func Descriptor() *provider.Provider {
	return &provider.Provider{
		Name:        Name,
		Hosts:       []string{"api.twilio.com"},
		BaseURL:     BaseURL,
		GenAINames:  []string{Name},
		GenAI:       false,
		Routes:      routes(),
		Billing:     provider.Billing{Units: units},
		Advice:      provider.Advice{SMSSegments: true},
		NewResponse: newResponse,
		Refusals:    provider.Refusals{Code: errorCode},
		StandIn:     StandIn,
	}
}

// routes name the operations of plain HTTP spans that carry no
// gen_ai.operation.name.
func routes() []provider.Route {
	return []provider.Route{
		{Provider: Name, Method: "POST", Pattern: "Accounts/{}/Messages.json", Operation: "sms"},
		{Provider: Name, Method: "POST", Pattern: "Accounts/{}/Calls.json", Operation: "voice"},
		{Provider: Name, Pattern: "Accounts/{}/Messages/{}", Operation: "sms_status"},
		{Provider: Name, Pattern: "Accounts/{}/Calls/{}", Operation: "voice_status"},
	}
}

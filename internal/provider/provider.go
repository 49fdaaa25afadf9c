// Package provider is the one place that knows the external APIs Nexus
// watches: their names, hosts, the names instrumentations use for them, and
// how their failures are classified. Receivers, processors and exporters all
// ask this package instead of keeping their own copies.
package provider

import (
	"net/url"
	"strings"
)

// Provider names as stored in the `provider` column and used in config.
const (
	OpenAI     = "openai"
	OpenRouter = "openrouter"
	Exa        = "exa"
	Twilio     = "twilio"
	Apollo     = "apollo"
)

// Info describes one provider.
type Info struct {
	Name string
	// Hosts are the API hosts; a span whose server.address or url.full names
	// one of them (or a subdomain of it) is a call to this provider.
	Hosts []string
	// BaseURL is the API root the pollers and the proxy call by default.
	BaseURL string
	// GenAINames are values of gen_ai.provider.name and the deprecated
	// gen_ai.system that mean this provider.
	GenAINames []string
}

// All lists the providers Nexus knows, in display order.
var All = []Info{
	{Name: OpenAI, Hosts: []string{"api.openai.com"}, BaseURL: "https://api.openai.com/v1", GenAINames: []string{"openai"}},
	{Name: OpenRouter, Hosts: []string{"openrouter.ai"}, BaseURL: "https://openrouter.ai/api/v1", GenAINames: []string{"openrouter"}},
	{Name: Exa, Hosts: []string{"api.exa.ai"}, BaseURL: "https://api.exa.ai", GenAINames: []string{"exa"}},
	{Name: Twilio, Hosts: []string{"api.twilio.com"}, BaseURL: "https://api.twilio.com", GenAINames: []string{"twilio"}},
	{Name: Apollo, Hosts: []string{"api.apollo.io"}, BaseURL: "https://api.apollo.io/api/v1", GenAINames: []string{"apollo"}},
}

// Lookup returns the provider called name.
func Lookup(name string) (Info, bool) {
	for _, p := range All {
		if p.Name == name {
			return p, true
		}
	}
	return Info{}, false
}

// FromGenAIName maps a gen_ai.provider.name or gen_ai.system value to a
// provider name; "" when it is none of ours.
func FromGenAIName(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	for _, p := range All {
		for _, n := range p.GenAINames {
			if v == n {
				return p.Name
			}
		}
	}
	return ""
}

// FromHost maps a host name (or host:port) to a provider name; "" when the
// host is none of ours. Subdomains count (eu.api.openai.com).
func FromHost(host string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return ""
	}
	for _, p := range All {
		for _, h := range p.Hosts {
			if host == h || strings.HasSuffix(host, "."+h) {
				return p.Name
			}
		}
	}
	return ""
}

// FromURL maps a full URL to a provider name by its host.
func FromURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return FromHost(u.Host)
}

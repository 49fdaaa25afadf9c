// Package providers is the one place that knows which external APIs Nexus
// watches. Each provider lives in a folder of its own (openai, openrouter,
// exa, twilio, apollo) holding everything about it: hosts and base URL,
// routes, config block, usage client, billing rules and test stand-in. This
// package lists them, once, in the fields of Providers, and answers the
// questions receivers, processors and the API ask about providers, so that
// none of them branches on a provider's name.
//
// Adding a provider: a folder whose Config implements provider.Block
// (Describe returns its provider.Provider: hosts, base URL, routes,
// billing, refusals, response reader, stand-in), one field in Providers,
// and its scheme and price lists in internal/pricing's catalog.yaml. The
// proxy mounts it, the apiusage receiver polls it, the cost processor
// identifies and prices its calls, and the API lists it, with no other
// change.
package providers

import (
	"net/url"
	"reflect"
	"strings"

	"github.com/nexus-otel/nexus/internal/providers/apollo"
	"github.com/nexus-otel/nexus/internal/providers/exa"
	"github.com/nexus-otel/nexus/internal/providers/openai"
	"github.com/nexus-otel/nexus/internal/providers/openrouter"
	"github.com/nexus-otel/nexus/internal/providers/provider"
	"github.com/nexus-otel/nexus/internal/providers/twilio"
)

// Providers holds one config block per provider, and is the registry: its
// fields, in display order, are the providers Nexus knows. Adding a
// provider is adding its folder and one line here; the field's key is the
// provider's name.
type Providers struct {
	OpenAI     openai.Config     `mapstructure:"openai"`
	OpenRouter openrouter.Config `mapstructure:"openrouter"`
	Exa        exa.Config        `mapstructure:"exa"`
	Twilio     twilio.Config     `mapstructure:"twilio"`
	Apollo     apollo.Config     `mapstructure:"apollo"`
}

// blocks returns the blocks of p in field order. Every field is a
// provider.Block (a test checks it, and that its key is the provider's
// name).
func (p *Providers) blocks() []provider.Block {
	v := reflect.ValueOf(p).Elem()
	out := make([]provider.Block, v.NumField())
	for i := range out {
		out[i] = v.Field(i).Addr().Interface().(provider.Block)
	}
	return out
}

// All lists the providers Nexus knows, in display order. It is built once
// from the fields of Providers and never changes.
var All = describeAll()

func describeAll() []*provider.Provider {
	var zero Providers
	blocks := zero.blocks()
	out := make([]*provider.Provider, len(blocks))
	for i, b := range blocks {
		out[i] = b.Describe()
	}
	return out
}

// Advised returns, in display order, the names of the providers whose
// Advice has the trait has picks.
func Advised(has func(provider.Advice) bool) []string {
	var out []string
	for _, p := range All {
		if has(p.Advice) {
			out = append(out, p.Name)
		}
	}
	return out
}

// Names returns the providers' names in display order.
func Names() []string {
	out := make([]string, len(All))
	for i, p := range All {
		out[i] = p.Name
	}
	return out
}

// Lookup returns the provider called name.
func Lookup(name string) (*provider.Provider, bool) {
	for _, p := range All {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
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

// Operation returns the operation of a call to the provider called name at
// path (a path or a full URL), trying extra routes before the provider's
// own. "" when no route matches or the provider is unknown. It does not
// allocate.
func Operation(name, method, path string, extra []provider.Route) string {
	p, ok := Lookup(name)
	if !ok {
		return provider.Operation(name, method, path, extra)
	}
	return provider.Operation(name, method, path, extra, p.Routes)
}

// AnswerOf is provider.AnswerOf with every provider's refusals.
func AnswerOf(status int, errorType string, failed bool) (provider.Answer, int) {
	return provider.AnswerOf(status, errorType, failed, All)
}

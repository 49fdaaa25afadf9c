// Package provider is the kit every provider of internal/providers is built
// from: the descriptor a provider fills in (hosts, base URL, routes, how it
// bills), the config block it implements, the HTTP plumbing its usage
// client shares (auth, error classification, scrubbing of credentials), and
// the error classes and answers stored with each call.
//
// It knows no provider by name: the providers import it, and the registry
// (internal/providers) lists them. It is a package of its own only because
// the registry imports the providers, which import these types.
package provider

import (
	"net/http"
	"time"

	"github.com/nexus-otel/nexus/internal/pricing"
)

// Provider describes one external API: what receivers, processors and the
// API need to know about it, so that none of them branches on its name.
type Provider struct {
	// Name is the provider's name as stored in the `provider` column and
	// used as its config key.
	Name string
	// Hosts are the API hosts; a span whose server.address or url.full
	// names one of them (or a subdomain of it) is a call to this provider.
	Hosts []string
	// BaseURL is the API root the poller and the proxy call by default.
	BaseURL string
	// GenAINames are values of gen_ai.provider.name and the deprecated
	// gen_ai.system that mean this provider.
	GenAINames []string
	// GenAI says the API speaks OpenAI's protocol: GenAI span conventions
	// apply to its calls, and it bills the tokens a call reports.
	GenAI bool
	// Routes name the operations behind the paths of its HTTP API.
	Routes []Route
	// Billing is how an accepted call is billed, for the cost processor.
	Billing Billing
	// Refusals are the error.type values that say it refused a call.
	Refusals Refusals
	// NewResponse returns a reader of the provider's own response fields
	// for one proxied call; nil when the proxy's shared reading suffices.
	NewResponse func() ResponseReader
	// Advice is which provider-specific recommendations apply to it.
	Advice Advice
	// StandIn returns a fake of the provider's API answering its documented
	// payloads for one settled day, mounted at mount (its paths are under
	// mount, a second API of the provider under mount+"-"+name). Tests and
	// the end-to-end suite point real clients at it.
	StandIn func(mount string, day time.Time) http.Handler
}

// Advice names the recommendations (internal/insights) that rest on how a
// provider sells: the insights ask for the providers that have a trait,
// never for a provider by name.
type Advice struct {
	// DirectModels: it sells its own models under bare names
	// (gpt-4o-mini); right-sizing prices such names from its catalog.
	DirectModels bool
	// Gateway: it routes other vendors' models, named vendor/model, to
	// several upstream providers at different prices: routing advice, and
	// right-sizing prices vendor/model names from its catalog.
	Gateway bool
	// SMSSegments: it bills a text message per segment, so long or
	// non-GSM texts inflate the bill (segment advice).
	SMSSegments bool
	// Credits: it bills from a plan of credits (credit burn advice).
	Credits bool
}

// Billing is how a provider bills a call it accepted.
type Billing struct {
	// ByTokens: the provider bills the tokens a call reports, so a call
	// without any is not known to be free, and an accepted call that failed
	// before reporting them is unpriced.
	ByTokens bool
	// Units completes u, the units the catalog prices, from what the call
	// reported; it returns why the call cannot be priced, "" when it can.
	// nil leaves the reported units as they are.
	Units func(c Billed, u *pricing.Usage) (unpriced string)
}

// Billed is what a call reports beyond the units pricing counts itself.
type Billed struct {
	Operation    string
	SMSSegments  int64
	VoiceSeconds int64
}

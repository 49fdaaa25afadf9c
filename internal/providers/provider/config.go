package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
)

// Common is what every provider's config block has: the HTTP client
// settings (endpoint = the API's base URL, empty for the public one;
// timeout, TLS, proxy, headers) and an optional interval of its own.
type Common struct {
	confighttp.ClientConfig `mapstructure:",squash"`
	CollectionInterval      time.Duration `mapstructure:"collection_interval"`
}

// Block is one provider's config block, as the registry handles it. A
// provider counts as configured when its credentials are set, so one
// config serves every deployment: keys come from the environment and an
// empty one switches the provider off.
type Block interface {
	// Describe returns the provider the block configures.
	Describe() *Provider
	// Settings returns the block's common part.
	Settings() *Common
	// Enabled reports whether the block has credentials to work with.
	Enabled() bool
	// Validate checks what is particular to the block; each error names
	// its key below prefix (e.g. "providers.exa.").
	ValidateBlock(prefix string) []error
	// NewPoller builds the provider's usage client against base (the
	// endpoint, or the public base URL) with hc.
	NewPoller(base string, hc *http.Client) Poller
	// Secrets are the block's credentials, for redaction.
	Secrets() []string
}

// Defaulter is a Block with defaults beyond the common ones.
type Defaulter interface {
	SetDefaults()
}

// ValidURL accepts "" (the provider's public API) and an absolute http(s)
// URL.
func ValidURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

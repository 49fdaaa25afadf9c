// Package providerconfig is the one place that knows how the providers'
// credentials and endpoints are configured and how they become pollers. The
// apiusage receiver polls with them; the nexusapi extension runs their key
// checks on demand. Both embed Providers in their config, so the provider
// blocks read the same wherever they appear.
package providerconfig

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/provider"
	"github.com/nexus-otel/nexus/internal/providerclient"
)

// Providers holds one block per provider. A provider counts as configured
// when its credentials are set, so one config serves every deployment: keys
// come from the environment and an empty one switches the provider off.
type Providers struct {
	OpenAI     OpenAIConfig     `mapstructure:"openai"`
	OpenRouter OpenRouterConfig `mapstructure:"openrouter"`
	Exa        ExaConfig        `mapstructure:"exa"`
	Twilio     TwilioConfig     `mapstructure:"twilio"`
	Apollo     ApolloConfig     `mapstructure:"apollo"`
}

// ProviderConfig is what every provider block has: the HTTP client settings
// (endpoint = the API's base URL, empty for the public one; timeout, TLS,
// proxy, headers) and an optional interval of its own.
type ProviderConfig struct {
	confighttp.ClientConfig `mapstructure:",squash"`
	CollectionInterval      time.Duration `mapstructure:"collection_interval"`
}

// OpenAIConfig polls the Usage and Costs APIs (admin key) and checks keys.
type OpenAIConfig struct {
	ProviderConfig `mapstructure:",squash"`
	AdminKey       configopaque.String `mapstructure:"admin_key"`
	// APIKey, when set, is used for the key check (GET /models).
	APIKey configopaque.String `mapstructure:"api_key"`
	// BucketWidth of usage buckets: 1m, 1h or 1d (costs are always 1d).
	BucketWidth string   `mapstructure:"bucket_width"`
	UsageTypes  []string `mapstructure:"usage_types"`
}

// OpenRouterConfig polls /key, and /credits and /activity with a
// management key.
type OpenRouterConfig struct {
	ProviderConfig `mapstructure:",squash"`
	APIKey         configopaque.String `mapstructure:"api_key"`
	ManagementKey  configopaque.String `mapstructure:"management_key"`
}

// ExaConfig polls team-management usage with a service key; with only an
// API key it checks health (per-call costs come from spans).
type ExaConfig struct {
	ProviderConfig `mapstructure:",squash"`
	AdminEndpoint  string              `mapstructure:"admin_endpoint"`
	APIKey         configopaque.String `mapstructure:"api_key"`
	ServiceKey     configopaque.String `mapstructure:"service_key"`
}

// TwilioConfig polls Usage Records and the balance of an account.
type TwilioConfig struct {
	ProviderConfig `mapstructure:",squash"`
	AccountSID     string              `mapstructure:"account_sid"`
	AuthToken      configopaque.String `mapstructure:"auth_token"`
	APIKeySID      string              `mapstructure:"api_key_sid"`
	APIKeySecret   configopaque.String `mapstructure:"api_key_secret"`
}

// ApolloConfig polls usage stats (master key) and checks the key.
type ApolloConfig struct {
	ProviderConfig `mapstructure:",squash"`
	APIKey         configopaque.String `mapstructure:"api_key"`
}

// Enabled reports whether the block has credentials to work with.
func (c OpenAIConfig) Enabled() bool { return c.AdminKey != "" || c.APIKey != "" }

// Enabled reports whether the block has credentials to work with.
func (c OpenRouterConfig) Enabled() bool { return c.APIKey != "" || c.ManagementKey != "" }

// Enabled reports whether the block has credentials to work with.
func (c ExaConfig) Enabled() bool { return c.APIKey != "" || c.ServiceKey != "" }

// Enabled reports whether the block has credentials to work with.
func (c TwilioConfig) Enabled() bool { return c.AccountSID != "" }

// Enabled reports whether the block has credentials to work with.
func (c ApolloConfig) Enabled() bool { return c.APIKey != "" }

// DefaultBucketWidth is OpenAI's usage bucket width when none is set: hourly
// buckets show a day's shape without the cost of per-minute paging.
const DefaultBucketWidth = "1h"

// NewDefault returns the blocks with no credentials, a 30 s HTTP timeout
// (a provider that does not answer must not hold a poll for the whole
// controller timeout) and hourly OpenAI buckets.
func NewDefault() Providers {
	pc := func() ProviderConfig {
		c := confighttp.NewDefaultClientConfig()
		c.Timeout = 30 * time.Second
		return ProviderConfig{ClientConfig: c}
	}
	return Providers{
		OpenAI:     OpenAIConfig{ProviderConfig: pc(), BucketWidth: DefaultBucketWidth},
		OpenRouter: OpenRouterConfig{ProviderConfig: pc()},
		Exa:        ExaConfig{ProviderConfig: pc()},
		Twilio:     TwilioConfig{ProviderConfig: pc()},
		Apollo:     ApolloConfig{ProviderConfig: pc()},
	}
}

// blocks pairs each provider name with its common block, in provider.All's
// order.
func (p *Providers) blocks() []struct {
	name string
	pc   *ProviderConfig
} {
	return []struct {
		name string
		pc   *ProviderConfig
	}{
		{provider.OpenAI, &p.OpenAI.ProviderConfig}, {provider.OpenRouter, &p.OpenRouter.ProviderConfig},
		{provider.Exa, &p.Exa.ProviderConfig}, {provider.Twilio, &p.Twilio.ProviderConfig},
		{provider.Apollo, &p.Apollo.ProviderConfig},
	}
}

// Configured reports whether provider name has credentials set; false for
// a name Nexus does not know.
func (p *Providers) Configured(name string) bool {
	switch name {
	case provider.OpenAI:
		return p.OpenAI.Enabled()
	case provider.OpenRouter:
		return p.OpenRouter.Enabled()
	case provider.Exa:
		return p.Exa.Enabled()
	case provider.Twilio:
		return p.Twilio.Enabled()
	case provider.Apollo:
		return p.Apollo.Enabled()
	}
	return false
}

// ValidateUnder checks the provider blocks; each error names its key below
// prefix ("" where the blocks sit at the top of a component's config,
// "providers." where they are nested).
//
// It is deliberately not called Validate: confmap.Validate calls every
// field's Validate itself, which would report each error twice, the second
// time under a path that is wrong where the blocks are squashed.
func (p *Providers) ValidateUnder(prefix string) error {
	var errs []error
	for _, b := range p.blocks() {
		if err := validURL(b.pc.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("%s%s.endpoint: %w", prefix, b.name, err))
		}
		if b.pc.CollectionInterval < 0 {
			errs = append(errs, fmt.Errorf("%s%s.collection_interval: must not be negative", prefix, b.name))
		}
	}
	if err := validURL(p.Exa.AdminEndpoint); err != nil {
		errs = append(errs, fmt.Errorf("%sexa.admin_endpoint: %w", prefix, err))
	}
	switch p.OpenAI.BucketWidth {
	case "", "1m", "1h", "1d": // "" where a component's defaults leave it unset
	default:
		errs = append(errs, fmt.Errorf("%sopenai.bucket_width: must be 1m, 1h or 1d, got %q", prefix, p.OpenAI.BucketWidth))
	}
	if t := p.Twilio; t.AccountSID != "" && t.AuthToken == "" && (t.APIKeySID == "" || t.APIKeySecret == "") {
		errs = append(errs, fmt.Errorf("%stwilio.auth_token: required with account_sid (or set api_key_sid and api_key_secret)", prefix))
	}
	if t := p.Twilio; t.AccountSID == "" && (t.AuthToken != "" || t.APIKeySID != "") {
		errs = append(errs, fmt.Errorf("%stwilio.account_sid: required when twilio credentials are set", prefix))
	}
	return errors.Join(errs...)
}

func validURL(s string) error {
	if s == "" {
		return nil // the provider's public API
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// Spec is one configured provider, ready to use.
type Spec struct {
	Name string
	// Interval is the block's own collection_interval; zero means the
	// caller's default.
	Interval time.Duration
	Poller   providerclient.Poller
	// HTTP is the poller's client; a caller that builds pollers for a
	// one-off call closes its idle connections when done.
	HTTP *http.Client
}

// ErrNotConfigured is returned for a known provider without credentials.
var ErrNotConfigured = errors.New("no credentials configured")

// Pollers builds a poller for every configured provider, in provider.All's
// order. The HTTP clients come from each block's client settings, with
// host's extensions for authenticators and middleware.
func (p *Providers) Pollers(ctx context.Context, host component.Host, set component.TelemetrySettings) ([]Spec, error) {
	var out []Spec
	for _, b := range p.blocks() {
		if !p.Configured(b.name) {
			continue
		}
		s, err := p.Poller(ctx, host, set, b.name)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Poller builds the poller of provider name alone. It fails with
// ErrNotConfigured when the provider has no credentials, and for a name
// Nexus does not know.
func (p *Providers) Poller(ctx context.Context, host component.Host, set component.TelemetrySettings, name string) (Spec, error) {
	info, ok := provider.Lookup(name)
	if !ok {
		return Spec{}, fmt.Errorf("unknown provider %q", name)
	}
	if !p.Configured(name) {
		return Spec{}, fmt.Errorf("%s: %w", name, ErrNotConfigured)
	}
	var pc *ProviderConfig
	for _, b := range p.blocks() {
		if b.name == name {
			pc = b.pc
		}
	}
	var ext map[component.ID]component.Component
	if host != nil {
		ext = host.GetExtensions()
	}
	hc, err := pc.ToClient(ctx, ext, set)
	if err != nil {
		return Spec{}, fmt.Errorf("%s: http client: %w", name, err)
	}
	// The public API's root comes from internal/provider, where every
	// provider's hosts and base URL are listed once.
	base := pc.Endpoint
	if base == "" {
		base = info.BaseURL
	}
	var poller providerclient.Poller
	switch name {
	case provider.OpenAI:
		c := p.OpenAI
		if c.BucketWidth == "" {
			c.BucketWidth = DefaultBucketWidth
		}
		poller = providerclient.NewOpenAI(providerclient.OpenAIConfig{BaseURL: base, AdminKey: string(c.AdminKey),
			APIKey: string(c.APIKey), BucketWidth: c.BucketWidth, UsageTypes: c.UsageTypes}, hc)
	case provider.OpenRouter:
		c := p.OpenRouter
		poller = providerclient.NewOpenRouter(providerclient.OpenRouterConfig{BaseURL: base, APIKey: string(c.APIKey),
			ManagementKey: string(c.ManagementKey)}, hc)
	case provider.Exa:
		c := p.Exa
		poller = providerclient.NewExa(providerclient.ExaConfig{BaseURL: base, AdminBaseURL: c.AdminEndpoint,
			APIKey: string(c.APIKey), ServiceKey: string(c.ServiceKey)}, hc)
	case provider.Twilio:
		c := p.Twilio
		poller = providerclient.NewTwilio(providerclient.TwilioConfig{BaseURL: base, AccountSID: c.AccountSID,
			AuthToken: string(c.AuthToken), APIKeySID: c.APIKeySID, APIKeySecret: string(c.APIKeySecret)}, hc)
	case provider.Apollo:
		poller = providerclient.NewApollo(providerclient.ApolloConfig{BaseURL: base, APIKey: string(p.Apollo.APIKey)}, hc)
	}
	return Spec{Name: name, Interval: pc.CollectionInterval, Poller: poller, HTTP: hc}, nil
}

// Redact replaces every configured secret in s with "[redacted]". The
// clients already keep keys out of their messages; this is the last guard
// before a message leaves the process, since a provider's error body may
// echo what it was sent.
func (p *Providers) Redact(s string) string {
	for _, secret := range p.secrets() {
		if len(secret) >= 4 { // shorter "secrets" would shred ordinary text
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

func (p *Providers) secrets() []string {
	return []string{
		string(p.OpenAI.AdminKey), string(p.OpenAI.APIKey),
		string(p.OpenRouter.APIKey), string(p.OpenRouter.ManagementKey),
		string(p.Exa.APIKey), string(p.Exa.ServiceKey),
		string(p.Twilio.AuthToken), string(p.Twilio.APIKeySecret),
		string(p.Apollo.APIKey),
	}
}

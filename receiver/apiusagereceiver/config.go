package apiusagereceiver

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/scraper/scraperhelper"
)

// Config configures the apiusage receiver. A provider is polled when its
// credentials are set; with none set the receiver starts and does nothing,
// so one config serves every deployment (keys come from the environment).
type Config struct {
	// CollectionInterval, InitialDelay and Timeout apply to every provider
	// unless its own block overrides the interval.
	scraperhelper.ControllerConfig `mapstructure:",squash"`
	// Lookback is how far back the first poll after start reaches.
	Lookback time.Duration `mapstructure:"lookback"`
	// Overlap is how far back later polls reach: buckets still open are
	// polled again until they settle (storage replaces them).
	Overlap time.Duration `mapstructure:"overlap"`
	// AuthRetryInterval is how often a provider whose key was refused is
	// tried again: refused keys are checked slowly, not hammered.
	AuthRetryInterval time.Duration `mapstructure:"auth_retry_interval"`

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

func (c OpenAIConfig) enabled() bool     { return c.AdminKey != "" || c.APIKey != "" }
func (c OpenRouterConfig) enabled() bool { return c.APIKey != "" || c.ManagementKey != "" }
func (c ExaConfig) enabled() bool        { return c.APIKey != "" || c.ServiceKey != "" }
func (c TwilioConfig) enabled() bool     { return c.AccountSID != "" }
func (c ApolloConfig) enabled() bool     { return c.APIKey != "" }

// Validate checks the configuration; each error names its key.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.CollectionInterval <= 0 {
		errs = append(errs, errors.New("collection_interval: must be positive"))
	}
	if cfg.Lookback <= 0 {
		errs = append(errs, errors.New("lookback: must be positive"))
	}
	if cfg.Overlap <= 0 || cfg.Overlap > cfg.Lookback {
		errs = append(errs, errors.New("overlap: must be positive and at most lookback"))
	}
	if cfg.AuthRetryInterval <= 0 {
		errs = append(errs, errors.New("auth_retry_interval: must be positive"))
	}
	for _, p := range []struct {
		name string
		pc   ProviderConfig
	}{{"openai", cfg.OpenAI.ProviderConfig}, {"openrouter", cfg.OpenRouter.ProviderConfig}, {"exa", cfg.Exa.ProviderConfig},
		{"twilio", cfg.Twilio.ProviderConfig}, {"apollo", cfg.Apollo.ProviderConfig}} {
		if err := validURL(p.pc.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("%s.endpoint: %w", p.name, err))
		}
		if p.pc.CollectionInterval < 0 {
			errs = append(errs, fmt.Errorf("%s.collection_interval: must not be negative", p.name))
		}
	}
	if err := validURL(cfg.Exa.AdminEndpoint); err != nil {
		errs = append(errs, fmt.Errorf("exa.admin_endpoint: %w", err))
	}
	switch cfg.OpenAI.BucketWidth {
	case "1m", "1h", "1d":
	default:
		errs = append(errs, fmt.Errorf("openai.bucket_width: must be 1m, 1h or 1d, got %q", cfg.OpenAI.BucketWidth))
	}
	if t := cfg.Twilio; t.AccountSID != "" && t.AuthToken == "" && (t.APIKeySID == "" || t.APIKeySecret == "") {
		errs = append(errs, errors.New("twilio.auth_token: required with account_sid (or set api_key_sid and api_key_secret)"))
	}
	if t := cfg.Twilio; t.AccountSID == "" && (t.AuthToken != "" || t.APIKeySID != "") {
		errs = append(errs, errors.New("twilio.account_sid: required when twilio credentials are set"))
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

package apiusagereceiver

import (
	"errors"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/nexus-otel/nexus/internal/providers"
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
	// Tenant is whose credentials this receiver polls with: everything it
	// emits is that tenant's (the nexus.tenant resource attribute, which
	// the nexus exporter stores). Other tenants' keys are stored through
	// the API and polled with TenantCredentials.
	Tenant string `mapstructure:"tenant"`

	// TenantCredentials polls, besides the blocks below, with every
	// tenant's provider credentials stored through the API (tenants.go),
	// read from the store extension Store names. Without that extension,
	// or without a key-encryption key, only the blocks below are polled.
	TenantCredentials bool `mapstructure:"tenant_credentials"`
	// Store is the chstore extension holding the stored credentials.
	Store component.ID `mapstructure:"store"`
	// CredentialsRefresh is how often the stored credentials are looked
	// at: a credential set, changed or deleted is polled with, polled
	// with anew or no longer polled within that time, without a restart.
	CredentialsRefresh time.Duration `mapstructure:"credentials_refresh"`
	// MaxTenantPollers bounds the pollers of stored credentials (one per
	// tenant and provider); those beyond it are not polled, and logged.
	MaxTenantPollers int `mapstructure:"max_tenant_pollers"`

	// Providers are the openai, openrouter, exa, twilio and apollo blocks,
	// at the top level of the receiver's config. The nexusapi extension
	// reads the same blocks for its key checks.
	providers.Providers `mapstructure:",squash"`
}

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
	if cfg.Tenant == "" || len(cfg.Tenant) > 64 || strings.ContainsFunc(cfg.Tenant, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		errs = append(errs, errors.New("tenant: required, at most 64 printable ASCII characters"))
	}
	if cfg.TenantCredentials {
		if cfg.Store.Type().String() == "" {
			errs = append(errs, errors.New("store: the id of a chstore extension is required with tenant_credentials (e.g. chstore)"))
		}
		if cfg.CredentialsRefresh < time.Second {
			errs = append(errs, errors.New("credentials_refresh: must be at least 1s"))
		}
		if cfg.MaxTenantPollers <= 0 {
			errs = append(errs, errors.New("max_tenant_pollers: must be positive"))
		}
	}
	errs = append(errs, cfg.Providers.ValidateUnder(""))
	return errors.Join(errs...)
}

package nexusapiextension

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"

	providerconfig "github.com/nexus-otel/nexus/internal/providers"
)

// Config configures the nexusapi extension.
type Config struct {
	confighttp.ServerConfig `mapstructure:",squash"`
	// Store is the chstore extension to read and write through.
	Store component.ID `mapstructure:"store"`
	// RateLimit bounds requests per API key.
	RateLimit RateLimitConfig `mapstructure:"rate_limit"`
	// TimeZone aligns budget periods and daily series (IANA name).
	TimeZone string `mapstructure:"time_zone"`
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// MaxRange bounds a query's time range (the raw data's retention).
	MaxRange time.Duration `mapstructure:"max_range"`
	// Providers are the provider blocks, as the apiusage receiver takes
	// them, for POST /api/v1/providers/{name}/test.
	Providers providerconfig.Providers `mapstructure:"providers"`
	// Alerting is the alert rules, their evaluator and the notification
	// channels (alerts_config.go).
	Alerting AlertingConfig `mapstructure:"alerting"`
	// Insights is the thresholds of the recommendations (insights_config.go).
	Insights InsightsConfig `mapstructure:"insights"`
	// KeysRefreshInterval is how often the keys are read again from the
	// store, so that a key created or revoked through another collector
	// works or stops working here within that time (config_limits.go).
	KeysRefreshInterval time.Duration `mapstructure:"keys_refresh_interval"`
	// RequestTimeout bounds every request but the stream, and every store
	// call it makes.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`
	// Reads is the API's budget of concurrent store reads.
	Reads ReadsConfig `mapstructure:"reads"`
	// Stream bounds open live streams.
	Stream StreamConfig `mapstructure:"stream"`
	// AdminKeyFile is where the admin key generated at a first start is
	// written (mode 0600); default: admin.key in $NEXUS_DATA_DIR, else
	// ./data.
	AdminKeyFile string `mapstructure:"admin_key_file"`
	// Sessions, SignIn and OIDC are how people sign in from a browser
	// (config_people.go).
	Sessions SessionsConfig `mapstructure:"sessions"`
	SignIn   SignInConfig   `mapstructure:"sign_in"`
	OIDC     oidcConfig     `mapstructure:"oidc"`
}

// RateLimitConfig is a token bucket per key, and one per client address
// for failed authentications.
type RateLimitConfig struct {
	RequestsPerSecond float64          `mapstructure:"requests_per_second"`
	Burst             int              `mapstructure:"burst"`
	FailedAuth        FailedAuthConfig `mapstructure:"failed_auth"`
}

// Validate checks the configuration; each error names its key.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: required"))
	}
	if cfg.Store.Type().String() == "" {
		errs = append(errs, errors.New("store: the id of a chstore extension is required"))
	}
	if cfg.RateLimit.RequestsPerSecond <= 0 {
		errs = append(errs, errors.New("rate_limit.requests_per_second: must be positive"))
	}
	if cfg.RateLimit.Burst < 1 {
		errs = append(errs, errors.New("rate_limit.burst: must be at least 1"))
	}
	if _, err := time.LoadLocation(cfg.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("time_zone: %w", err))
	}
	if cfg.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("max_body_bytes: must be positive"))
	}
	if cfg.MaxRange <= 0 {
		errs = append(errs, errors.New("max_range: must be positive"))
	}
	errs = append(errs, cfg.validateLimits(), cfg.validatePeople())
	errs = append(errs, cfg.Providers.ValidateUnder("providers."))
	errs = append(errs, cfg.Alerting.ValidateUnder("alerting."))
	errs = append(errs, cfg.Insights.ValidateUnder("insights."))
	return errors.Join(errs...)
}

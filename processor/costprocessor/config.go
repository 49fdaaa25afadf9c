package costprocessor

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"

	"github.com/nexus-otel/nexus/internal/anomaly"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Config configures the cost processor.
type Config struct {
	// Pricing overrides and extends the catalog built into the binary.
	Pricing pricing.Overrides `mapstructure:"pricing"`
	// Hosts maps extra API hosts (gateways, regional endpoints) to providers.
	Hosts map[string]string `mapstructure:"hosts"`
	// Routes name operations of paths the built-in routes do not know.
	Routes []provider.Route `mapstructure:"routes"`
	// Anomaly configures per-series anomaly scoring.
	Anomaly anomaly.Config `mapstructure:"anomaly"`
	// LiveFeed names the extension (nexusapi) whose live stream shows each
	// call as soon as it is priced, before batching and storage.
	LiveFeed *component.ID `mapstructure:"live_feed"`
	// Attribution says where each call's customer, user, team, feature and
	// tags are read from (attribution.go).
	Attribution AttributionConfig `mapstructure:"attribution"` // Prices are the price lists changed at run time (prices.go).
	Prices      PricesConfig      `mapstructure:"prices"`
}

// Validate checks the configuration; each error names its key.
func (cfg *Config) Validate() error {
	var errs []error
	for host, p := range cfg.Hosts {
		if _, ok := providers.Lookup(p); !ok {
			errs = append(errs, fmt.Errorf("hosts[%s]: unknown provider %q", host, p))
		}
	}
	for i, r := range cfg.Routes {
		if _, ok := providers.Lookup(r.Provider); !ok {
			errs = append(errs, fmt.Errorf("routes[%d].provider: unknown provider %q", i, r.Provider))
		}
		if r.Pattern == "" {
			errs = append(errs, fmt.Errorf("routes[%d].pattern: required", i))
		}
		if r.Operation == "" {
			errs = append(errs, fmt.Errorf("routes[%d].operation: required", i))
		}
	}
	if err := cfg.Anomaly.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("anomaly: %w", err))
	}
	if err := cfg.Attribution.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.Prices.validate(); err != nil {
		errs = append(errs, err)
	}
	// Building the catalog checks every override; a malformed entry stops
	// the collector at start with the entry named.
	base, err := pricing.Default()
	if err != nil {
		errs = append(errs, fmt.Errorf("pricing: built-in catalog: %w", err))
	} else if _, err := base.With(cfg.Pricing); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

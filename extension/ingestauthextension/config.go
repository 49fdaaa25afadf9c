package ingestauthextension

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Config configures the nexusingestauth extension.
type Config struct {
	// Store is the chstore extension whose ingest_keys table holds the keys.
	Store component.ID `mapstructure:"store"`
	// RefreshInterval is how often the keys are read again: a key created
	// or revoked through any collector works, or stops working, here
	// within about this long.
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`
}

// Validate checks the configuration; each error names its key.
func (cfg *Config) Validate() error {
	if cfg.RefreshInterval < 100*time.Millisecond {
		return errors.New("refresh_interval: must be at least 100ms")
	}
	return nil
}

package exa

import (
	"fmt"
	"net/http"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Config polls team-management usage with a service key; with only an API
// key it checks health (per-call costs come from spans).
type Config struct {
	provider.Common `mapstructure:",squash"`
	AdminEndpoint   string              `mapstructure:"admin_endpoint"`
	APIKey          configopaque.String `mapstructure:"api_key"`
	ServiceKey      configopaque.String `mapstructure:"service_key"`
}

// Describe implements provider.Block.
func (c *Config) Describe() *provider.Provider { return Descriptor() }

// Settings implements provider.Block.
func (c *Config) Settings() *provider.Common { return &c.Common }

// Enabled reports whether the block has credentials to work with.
func (c Config) Enabled() bool { return c.APIKey != "" || c.ServiceKey != "" }

// ValidateBlock implements provider.Block.
func (c *Config) ValidateBlock(prefix string) []error {
	if err := provider.ValidURL(c.AdminEndpoint); err != nil {
		return []error{fmt.Errorf("%sadmin_endpoint: %w", prefix, err)}
	}
	return nil
}

// NewPoller implements provider.Block.
func (c *Config) NewPoller(base string, hc *http.Client) provider.Poller {
	return NewClient(ClientConfig{BaseURL: base, AdminBaseURL: c.AdminEndpoint,
		APIKey: string(c.APIKey), ServiceKey: string(c.ServiceKey)}, hc)
}

// Secrets implements provider.Block.
func (c *Config) Secrets() []string { return []string{string(c.APIKey), string(c.ServiceKey)} }

package openrouter

import (
	"net/http"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Config polls /key, and /credits and /activity with a management key.
type Config struct {
	provider.Common `mapstructure:",squash"`
	APIKey          configopaque.String `mapstructure:"api_key"`
	ManagementKey   configopaque.String `mapstructure:"management_key"`
}

// Describe implements provider.Block.
func (c *Config) Describe() *provider.Provider { return Descriptor() }

// Settings implements provider.Block.
func (c *Config) Settings() *provider.Common { return &c.Common }

// Enabled reports whether the block has credentials to work with.
func (c Config) Enabled() bool { return c.APIKey != "" || c.ManagementKey != "" }

// ValidateBlock implements provider.Block.
func (c *Config) ValidateBlock(string) []error { return nil }

// NewPoller implements provider.Block.
func (c *Config) NewPoller(base string, hc *http.Client) provider.Poller {
	return NewClient(ClientConfig{BaseURL: base, APIKey: string(c.APIKey), ManagementKey: string(c.ManagementKey)}, hc)
}

// Secrets implements provider.Block.
func (c *Config) Secrets() []string { return []string{string(c.APIKey), string(c.ManagementKey)} }

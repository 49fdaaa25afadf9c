package apollo

import (
	"net/http"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Config polls usage stats (master key) and checks the key.
type Config struct {
	provider.Common `mapstructure:",squash"`
	APIKey          configopaque.String `mapstructure:"api_key"`
}

// Describe implements provider.Block.
func (c *Config) Describe() *provider.Provider { return Descriptor() }

// Settings implements provider.Block.
func (c *Config) Settings() *provider.Common { return &c.Common }

// Enabled reports whether the block has credentials to work with.
func (c Config) Enabled() bool { return c.APIKey != "" }

// ValidateBlock implements provider.Block.
func (c *Config) ValidateBlock(string) []error { return nil }

// NewPoller implements provider.Block.
func (c *Config) NewPoller(base string, hc *http.Client) provider.Poller {
	return NewClient(ClientConfig{BaseURL: base, APIKey: string(c.APIKey)}, hc)
}

// Secrets implements provider.Block.
func (c *Config) Secrets() []string { return []string{string(c.APIKey)} }

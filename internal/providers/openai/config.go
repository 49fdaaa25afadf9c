package openai

import (
	"fmt"
	"net/http"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Config polls the Usage and Costs APIs (admin key) and checks keys.
type Config struct {
	provider.Common `mapstructure:",squash"`
	AdminKey        configopaque.String `mapstructure:"admin_key"`
	// APIKey, when set, is used for the key check (GET /models).
	APIKey configopaque.String `mapstructure:"api_key"`
	// BucketWidth of usage buckets: 1m, 1h or 1d (costs are always 1d).
	BucketWidth string   `mapstructure:"bucket_width"`
	UsageTypes  []string `mapstructure:"usage_types"`
}

// DefaultBucketWidth is the usage bucket width when none is set: hourly
// buckets show a day's shape without the cost of per-minute paging.
const DefaultBucketWidth = "1h"

// Describe implements provider.Block.
func (c *Config) Describe() *provider.Provider { return Descriptor() }

// Settings implements provider.Block.
func (c *Config) Settings() *provider.Common { return &c.Common }

// SetDefaults implements provider.Defaulter.
func (c *Config) SetDefaults() { c.BucketWidth = DefaultBucketWidth }

// Enabled reports whether the block has credentials to work with.
func (c Config) Enabled() bool { return c.AdminKey != "" || c.APIKey != "" }

// ValidateBlock implements provider.Block.
func (c *Config) ValidateBlock(prefix string) []error {
	switch c.BucketWidth {
	case "", "1m", "1h", "1d": // "" where a component's defaults leave it unset
		return nil
	}
	return []error{fmt.Errorf("%sbucket_width: must be 1m, 1h or 1d, got %q", prefix, c.BucketWidth)}
}

// NewPoller implements provider.Block.
func (c *Config) NewPoller(base string, hc *http.Client) provider.Poller {
	width := c.BucketWidth
	if width == "" {
		width = DefaultBucketWidth
	}
	return NewClient(ClientConfig{BaseURL: base, AdminKey: string(c.AdminKey), APIKey: string(c.APIKey),
		BucketWidth: width, UsageTypes: c.UsageTypes}, hc)
}

// Secrets implements provider.Block.
func (c *Config) Secrets() []string { return []string{string(c.AdminKey), string(c.APIKey)} }

package twilio

import (
	"fmt"
	"net/http"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// Config polls Usage Records and the balance of an account.
type Config struct {
	provider.Common `mapstructure:",squash"`
	AccountSID      string              `mapstructure:"account_sid"`
	AuthToken       configopaque.String `mapstructure:"auth_token"`
	APIKeySID       string              `mapstructure:"api_key_sid"`
	APIKeySecret    configopaque.String `mapstructure:"api_key_secret"`
}

// Describe implements provider.Block.
func (c *Config) Describe() *provider.Provider { return Descriptor() }

// Settings implements provider.Block.
func (c *Config) Settings() *provider.Common { return &c.Common }

// Enabled reports whether the block has credentials to work with.
func (c Config) Enabled() bool { return c.AccountSID != "" }

// ValidateBlock implements provider.Block.
func (c *Config) ValidateBlock(prefix string) []error {
	var errs []error
	if c.AccountSID != "" && c.AuthToken == "" && (c.APIKeySID == "" || c.APIKeySecret == "") {
		errs = append(errs, fmt.Errorf("%sauth_token: required with account_sid (or set api_key_sid and api_key_secret)", prefix))
	}
	if c.AccountSID == "" && (c.AuthToken != "" || c.APIKeySID != "") {
		errs = append(errs, fmt.Errorf("%saccount_sid: required when twilio credentials are set", prefix))
	}
	return errs
}

// NewPoller implements provider.Block.
func (c *Config) NewPoller(base string, hc *http.Client) provider.Poller {
	return NewClient(ClientConfig{BaseURL: base, AccountSID: c.AccountSID, AuthToken: string(c.AuthToken),
		APIKeySID: c.APIKeySID, APIKeySecret: string(c.APIKeySecret)}, hc)
}

// Secrets implements provider.Block.
func (c *Config) Secrets() []string { return []string{string(c.AuthToken), string(c.APIKeySecret)} }

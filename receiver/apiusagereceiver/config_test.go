package apiusagereceiver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/configtest"
	"github.com/nexus-otel/nexus/internal/providers"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	return configtest.Load[*Config](t, NewFactory(), name)
}

// enabled is what the receiver would poll with cfg.
func enabled(t *testing.T, cfg *Config) []providers.Spec {
	t.Helper()
	specs, err := cfg.Pollers(context.Background(), nopHost(), receiverSettings().TelemetrySettings)
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

func TestLoadConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(enabled(t, cfg)) != 0 {
		t.Fatal("a config without keys polls something")
	}
	if cfg.Tenant != "default" {
		t.Fatalf("tenant %q, want the default tenant", cfg.Tenant)
	}
	cfg, err = loadConfig(t, "all")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CollectionInterval != 2*time.Minute || cfg.Lookback != 72*time.Hour || cfg.OpenAI.BucketWidth != "1d" ||
		cfg.OpenAI.CollectionInterval != 10*time.Minute || cfg.OpenAI.Endpoint != "http://127.0.0.1:9999/v1" ||
		cfg.Exa.AdminEndpoint != "https://exa-admin.corp.example" || cfg.Twilio.AccountSID != "AC123" {
		t.Fatalf("config: %+v", cfg)
	}
	if n := len(enabled(t, cfg)); n != 5 {
		t.Fatalf("%d providers enabled, want 5", n)
	}
	if strings.Contains(cfg.OpenAI.AdminKey.String(), "sk-admin") {
		t.Fatal("admin key printed in clear")
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for name, want := range map[string]string{
		"bad_width":            "openai.bucket_width",
		"bad_endpoint":         "apollo.endpoint",
		"twilio_without_token": "twilio.auth_token",
		"bad_overlap":          "overlap",
		"bad_tenant":           "tenant",
		"bad_refresh":          "credentials_refresh",
		"bad_max_pollers":      "max_tenant_pollers",
	} {
		if _, err := loadConfig(t, name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not name %q", name, err, want)
		}
	}
}

// TestConfigErrorsOnce: the provider blocks are validated by the receiver's
// Validate only, not a second time by confmap under a made-up path.
func TestConfigErrorsOnce(t *testing.T) {
	_, err := loadConfig(t, "bad_endpoint")
	if err == nil || strings.Count(err.Error(), "apollo.endpoint") != 1 || strings.Contains(err.Error(), "providers") {
		t.Fatalf("error %v: want apollo.endpoint named once, at the top level", err)
	}
}

// TestTenantCredentialsConfig: stored credentials are polled by default,
// from the chstore extension, looked at every 30s, at most 1000 pollers;
// each setting can be changed, and with tenant_credentials off the others
// are not checked.
func TestTenantCredentialsConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.TenantCredentials || cfg.Store.String() != "chstore" || cfg.CredentialsRefresh != 30*time.Second || cfg.MaxTenantPollers != 1000 {
		t.Fatalf("defaults: %v %s %s %d", cfg.TenantCredentials, cfg.Store, cfg.CredentialsRefresh, cfg.MaxTenantPollers)
	}
	cfg, err = loadConfig(t, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.String() != "chstore/main" || cfg.CredentialsRefresh != 10*time.Second || cfg.MaxTenantPollers != 5 {
		t.Fatalf("tenants: %s %s %d", cfg.Store, cfg.CredentialsRefresh, cfg.MaxTenantPollers)
	}
	if cfg, err = loadConfig(t, "no_tenants"); err != nil || cfg.TenantCredentials {
		t.Fatalf("no_tenants: %v, tenant_credentials %v", err, cfg != nil && cfg.TenantCredentials)
	}
}

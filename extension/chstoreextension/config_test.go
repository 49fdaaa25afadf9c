package chstoreextension

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"

	"github.com/nexus-otel/nexus/internal/configtest"
)

func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	return configtest.Load[*Config](t, NewFactory(), name)
}

func TestLoadConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != ModeEmbedded || cfg.Database != "nexus" || !cfg.Migrate || cfg.Embedded.Connections != 4 {
		t.Fatalf("defaults: %+v", cfg)
	}
	if cfg.HTTP.Enabled || cfg.HTTP.NetAddr.Endpoint != "127.0.0.1:8123" || !cfg.HTTP.ReadOnly {
		t.Fatalf("http defaults: %+v", cfg.HTTP)
	}

	cfg, err = loadConfig(t, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Embedded.DataDir != "/var/lib/nexus" || cfg.Embedded.Connections != 2 || cfg.HTTP.NetAddr.Endpoint != "127.0.0.1:18123" ||
		cfg.HTTP.Username != "grafana" || string(cfg.HTTP.Password) != "s3cret" {
		t.Fatalf("embedded: %+v", cfg)
	}

	cfg, err = loadConfig(t, "remote")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Remote.Cluster != "nexus_cluster" || len(cfg.Remote.Endpoints) != 2 || cfg.Remote.Protocol != ProtocolNative {
		t.Fatalf("remote: %+v", cfg.Remote)
	}
	// Secrets stay opaque when printed.
	if s := cfg.Remote.Password.String(); strings.Contains(s, "hunter2") {
		t.Fatalf("password printed in clear: %q", s)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	cases := map[string]string{
		"bad_mode":                 "mode:",
		"bad_database":             "database:",
		"remote_without_endpoints": "remote.endpoints",
		"http_in_remote":           "http.enabled",
		"half_auth":                "http.username, http.password",
		"bad_retention":            "retention.api_calls: must not be negative",
	}
	for name, key := range cases {
		_, err := loadConfig(t, name)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: error %v does not name %q", name, err, key)
		}
	}
}

func TestUnknownKeyRefused(t *testing.T) {
	conf := confmap.NewFromStringMap(map[string]any{"mode": "embedded", "datadir": "/tmp/x"})
	cfg := createDefaultConfig().(*Config)
	err := conf.Unmarshal(cfg)
	if err == nil || !strings.Contains(err.Error(), "datadir") {
		t.Fatalf("unknown key not refused by name: %v", err)
	}
}

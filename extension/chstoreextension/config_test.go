package chstoreextension

import (
	"fmt"
	"strings"
	"testing"
	"time"

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
	if cfg.MaxQueryTime != 30*time.Second || cfg.Embedded.ReadConnections != 2 || cfg.HTTP.MaxExecutionTime != 30*time.Second ||
		cfg.HTTP.MaxConcurrentQueries != 2 || cfg.HTTP.QueueTimeout != 5*time.Second || cfg.HTTP.MaxResultBytes != 64<<20 ||
		cfg.HTTP.MaxMemoryUsage != 2<<30 || len(cfg.HTTP.CORSAllowedOrigins) != 0 || len(cfg.HTTP.AllowedHosts) != 0 ||
		cfg.HTTP.WriteTimeout != time.Minute || cfg.HTTP.CORS.HasValue() {
		t.Fatalf("limit and exposure defaults: %+v", cfg)
	}

	cfg, err = loadConfig(t, "exposed")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxQueryTime != 10*time.Second || cfg.Embedded.ReadConnections != 3 || cfg.HTTP.MaxExecutionTime != 20*time.Second ||
		cfg.HTTP.MaxConcurrentQueries != 4 || cfg.HTTP.QueueTimeout != 2*time.Second || cfg.HTTP.MaxResultBytes != 1<<20 ||
		cfg.HTTP.MaxMemoryUsage != 1<<30 || len(cfg.HTTP.CORSAllowedOrigins) != 2 || cfg.HTTP.AllowedHosts[0] != "nexus.internal" {
		t.Fatalf("exposed: %+v", cfg)
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
		// Beyond loopback, the interface needs credentials.
		"exposed_without_credentials": "http.endpoint, http.username",
		"exposed_on_all_interfaces":   "http.endpoint, http.username",
		"cors_wildcard":               "http.cors_allowed_origins",
		"confighttp_cors":             "http.cors:",
		"bad_allowed_host":            "http.allowed_hosts",
		"short_write_timeout":         "http.write_timeout",
		"bad_read_pool":               "embedded.read_connections",
		"tenant_users_in_embedded":    "remote.tenant_users: provisioned on a ClickHouse server in remote mode only",
	}
	for name, keys := range map[string][]string{
		"bad_limits":    {"http.max_execution_time", "http.max_concurrent_queries", "http.queue_timeout", "http.max_result_bytes", "http.max_memory_usage"},
		"bad_read_pool": {"max_query_time", "embedded.read_connections"},
	} {
		_, err := loadConfig(t, name)
		for _, key := range keys {
			if err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("%s: error %v does not name %q", name, err, key)
			}
		}
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

func TestTenantUsersConfig(t *testing.T) {
	cfg, err := loadConfig(t, "tenant_users")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.HTTP.Users) != 2 || cfg.HTTP.Users[1].Username != "grafana-globex" || cfg.HTTP.Users[1].Tenant != "globex" ||
		string(cfg.HTTP.Users[0].Password) != "acme-secret" {
		t.Fatalf("http.users: %+v", cfg.HTTP.Users)
	}
	if s := fmt.Sprintf("%+v", cfg.HTTP.Users); strings.Contains(s, "acme-secret") {
		t.Fatalf("tenant password printed in clear: %s", s)
	}
	cfg, err = loadConfig(t, "remote_tenant_users")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Remote.TenantUsers) != 1 || cfg.Remote.TenantUsers[0].Tenant != "acme" {
		t.Fatalf("remote.tenant_users: %+v", cfg.Remote.TenantUsers)
	}

	_, err = loadConfig(t, "bad_tenant_users")
	for _, want := range []string{
		`http.users[1].username: "grafana-acme" is listed twice`,
		`http.users[2].username: "x' OR 1" is not a user name`,
		"http.users[3].password: required",
		"http.users[4].tenant: required",
		`http.users[5].tenant: "Acme'; DROP" is not a tenant id`,
		`http.users[6].username: "operator" is the installation's own user`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad_tenant_users: error %v lacks %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "users[0]") {
		t.Errorf("a valid user refused: %v", err)
	}
	_, err = loadConfig(t, "bad_remote_tenant_users")
	if err == nil || !strings.Contains(err.Error(), `remote.tenant_users[0].username: "default" is the installation's own user`) {
		t.Errorf("bad_remote_tenant_users: %v", err)
	}
}

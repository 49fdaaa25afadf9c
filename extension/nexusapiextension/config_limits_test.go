package nexusapiextension

import (
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/configtest"
)

func TestConfigLimits(t *testing.T) {
	load := func(name string) (*Config, error) { return configtest.Load[*Config](t, NewFactory(), name) }
	cfg, err := load("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimit.FailedAuth != (FailedAuthConfig{Max: 10, Window: time.Minute, MaxAddresses: 10000}) ||
		cfg.RequestTimeout != 30*time.Second || cfg.Reads != (ReadsConfig{MaxConcurrent: 1, MaxPerKey: 1, MaxWait: 10 * time.Second}) ||
		cfg.Stream != (StreamConfig{MaxPerKey: 4, MaxTotal: 1000}) || cfg.KeysRefreshInterval != 3*time.Second ||
		cfg.AdminKeyFile != "" || cfg.Alerting.MaxInstancesPerRule != 50 {
		t.Fatalf("defaults: %+v", cfg)
	}
	t.Setenv(dataDirEnv, "/srv/nexus")
	if p := cfg.adminKeyPath(); p != "/srv/nexus/admin.key" {
		t.Fatalf("default admin key path with %s: %s", dataDirEnv, p)
	}
	t.Setenv(dataDirEnv, "")
	if p := cfg.adminKeyPath(); p != "data/admin.key" {
		t.Fatalf("default admin key path: %s", p)
	}

	cfg, err = load("limits")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimit.FailedAuth != (FailedAuthConfig{Max: 3, Window: 30 * time.Second, MaxAddresses: 500}) ||
		cfg.RequestTimeout != 10*time.Second || cfg.Reads != (ReadsConfig{MaxConcurrent: 6, MaxPerKey: 3, MaxWait: 2 * time.Second}) ||
		cfg.Stream != (StreamConfig{MaxPerKey: 2, MaxTotal: 50}) || cfg.KeysRefreshInterval != time.Second ||
		cfg.adminKeyPath() != "/var/lib/nexus/admin.key" || cfg.Alerting.MaxInstancesPerRule != 20 {
		t.Fatalf("limits: %+v", cfg)
	}

	_, err = load("bad_limits")
	if err == nil {
		t.Fatal("bad limits accepted")
	}
	for _, want := range []string{
		"rate_limit.failed_auth.max: must be at least 1",
		"rate_limit.failed_auth.window: must be at least 1s",
		"rate_limit.failed_auth.max_addresses: must be at least 1",
		"request_timeout: must be at least 1s",
		"reads.max_per_key: must be from 1 to reads.max_concurrent (2)",
		"reads.max_wait: must not be negative",
		"stream.max_total: must be at least 1",
		"stream.max_per_key: must be from 1",
		"keys_refresh_interval: must be at least 100ms",
		"alerting.max_instances_per_rule: must be at least 1",
	} {
		if strings.Count(err.Error(), want) != 1 {
			t.Errorf("error does not say %q once:\n%v", want, err)
		}
	}
}

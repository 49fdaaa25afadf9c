package nexusexporter

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"

	"github.com/nexus-otel/nexus/internal/configtest"
)

func TestLoadConfig(t *testing.T) {
	cfg, err := configtest.Load[*Config](t, NewFactory(), "custom")
	if err != nil {
		t.Fatal(err)
	}
	q := cfg.QueueConfig.Get()
	if cfg.Store != component.MustNewIDWithName("chstore", "other") || cfg.Timeout != 10*time.Second ||
		q == nil || q.QueueSize != 5000 || q.StorageID == nil || q.StorageID.String() != "file_storage" ||
		cfg.BackOffConfig.MaxElapsedTime != 10*time.Minute ||
		cfg.AcceptedTime != (AcceptedTimeConfig{MaxAge: 30 * 24 * time.Hour, MaxFuture: time.Minute}) {
		t.Fatalf("unexpected config: %+v queue %+v", cfg, q)
	}
}

func TestConfigErrors(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if cfg.AcceptedTime != (AcceptedTimeConfig{MaxFuture: 5 * time.Minute}) {
		t.Fatalf("default accepted_time: %+v", cfg.AcceptedTime)
	}
	cfg.Timeout = -time.Second
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("negative timeout: %v", err)
	}
	cfg.AcceptedTime = AcceptedTimeConfig{MaxAge: -time.Hour, MaxFuture: -time.Second}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "accepted_time.max_age") || !strings.Contains(err.Error(), "accepted_time.max_future") {
		t.Fatalf("negative accepted_time: %v", err)
	}
	conf := confmap.NewFromStringMap(map[string]any{"stor": "chstore"})
	if err := conf.Unmarshal(createDefaultConfig().(*Config)); err == nil || !strings.Contains(err.Error(), "stor") {
		t.Fatalf("unknown key not named: %v", err)
	}
}

// TestDefaultsWaitOutOutages: without a config saying otherwise, an outage
// is retried for ever (the 5-minute default would drop accepted data) and
// requests are batched in the queue, not ahead of it.
func TestDefaultsWaitOutOutages(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	if !cfg.BackOffConfig.Enabled || cfg.BackOffConfig.MaxElapsedTime != 0 {
		t.Fatalf("retry: %+v, want enabled without a time limit", cfg.BackOffConfig)
	}
	q := cfg.QueueConfig.Get()
	if q == nil || !q.Batch.HasValue() || q.Batch.Get().MinSize != 8192 {
		t.Fatalf("queue: %+v, want batching in the queue", q)
	}
}

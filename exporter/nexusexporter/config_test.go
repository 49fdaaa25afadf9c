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
		cfg.BackOffConfig.MaxElapsedTime != 10*time.Minute {
		t.Fatalf("unexpected config: %+v queue %+v", cfg, q)
	}
}

func TestConfigErrors(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	cfg.Timeout = -time.Second
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("negative timeout: %v", err)
	}
	conf := confmap.NewFromStringMap(map[string]any{"stor": "chstore"})
	if err := conf.Unmarshal(createDefaultConfig().(*Config)); err == nil || !strings.Contains(err.Error(), "stor") {
		t.Fatalf("unknown key not named: %v", err)
	}
}

package apiusagereceiver

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/nexus-otel/nexus/internal/lifecycletest"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
)

// TestComponentLifecycle: contrib's generated lifecycle checks with the
// default config (no provider configured, nothing polled) and with one
// provider polled from its local stand-in, so that a scraper really
// starts and stops.
func TestComponentLifecycle(t *testing.T) {
	f := NewFactory()
	srv := providertest.New(t)
	polling := f.CreateDefaultConfig().(*Config)
	polling.InitialDelay = 0
	polling.OpenRouter.ManagementKey, polling.OpenRouter.Endpoint = "sk-or-v1-m", srv.OpenRouter()
	metrics := func(name string, cfg *Config) lifecycletest.Case {
		return lifecycletest.Case{Name: name + "/metrics", Create: func(ctx context.Context) (component.Component, error) {
			return f.CreateMetrics(ctx, receivertest.NewNopSettings(componentType), cfg, consumertest.NewNop())
		}}
	}
	lifecycletest.Check(t, f, componentType, nil,
		metrics("default", f.CreateDefaultConfig().(*Config)), metrics("polling", polling))
}

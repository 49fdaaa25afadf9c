package apiproxyreceiver

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/nexus-otel/nexus/internal/lifecycletest"
)

// TestComponentLifecycle: contrib's generated lifecycle checks, on port 0
// (the default may be taken by a running collector).
func TestComponentLifecycle(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Endpoint = "127.0.0.1:0"
	lifecycletest.Check(t, f, componentType, nil, lifecycletest.Case{
		Name: "traces",
		Create: func(ctx context.Context) (component.Component, error) {
			return f.CreateTraces(ctx, receivertest.NewNopSettings(componentType), cfg, consumertest.NewNop())
		},
	})
}

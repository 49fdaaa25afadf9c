package costprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/nexus-otel/nexus/internal/lifecycletest"
)

// TestComponentLifecycle: contrib's generated lifecycle checks for both
// signals, each started instance consuming one item that is no API call;
// then no shared state of the config is left behind.
func TestComponentLifecycle(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig()
	set := processortest.NewNopSettings(componentType)
	lifecycletest.Check(t, f, componentType, nil,
		lifecycletest.Case{
			Name: "logs",
			Create: func(ctx context.Context) (component.Component, error) {
				return f.CreateLogs(ctx, set, cfg, consumertest.NewNop())
			},
			Consume: func(ctx context.Context, c component.Component) error {
				return c.(processor.Logs).ConsumeLogs(ctx, lifecycletest.Logs())
			},
		},
		lifecycletest.Case{
			Name: "traces",
			Create: func(ctx context.Context) (component.Component, error) {
				return f.CreateTraces(ctx, set, cfg, consumertest.NewNop())
			},
			Consume: func(ctx context.Context, c component.Component) error {
				return c.(processor.Traces).ConsumeTraces(ctx, lifecycletest.Traces())
			},
		})
	if held(stateKey{id: set.ID, cfg: cfg.(*Config)}) {
		t.Fatal("shared state kept after every processor shut down")
	}
}

package nexusexporter

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/nexus-otel/nexus/internal/lifecycletest"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestComponentLifecycle: contrib's generated lifecycle checks for both
// signals, each started instance consuming a span that is no API call or a
// metric of no known name (both skipped). The exporter cannot start
// without its store: the nop host offers the real chstore extension.
func TestComponentLifecycle(t *testing.T) {
	_, host := storetest.Start(t, "exp_lifecycle")
	f := NewFactory()
	cfg := f.CreateDefaultConfig()
	set := exportertest.NewNopSettings(componentType)
	lifecycletest.Check(t, f, componentType, host,
		lifecycletest.Case{
			Name:   "metrics",
			Create: func(ctx context.Context) (component.Component, error) { return f.CreateMetrics(ctx, set, cfg) },
			Consume: func(ctx context.Context, c component.Component) error {
				return c.(exporter.Metrics).ConsumeMetrics(ctx, lifecycletest.Metrics())
			},
		},
		lifecycletest.Case{
			Name:   "traces",
			Create: func(ctx context.Context) (component.Component, error) { return f.CreateTraces(ctx, set, cfg) },
			Consume: func(ctx context.Context, c component.Component) error {
				return c.(exporter.Traces).ConsumeTraces(ctx, lifecycletest.Traces())
			},
		})
}

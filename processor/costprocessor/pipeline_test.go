package costprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/nexus-otel/nexus/exporter/nexusexporter"
)

// startPipeline starts the real pipeline tail: this processor feeding the
// nexus exporter, which writes to the store host offers. stop shuts both
// down, the exporter last so that its queue drains into the store.
func startPipeline(t *testing.T, host component.Host) (processor.Traces, func()) {
	t.Helper()
	ctx := context.Background()
	ef := nexusexporter.NewFactory()
	exp, err := ef.CreateTraces(ctx, exportertest.NewNopSettings(ef.Type()), ef.CreateDefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	pf := NewFactory()
	proc, err := pf.CreateTraces(ctx, processortest.NewNopSettings(pf.Type()), pf.CreateDefaultConfig(), exp)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	return proc, func() {
		if err := proc.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := exp.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

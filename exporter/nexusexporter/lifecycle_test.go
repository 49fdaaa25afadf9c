package nexusexporter

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/nexus-otel/nexus/internal/storetest"
)

// The lifecycle tests contrib generates with mdatagen
// (generated_component_test.go), written by hand: mdatagen is not part of
// this build. They catch a config struct the collector cannot unmarshal
// into, a Start that cannot run twice on fresh instances (a global, a port,
// a file held), and a Shutdown that needs a Start first, which the
// collector calls when another component fails to start. As generated for
// exporters, each started instance also consumes one item of data: here a
// span that is no API call and a metric of no known name, both skipped.
//
// The exporter cannot start without its store: the host is a nop host
// that offers the real chstore extension (storetest), as the collector's
// would.

func TestComponentFactoryType(t *testing.T) {
	if got := NewFactory().Type(); got != componentType {
		t.Fatalf("type %s, want %s", got, componentType)
	}
}

func TestComponentConfigStruct(t *testing.T) {
	if err := componenttest.CheckConfigStruct(NewFactory().CreateDefaultConfig()); err != nil {
		t.Fatal(err)
	}
}

func TestComponentLifecycle(t *testing.T) {
	ctx := context.Background()
	_, host := storetest.Start(t, "exp_lifecycle")
	f := NewFactory()
	cfg := f.CreateDefaultConfig()
	set := exportertest.NewNopSettings(componentType)
	tests := []struct {
		name    string
		create  func() (component.Component, error)
		consume func(component.Component) error
	}{
		{
			name:   "metrics",
			create: func() (component.Component, error) { return f.CreateMetrics(ctx, set, cfg) },
			consume: func(c component.Component) error {
				return c.(exporter.Metrics).ConsumeMetrics(ctx, lifecycleMetrics())
			},
		},
		{
			name:   "traces",
			create: func() (component.Component, error) { return f.CreateTraces(ctx, set, cfg) },
			consume: func(c component.Component) error {
				return c.(exporter.Traces).ConsumeTraces(ctx, lifecycleTraces())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name+"-shutdown", func(t *testing.T) {
			c, err := tt.create()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		})
		t.Run(tt.name+"-lifecycle", func(t *testing.T) {
			for range 2 {
				c, err := tt.create()
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Start(ctx, host); err != nil {
					t.Fatal(err)
				}
				if err := tt.consume(c); err != nil {
					t.Fatal(err)
				}
				if err := c.Shutdown(ctx); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func lifecycleMetrics() pmetric.Metrics {
	metrics := pmetric.NewMetrics()
	rm := metrics.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("resource", "R1")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("test_metric")
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.Attributes().PutStr("test_attr", "value_1")
	dp.SetIntValue(123)
	dp.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	return metrics
}

func lifecycleTraces() ptrace.Traces {
	traces := ptrace.NewTraces()
	rs := traces.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("resource", "R1")
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.Attributes().PutStr("test_attr", "value_1")
	span.SetName("test_span")
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Now().Add(-time.Second)))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	return traces
}

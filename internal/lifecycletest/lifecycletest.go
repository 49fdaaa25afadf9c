// Package lifecycletest holds the lifecycle checks contrib generates for
// every component with mdatagen (generated_component_test.go), which is not
// part of this build: the factory's type, a config struct the collector
// can unmarshal into, a Shutdown without a Start (the collector calls it
// when another component fails to start), and create → start → consume →
// shutdown twice on fresh instances (a global, a port or a file held by the
// first instance makes the second fail).
package lifecycletest

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Case is one kind of instance of a component: a signal, or a config.
type Case struct {
	Name   string
	Create func(ctx context.Context) (component.Component, error)
	// Consume, when set, hands a started instance one item of data.
	Consume func(ctx context.Context, c component.Component) error
}

// Check runs every lifecycle check on f's cases, starting instances on host
// (a nop host when nil).
func Check(t *testing.T, f component.Factory, want component.Type, host component.Host, cases ...Case) {
	t.Helper()
	ctx := context.Background()
	if host == nil {
		host = componenttest.NewNopHost()
	}
	if got := f.Type(); got != want {
		t.Fatalf("type %s, want %s", got, want)
	}
	if err := componenttest.CheckConfigStruct(f.CreateDefaultConfig()); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name+"-shutdown", func(t *testing.T) {
			comp, err := c.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := comp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		})
		t.Run(c.Name+"-lifecycle", func(t *testing.T) {
			for range 2 {
				comp, err := c.Create(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := comp.Start(ctx, host); err != nil {
					t.Fatal(err)
				}
				if c.Consume != nil {
					if err := c.Consume(ctx, comp); err != nil {
						t.Fatal(err)
					}
				}
				if err := comp.Shutdown(ctx); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// Traces is the span contrib's generated tests consume: no API call.
func Traces() ptrace.Traces {
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

// Metrics is the gauge contrib's generated tests consume: no known name.
func Metrics() pmetric.Metrics {
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

// Logs is the log record contrib's generated tests consume.
func Logs() plog.Logs {
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("resource", "R1")
	l := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	l.Body().SetStr("test log message")
	l.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	return logs
}

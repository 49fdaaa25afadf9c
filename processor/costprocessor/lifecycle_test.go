package costprocessor

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
)

// The lifecycle tests contrib generates with mdatagen
// (generated_component_test.go), written by hand: mdatagen is not part of
// this build. They catch a config struct the collector cannot unmarshal
// into, a Start that cannot run twice on fresh instances (a global, a port,
// a file held, a shared state not released), and a Shutdown that needs a
// Start first, which the collector calls when another component fails to
// start. As generated for processors, each started instance also consumes
// one item of data that is no API call.

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
	f := NewFactory()
	cfg := f.CreateDefaultConfig()
	set := processortest.NewNopSettings(componentType)
	tests := []struct {
		name    string
		create  func() (component.Component, error)
		consume func(component.Component) error
	}{
		{
			name:   "logs",
			create: func() (component.Component, error) { return f.CreateLogs(ctx, set, cfg, consumertest.NewNop()) },
			consume: func(c component.Component) error {
				return c.(processor.Logs).ConsumeLogs(ctx, lifecycleLogs())
			},
		},
		{
			name:   "traces",
			create: func() (component.Component, error) { return f.CreateTraces(ctx, set, cfg, consumertest.NewNop()) },
			consume: func(c component.Component) error {
				return c.(processor.Traces).ConsumeTraces(ctx, lifecycleTraces())
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
			host := componenttest.NewNopHost()
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
	// Every processor above was shut down: no state of this config is left
	// behind in the shared map.
	if held(stateKey{id: set.ID, cfg: cfg.(*Config)}) {
		t.Fatal("shared state kept after every processor shut down")
	}
}

func lifecycleLogs() plog.Logs {
	logs := plog.NewLogs()
	rl := logs.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("resource", "R1")
	l := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	l.Body().SetStr("test log message")
	l.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	return logs
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

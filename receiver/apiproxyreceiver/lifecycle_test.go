package apiproxyreceiver

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// The lifecycle tests contrib generates with mdatagen
// (generated_component_test.go), written by hand: mdatagen is not part of
// this build. They catch a config struct the collector cannot unmarshal
// into, a Start that cannot run twice on fresh instances (a global, a port,
// a file held), and a Shutdown that needs a Start first, which the
// collector calls when another component fails to start.

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

// TestComponentLifecycle runs the default config on port 0: the default
// port may be taken by a collector running on this machine.
func TestComponentLifecycle(t *testing.T) {
	ctx := context.Background()
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Endpoint = "127.0.0.1:0"
	create := func(t *testing.T) component.Component {
		t.Helper()
		c, err := f.CreateTraces(ctx, receivertest.NewNopSettings(componentType), cfg, consumertest.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("traces-shutdown", func(t *testing.T) {
		if err := create(t).Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("traces-lifecycle", func(t *testing.T) {
		host := componenttest.NewNopHost()
		for range 2 {
			c := create(t)
			if err := c.Start(ctx, host); err != nil {
				t.Fatal(err)
			}
			if err := c.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}

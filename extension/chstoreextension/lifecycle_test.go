package chstoreextension

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
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

// TestComponentLifecycle runs the default config (embedded engine,
// migrations on) on a data directory of its own rather than ./data; the
// second instance reopens what the first one migrated. The engine may
// switch data directories once every connection on the previous one is
// closed, which the other tests' cleanups have done by now.
func TestComponentLifecycle(t *testing.T) {
	ctx := context.Background()
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Embedded.DataDir = t.TempDir()
	t.Run("shutdown", func(t *testing.T) {
		e, err := f.Create(ctx, extensiontest.NewNopSettings(componentType), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("lifecycle", func(t *testing.T) {
		for range 2 {
			e, err := f.Create(ctx, extensiontest.NewNopSettings(componentType), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Start(ctx, componenttest.NewNopHost()); err != nil {
				t.Fatal(err)
			}
			if err := e.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}

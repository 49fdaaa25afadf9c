package nexusapiextension

import (
	"context"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/internal/storetest"
)

// The lifecycle tests contrib generates with mdatagen
// (generated_component_test.go), written by hand: mdatagen is not part of
// this build. They catch a config struct the collector cannot unmarshal
// into, a Start that cannot run twice on fresh instances (a global, a port,
// a file held, a goroutine left running), and a Shutdown that needs a
// Start first, which the collector calls when another component fails to
// start.

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

// TestComponentLifecycle runs the default config, alert evaluation
// included, with three changes: port 0 (the default port may be taken by a
// collector on this machine), the admin key the first start generates
// written under the test's directory, and a host that offers the real
// chstore extension (storetest), without which the API cannot start.
func TestComponentLifecycle(t *testing.T) {
	ctx := context.Background()
	_, host := storetest.Start(t, "api_lifecycle")
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.AdminKeyFile = filepath.Join(t.TempDir(), "admin_key")
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
			if err := e.Start(ctx, host); err != nil {
				t.Fatal(err)
			}
			if err := e.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}

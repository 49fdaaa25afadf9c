package nexusapiextension

import (
	"context"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/internal/lifecycletest"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestComponentLifecycle: contrib's generated lifecycle checks, on port 0
// (the default may be taken by a running collector), with the admin key
// file in the test's directory and the real store behind a nop host.
func TestComponentLifecycle(t *testing.T) {
	_, host := storetest.Start(t, "api_lifecycle")
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.AdminKeyFile = filepath.Join(t.TempDir(), "admin_key")
	lifecycletest.Check(t, f, componentType, host, lifecycletest.Case{
		Name: "extension",
		Create: func(ctx context.Context) (component.Component, error) {
			return f.Create(ctx, extensiontest.NewNopSettings(componentType), cfg)
		},
	})
}

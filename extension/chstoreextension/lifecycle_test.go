package chstoreextension

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/internal/lifecycletest"
)

// TestComponentLifecycle: contrib's generated lifecycle checks, with the
// embedded engine's data directory in the test's own.
func TestComponentLifecycle(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Embedded.DataDir = t.TempDir()
	lifecycletest.Check(t, f, componentType, nil, lifecycletest.Case{
		Name: "extension",
		Create: func(ctx context.Context) (component.Component, error) {
			return f.Create(ctx, extensiontest.NewNopSettings(componentType), cfg)
		},
	})
}

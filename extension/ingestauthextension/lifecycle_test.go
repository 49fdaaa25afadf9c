package ingestauthextension

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/internal/lifecycletest"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestComponentLifecycle: contrib's generated lifecycle checks, with the
// real store behind a nop host.
func TestComponentLifecycle(t *testing.T) {
	_, host := storetest.Start(t, "ingestauth_lifecycle")
	f := NewFactory()
	lifecycletest.Check(t, f, componentType, host, lifecycletest.Case{
		Name: "extension",
		Create: func(ctx context.Context) (component.Component, error) {
			return f.Create(ctx, extensiontest.NewNopSettings(componentType), f.CreateDefaultConfig())
		},
	})
}

// An authenticator that cannot find its store stops the collector at
// start, naming the store; before start it refuses every request.
func TestStartNeedsTheStore(t *testing.T) {
	f := NewFactory()
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(componentType), f.CreateDefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ext.(*ingestAuth).Authenticate(context.Background(), map[string][]string{HeaderIngestKey: {"nxi_x"}}); err == nil {
		t.Fatal("accepted a key before start")
	}
	_, host := storetest.Start(t, "ingestauth_nostore")
	delete(host.Extensions, storetest.ID)
	if err := ext.Start(context.Background(), host); err == nil || !strings.Contains(err.Error(), "chstore") {
		t.Fatalf("start without a store: %v", err)
	}
}

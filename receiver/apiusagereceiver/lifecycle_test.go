package apiusagereceiver

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/nexus-otel/nexus/internal/providertest"
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

// TestComponentLifecycle runs the default config (no provider configured:
// the receiver starts and polls nothing, as the README says) and one with a
// provider polled from its local stand-in, so that a scraper controller
// starts and stops too.
func TestComponentLifecycle(t *testing.T) {
	ctx := context.Background()
	f := NewFactory()
	srv := providertest.New(t)
	polling := f.CreateDefaultConfig().(*Config)
	polling.InitialDelay = 0
	polling.OpenRouter.ManagementKey, polling.OpenRouter.Endpoint = "sk-or-v1-m", srv.OpenRouter()
	for _, tc := range []struct {
		name string
		cfg  *Config
	}{{"default", f.CreateDefaultConfig().(*Config)}, {"polling", polling}} {
		name, cfg := tc.name, tc.cfg
		create := func(t *testing.T) component.Component {
			t.Helper()
			c, err := f.CreateMetrics(ctx, receivertest.NewNopSettings(componentType), cfg, consumertest.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		t.Run(name+"/metrics-shutdown", func(t *testing.T) {
			if err := create(t).Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
		})
		t.Run(name+"/metrics-lifecycle", func(t *testing.T) {
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
}

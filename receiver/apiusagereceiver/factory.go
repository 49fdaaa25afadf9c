// Package apiusagereceiver provides the apiusage receiver: it polls each
// provider's usage, billing, balance and rate-limit endpoints and checks its
// keys, one independent poller per provider (as hostmetrics has one scraper
// per area), and emits what it finds as metrics carrying the provider's own
// bucket times.
package apiusagereceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/schema"
)

// TypeStr is the receiver's type in collector configs.
const TypeStr = "apiusage"

var componentType = component.MustNewType(TypeStr)

// NewFactory returns the apiusage receiver factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(componentType, createDefaultConfig,
		receiver.WithMetrics(createMetrics, component.StabilityLevelAlpha))
}

func createDefaultConfig() component.Config {
	ctrl := scraperhelper.NewDefaultControllerConfig()
	ctrl.CollectionInterval = 5 * time.Minute
	ctrl.Timeout = time.Minute
	return &Config{
		ControllerConfig:   ctrl,
		Lookback:           7 * 24 * time.Hour,
		Overlap:            48 * time.Hour,
		AuthRetryInterval:  15 * time.Minute,
		Tenant:             schema.DefaultTenant,
		TenantCredentials:  true,
		Store:              component.MustNewID("chstore"),
		CredentialsRefresh: 30 * time.Second,
		MaxTenantPollers:   1000,
		Providers:          providers.NewDefault(),
	}
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return newReceiver(cfg.(*Config), set, next), nil
}

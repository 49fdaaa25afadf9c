// Package nexusapiextension provides the nexusapi extension: the REST API
// (/api/v1/…) over the Nexus store — costs, calls, budgets, providers, API
// keys and a live stream — with keys, roles and rate limits.
package nexusapiextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/extension"

	providerconfig "github.com/nexus-otel/nexus/internal/providers"
)

// TypeStr is the extension's type in collector configs.
const TypeStr = "nexusapi"

var componentType = component.MustNewType(TypeStr)

// NewFactory returns the nexusapi extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(componentType, createDefaultConfig, create, component.StabilityLevelAlpha)
}

func createDefaultConfig() component.Config {
	srv := confighttp.NewDefaultServerConfig()
	srv.NetAddr.Endpoint = "127.0.0.1:8080"
	return &Config{
		ServerConfig: srv,
		Store:        component.MustNewID("chstore"),
		RateLimit:    RateLimitConfig{RequestsPerSecond: 20, Burst: 40, FailedAuth: defaultFailedAuth()},
		TimeZone:     "UTC",
		MaxBodyBytes: 1 << 20,
		MaxRange:     400 * 24 * time.Hour,
		Providers:    providerconfig.NewDefault(),
		Alerting:     defaultAlertingConfig(),
		Insights:     defaultInsightsConfig(),

		KeysRefreshInterval: defaultKeysRefresh,
		RequestTimeout:      defaultRequestTimeout,
		Reads:               defaultReads(),
		Stream:              defaultStream(),
		Sessions:            defaultSessions(),
		SignIn:              defaultSignIn(),
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newAPI(cfg.(*Config), set), nil
}

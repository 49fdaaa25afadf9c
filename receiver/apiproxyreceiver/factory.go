// Package apiproxyreceiver provides the apiproxy receiver: a reverse proxy in
// front of the five provider APIs. Apps change only their SDK's base URL; the
// proxy forwards each call untouched (credentials included, never kept) and
// emits for it the span an instrumented client would have produced, usage
// and provider-reported cost included, streamed answers too.
package apiproxyreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/nexus-otel/nexus/internal/providers"
)

// TypeStr is the receiver's type in collector configs.
const TypeStr = "apiproxy"

var componentType = component.MustNewType(TypeStr)

// NewFactory returns the apiproxy receiver factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(componentType, createDefaultConfig,
		receiver.WithTraces(createTraces, component.StabilityLevelAlpha))
}

func createDefaultConfig() component.Config {
	return &Config{
		Endpoint:           "127.0.0.1:8787",
		ServiceName:        "apiproxy",
		ServiceNameHeader:  "X-Nexus-Service",
		AttributionHeaders: defaultAttributionHeaders(),
		Budgets:            defaultBudgetsConfig(),
		MaxRequestBodySize: 64 << 20,
		MaxParsedBodySize:  1 << 20,
		QueueSize:          8192,
		Upstream: UpstreamConfig{
			DialTimeout:         10 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			// Non-streamed answers of reasoning models take minutes before
			// the first byte; the SDKs wait 10 minutes, so does the proxy.
			ResponseHeaderTimeout: 10 * time.Minute,
			IdleTimeout:           5 * time.Minute,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
		},
		Providers: defaultRoutes(),
	}
}

// defaultRoutes is a default block for every provider.
func defaultRoutes() map[string]*RouteConfig {
	out := make(map[string]*RouteConfig, len(providers.All))
	for _, p := range providers.All {
		rc := defaultRoute()
		out[p.Name] = &rc
	}
	return out
}

func createTraces(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
	return newReceiver(cfg.(*Config), set, next)
}

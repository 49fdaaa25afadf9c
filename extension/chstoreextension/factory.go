// Package chstoreextension provides the chstore extension: the one owner of
// the ClickHouse connection every other Nexus component reads and writes
// through, embedded (chDB in-process) or remote (a ClickHouse server or
// cluster), with versioned schema migrations shared by both.
package chstoreextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/extension"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chhttp"
)

// TypeStr is the extension's type in collector configs.
const TypeStr = "chstore"

var componentType = component.MustNewType(TypeStr)

// NewFactory returns the chstore extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(componentType, createDefaultConfig, create, component.StabilityLevelAlpha)
}

func createDefaultConfig() component.Config {
	httpCfg := confighttp.NewDefaultServerConfig()
	httpCfg.NetAddr.Endpoint = "127.0.0.1:8123"
	// Room for a query that waits its turn and runs http.max_execution_time.
	httpCfg.WriteTimeout = time.Minute
	return &Config{
		Mode:         ModeEmbedded,
		Database:     "nexus",
		Migrate:      true,
		MaxQueryTime: chhttp.DefaultMaxExecutionTime,
		Embedded:     EmbeddedConfig{Connections: 4, ReadConnections: 2},
		// api_calls 90 days, api_calls_1m 30, api_calls_1h 365,
		// api_calls_1d for ever, provider_usage 730, provider_gauges and
		// provider_health 90, alert_events 365 (retention.go).
		Retention: defaultRetention(),
		Remote: RemoteConfig{
			Protocol:     ProtocolNative,
			DialTimeout:  10 * time.Second,
			MaxOpenConns: 8,
		},
		HTTP: HTTPConfig{
			ServerConfig: httpCfg, ReadOnly: true,
			MaxExecutionTime:     chhttp.DefaultMaxExecutionTime,
			MaxConcurrentQueries: chhttp.DefaultMaxConcurrent, QueueTimeout: chhttp.DefaultQueueTimeout,
			MaxResultBytes: chhttp.DefaultMaxResultBytes, MaxMemoryUsage: chhttp.DefaultMaxMemoryUsage,
		},
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set), nil
}

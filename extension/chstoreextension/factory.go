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
	return &Config{
		Mode:      ModeEmbedded,
		Database:  "nexus",
		Migrate:   true,
		Embedded:  EmbeddedConfig{Connections: 4},
		Retention: defaultRetention(),
		Remote: RemoteConfig{
			Protocol:     ProtocolNative,
			DialTimeout:  10 * time.Second,
			MaxOpenConns: 8,
		},
		HTTP: HTTPConfig{ServerConfig: httpCfg, ReadOnly: true},
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set), nil
}

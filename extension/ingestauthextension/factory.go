// Package ingestauthextension provides the nexusingestauth extension: a
// server authenticator for the OTLP receiver (and the apiproxy receiver)
// that accepts Nexus ingest keys and tells the pipeline which tenant the
// sender writes into.
package ingestauthextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

// TypeStr is the extension's type in collector configs.
const TypeStr = "nexusingestauth"

var componentType = component.MustNewType(TypeStr)

// defaultRefresh is how long a revoked key may keep working on another
// collector: a few seconds, for one cheap query per interval.
const defaultRefresh = 3 * time.Second

// NewFactory returns the nexusingestauth extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(componentType, createDefaultConfig, create, component.StabilityLevelAlpha)
}

func createDefaultConfig() component.Config {
	return &Config{Store: component.MustNewID("chstore"), RefreshInterval: defaultRefresh}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newAuth(cfg.(*Config), set), nil
}

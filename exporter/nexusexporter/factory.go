// Package nexusexporter provides the nexus exporter: it turns spans of API
// calls into typed rows of the Nexus tables and writes them through the
// chstore extension.
package nexusexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// TypeStr is the exporter's type in collector configs.
const TypeStr = "nexus"

var componentType = component.MustNewType(TypeStr)

// NewFactory returns the nexus exporter factory.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(componentType, createDefaultConfig,
		exporter.WithTraces(createTraces, component.StabilityLevelAlpha),
		exporter.WithMetrics(createMetrics, component.StabilityLevelAlpha))
}

func createDefaultConfig() component.Config {
	queue := exporterhelper.NewDefaultQueueConfig()
	// Rows are inserted in large blocks: ClickHouse wants few big inserts,
	// not many small ones. Requests are batched as the queue is read, not
	// in a processor ahead of it, so that what a receiver acknowledged is
	// in the queue (on disk with `storage:`), never only in a batcher.
	queue.NumConsumers = 2
	// (The default batch: 8192 items or 200 ms.)
	queue.Batch.GetOrInsertDefault()
	// An outage of the store is waited out, however long: the queue holds
	// the data meanwhile, and once it is full the receivers refuse new data
	// with a retryable error. The default 5-minute limit would drop data
	// already accepted.
	retry := configretry.NewDefaultBackOffConfig()
	retry.MaxElapsedTime = 0
	return &Config{
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: 30 * time.Second},
		QueueConfig:   configoptional.Some(queue),
		BackOffConfig: retry,
		Store:         component.MustNewID("chstore"),
		AcceptedTime:  AcceptedTimeConfig{MaxFuture: defaultMaxFuture},
	}
}

// defaultMaxFuture allows for clients whose clocks run a little ahead.
const defaultMaxFuture = 5 * time.Minute

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	e, err := newNexusExporter(cfg.(*Config), set, "traces")
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewTraces(ctx, set, cfg, e.pushTraces, e.options()...)
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	e, err := newNexusExporter(cfg.(*Config), set, "metrics")
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewMetrics(ctx, set, cfg, e.pushMetrics, e.options()...)
}

// options are the same for every signal: the store found at start, and the
// configured timeout, retry and (persistent) queue.
func (e *nexusExporter) options() []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(e.cfg.TimeoutConfig),
		exporterhelper.WithRetry(e.cfg.BackOffConfig),
		exporterhelper.WithQueue(e.cfg.QueueConfig),
	}
}

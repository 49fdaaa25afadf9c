// Package costprocessor provides the cost processor: it identifies the
// provider, operation and model of every API call, prices it (the
// provider-reported cost first, the versioned pricing catalog second, never a
// silent $0) and scores it for anomalies. One instance keeps one state (the
// anomaly baselines, the live feed) across all its pipelines and signals.
package costprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/nexus-otel/nexus/internal/anomaly"
)

// TypeStr is the processor's type in collector configs.
const TypeStr = "cost"

var componentType = component.MustNewType(TypeStr)

// NewFactory returns the cost processor factory.
func NewFactory() processor.Factory {
	return processor.NewFactory(componentType, createDefaultConfig,
		processor.WithTraces(createTraces, component.StabilityLevelAlpha),
		processor.WithLogs(createLogs, component.StabilityLevelAlpha))
}

func createDefaultConfig() component.Config {
	return &Config{Anomaly: anomaly.DefaultConfig(), Attribution: defaultAttribution(), Prices: defaultPrices()}
}

var capabilities = processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true})

// newShared returns a processor for one pipeline on the state its cost
// instance shares with its other pipelines (shared.go), and the release
// its Shutdown must run.
func newShared(cfg component.Config, set processor.Settings) (*costProcessor, component.ShutdownFunc, error) {
	c := cfg.(*Config)
	s, release, err := states.acquire(stateKey{id: set.ID, cfg: c}, func() (*state, error) {
		return newState(c, set.Logger)
	})
	if err != nil {
		return nil, nil, err
	}
	p, err := withState(s, set)
	if err != nil {
		_ = release(context.Background())
		return nil, nil, err
	}
	return p, release, nil
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, release, err := newShared(cfg, set)
	if err != nil {
		return nil, err
	}
	tp, err := processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces, capabilities,
		processorhelper.WithStart(p.start), processorhelper.WithShutdown(release))
	if err != nil {
		_ = release(ctx)
		return nil, err
	}
	return tp, nil
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, release, err := newShared(cfg, set)
	if err != nil {
		return nil, err
	}
	lp, err := processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs, capabilities,
		processorhelper.WithStart(p.start), processorhelper.WithShutdown(release))
	if err != nil {
		_ = release(ctx)
		return nil, err
	}
	return lp, nil
}

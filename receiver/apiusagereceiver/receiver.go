package apiusagereceiver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"
	"go.uber.org/zap"
)

// apiUsageReceiver runs one scraper controller per configured provider, so
// that a slow or failing provider never delays another's poll.
type apiUsageReceiver struct {
	cfg  *Config
	set  receiver.Settings
	next consumer.Metrics

	stop        context.Context
	cancel      context.CancelFunc
	controllers []receiver.Metrics
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Metrics) *apiUsageReceiver {
	stop, cancel := context.WithCancel(context.Background())
	return &apiUsageReceiver{cfg: cfg, set: set, next: next, stop: stop, cancel: cancel}
}

func (r *apiUsageReceiver) Start(ctx context.Context, host component.Host) error {
	specs, err := r.cfg.Pollers(ctx, host, r.set.TelemetrySettings)
	if err != nil {
		return fmt.Errorf("build provider pollers: %w", err)
	}
	if len(specs) == 0 {
		r.set.Logger.Info("no provider credentials configured; nothing to poll")
		return nil
	}
	for _, sp := range specs {
		s := &pollScraper{
			poller: sp.Poller, logger: r.set.Logger, lookback: r.cfg.Lookback,
			overlap: r.cfg.Overlap, authRetry: r.cfg.AuthRetryInterval, now: time.Now, stop: r.stop,
			tenant: r.cfg.Tenant,
		}
		sc, err := scraper.NewMetrics(s.scrape)
		if err != nil {
			return err
		}
		ctrlCfg := r.cfg.ControllerConfig
		if sp.Interval > 0 {
			ctrlCfg.CollectionInterval = sp.Interval
		}
		ctrl, err := scraperhelper.NewMetricsController(&ctrlCfg, r.set, settling{Metrics: r.next, s: s},
			scraperhelper.AddMetricsScraper(component.MustNewType(sp.Name), sc))
		if err != nil {
			return fmt.Errorf("%s: %w", sp.Name, err)
		}
		if err := ctrl.Start(ctx, host); err != nil {
			return fmt.Errorf("%s: %w", sp.Name, err)
		}
		r.controllers = append(r.controllers, ctrl)
		r.set.Logger.Info("polling provider", zap.String("provider", sp.Name), zap.Duration("interval", ctrlCfg.CollectionInterval))
	}
	return nil
}

// settling passes a provider's polls on and tells its scraper whether the
// pipeline took them (see pollScraper.settle).
type settling struct {
	consumer.Metrics
	s *pollScraper
}

func (c settling) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	err := c.Metrics.ConsumeMetrics(ctx, md)
	c.s.settle(err == nil)
	return err
}

// Shutdown cancels in-flight provider calls first, so that a slow provider
// cannot hold the collector's shutdown, then stops the controllers.
func (r *apiUsageReceiver) Shutdown(ctx context.Context) error {
	r.cancel()
	var errs []error
	for _, c := range r.controllers {
		errs = append(errs, c.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

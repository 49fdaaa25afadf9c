package apiusagereceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/providers"
)

// apiUsageReceiver runs one scraper controller per polled (tenant,
// provider), so that a slow or failing provider never delays another's
// poll: the config's providers for its tenant, and every tenant's stored
// credentials (tenants.go).
type apiUsageReceiver struct {
	cfg  *Config
	set  receiver.Settings
	next consumer.Metrics

	stop   context.Context
	cancel context.CancelFunc
	host   component.Host

	// pollers is owned by Start, then by the refresh loop while it runs
	// (loopDone open), then by Shutdown: never two at once.
	pollers  map[pollerKey]*runningPoller
	loopDone chan struct{}
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Metrics) *apiUsageReceiver {
	stop, cancel := context.WithCancel(context.Background())
	return &apiUsageReceiver{cfg: cfg, set: set, next: next, stop: stop, cancel: cancel,
		pollers: map[pollerKey]*runningPoller{}}
}

// pollerKey is what one poller polls: whose credentials, for which
// provider.
type pollerKey struct{ tenant, provider string }

// wantedPoller is a poller that should run: the blocks it is built from,
// and where its credentials come from (sourceConfig, or a stored
// credential's fingerprint); a change of source restarts the poller.
type wantedPoller struct {
	source string
	blocks providers.Providers
}

const sourceConfig = "config"

// runningPoller is a started poller.
type runningPoller struct {
	source string
	ctrl   receiver.Metrics
	// cancel ends its in-flight calls, so that stopping it never waits
	// for a slow provider.
	cancel context.CancelFunc
	http   *http.Client
}

func (r *apiUsageReceiver) Start(ctx context.Context, host component.Host) error {
	r.host = host
	cs := r.credentialStore(host)
	want, last := r.configPollers(), ""
	if cs != nil {
		// The stored credentials are read before any poller starts, so
		// that a config poller they replace never starts only to stop.
		readCtx, cancel := context.WithTimeout(ctx, r.cfg.CredentialsRefresh)
		fp, stored, err := readCredentials(readCtx, cs)
		cancel()
		switch {
		case fp == "":
			r.set.Logger.Warn("cannot read the tenants' provider credentials; trying again every credentials_refresh",
				zap.Duration("credentials_refresh", r.cfg.CredentialsRefresh), zap.Error(err))
		default:
			if err != nil {
				r.set.Logger.Warn("some stored provider credentials are not polled", zap.Error(err))
			}
			last = fp
			r.addStored(want, stored)
		}
	}
	if err := r.apply(ctx, want); err != nil {
		return err
	}
	if cs != nil {
		r.loopDone = make(chan struct{})
		go r.refreshLoop(cs, last)
	} else if len(r.pollers) == 0 {
		r.set.Logger.Info("no provider credentials configured; nothing to poll")
	}
	return nil
}

// configPollers is a poller for every provider of the config's own blocks,
// for the config's tenant.
func (r *apiUsageReceiver) configPollers() map[pollerKey]wantedPoller {
	want := map[pollerKey]wantedPoller{}
	for _, info := range providers.All {
		if r.cfg.Configured(info.Name) {
			want[pollerKey{r.cfg.Tenant, info.Name}] = wantedPoller{source: sourceConfig, blocks: r.cfg.Providers}
		}
	}
	return want
}

// apply stops the pollers want does not hold or holds with another
// source, and starts those it holds that do not run; the others run on
// untouched. A config poller that does not start is an error (a config
// problem, as at start before stored credentials existed); a stored
// credential's is logged, and the others start regardless.
//
// Stored credentials' pollers are logged one by one at debug only (there
// may be a thousand), and summed up at info.
func (r *apiUsageReceiver) apply(ctx context.Context, want map[pollerKey]wantedPoller) error {
	started, stopped := 0, 0
	for k, p := range r.pollers {
		if w, ok := want[k]; ok && w.source == p.source {
			continue
		}
		if err := p.shutdown(ctx); err != nil {
			r.set.Logger.Warn("stopping a poller", zap.String("tenant", k.tenant), zap.String("provider", k.provider), zap.Error(err))
		}
		delete(r.pollers, k)
		stopped++
		r.pollerLog(p.source)("stopped polling provider", zap.String("tenant", k.tenant), zap.String("provider", k.provider))
	}
	var errs []error
	for _, k := range sortedKeys(want) {
		if _, ok := r.pollers[k]; ok {
			continue
		}
		w := want[k]
		p, err := r.startPoller(ctx, k, w)
		if err != nil {
			if w.source == sourceConfig {
				errs = append(errs, err)
			} else {
				r.set.Logger.Warn("cannot poll with a tenant's stored credential", zap.String("tenant", k.tenant),
					zap.String("provider", k.provider), zap.Error(err))
			}
			continue
		}
		r.pollers[k] = p
		started++
	}
	if started+stopped > 0 {
		r.set.Logger.Info("provider pollers changed", zap.Int("started", started), zap.Int("stopped", stopped),
			zap.Int("running", len(r.pollers)))
	}
	return errors.Join(errs...)
}

// pollerLog is where a poller of source is logged starting and stopping.
func (r *apiUsageReceiver) pollerLog(source string) func(string, ...zap.Field) {
	if source == sourceConfig {
		return r.set.Logger.Info
	}
	return r.set.Logger.Debug
}

func (r *apiUsageReceiver) startPoller(ctx context.Context, k pollerKey, w wantedPoller) (*runningPoller, error) {
	sp, err := w.blocks.Poller(ctx, r.host, r.set.TelemetrySettings, k.provider)
	if err != nil {
		return nil, fmt.Errorf("build provider poller: %w", err)
	}
	stop, cancel := context.WithCancel(r.stop)
	fail := func(err error) (*runningPoller, error) {
		cancel()
		sp.HTTP.CloseIdleConnections()
		return nil, fmt.Errorf("%s: %w", k.provider, err)
	}
	s := &pollScraper{
		poller: sp.Poller, logger: r.set.Logger, lookback: r.cfg.Lookback,
		overlap: r.cfg.Overlap, authRetry: r.cfg.AuthRetryInterval, now: time.Now, stop: stop,
		tenant: k.tenant,
	}
	sc, err := scraper.NewMetrics(s.scrape)
	if err != nil {
		return fail(err)
	}
	ctrlCfg := r.cfg.ControllerConfig
	if sp.Interval > 0 {
		ctrlCfg.CollectionInterval = sp.Interval
	}
	ctrl, err := scraperhelper.NewMetricsController(&ctrlCfg, r.set, settling{Metrics: r.next, s: s},
		scraperhelper.AddMetricsScraper(component.MustNewType(sp.Name), sc))
	if err != nil {
		return fail(err)
	}
	if err := ctrl.Start(ctx, r.host); err != nil {
		return fail(err)
	}
	from := "config"
	if w.source != sourceConfig {
		from = "stored"
	}
	r.pollerLog(w.source)("polling provider", zap.String("tenant", k.tenant), zap.String("provider", sp.Name),
		zap.String("credentials", from), zap.Duration("interval", ctrlCfg.CollectionInterval))
	return &runningPoller{source: w.source, ctrl: ctrl, cancel: cancel, http: sp.HTTP}, nil
}

// shutdown cancels the poller's in-flight calls, stops its controller and
// lets its idle connections go.
func (p *runningPoller) shutdown(ctx context.Context) error {
	p.cancel()
	err := p.ctrl.Shutdown(ctx)
	p.http.CloseIdleConnections()
	return err
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

// Shutdown cancels in-flight provider calls and store reads first, so
// that a slow provider cannot hold the collector's shutdown, then stops
// the refresh loop and every poller.
func (r *apiUsageReceiver) Shutdown(ctx context.Context) error {
	r.cancel()
	if r.loopDone != nil {
		select {
		case <-r.loopDone:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the credentials refresh to stop: %w", ctx.Err())
		}
	}
	var errs []error
	for k, p := range r.pollers {
		errs = append(errs, p.shutdown(ctx))
		delete(r.pollers, k)
	}
	return errors.Join(errs...)
}

package costprocessor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/pricebook"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers/openrouter"
	"github.com/nexus-otel/nexus/internal/store"
)

// PricesConfig is where prices changed at run time come from: the prices
// table of a store (lists added through the API, per tenant, and synced
// ones), and OpenRouter's published model prices.
type PricesConfig struct {
	// Store names the store extension (chstore) whose price lists are
	// used on top of the catalog and pricing overrides. Unset: the
	// catalog and overrides only.
	Store *component.ID `mapstructure:"store"`
	// Refresh is how often the table is checked for changed lists: a
	// price added through the API prices calls within this interval.
	Refresh time.Duration `mapstructure:"refresh"`
	// API names the API extension (nexusapi) that lists these catalogs
	// and re-prices stored calls with them.
	API *component.ID `mapstructure:"api"`
	// OpenRouterSync keeps OpenRouter's published prices as lists for
	// every tenant; it needs Store.
	OpenRouterSync OpenRouterSyncConfig `mapstructure:"openrouter_sync"`
}

// OpenRouterSyncConfig configures the sync of OpenRouter's model list
// (GET {endpoint}/models, no key).
type OpenRouterSyncConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// Endpoint is OpenRouter's API base URL; empty is the public one.
	Endpoint string        `mapstructure:"endpoint"`
	Interval time.Duration `mapstructure:"interval"`
	Timeout  time.Duration `mapstructure:"timeout"`
}

func defaultPrices() PricesConfig {
	return PricesConfig{Refresh: 2 * time.Second, OpenRouterSync: OpenRouterSyncConfig{Interval: 6 * time.Hour, Timeout: 30 * time.Second}}
}

func (c *PricesConfig) validate() error {
	var errs []error
	if c.Refresh < 100*time.Millisecond || c.Refresh > time.Hour {
		errs = append(errs, fmt.Errorf("prices.refresh: %s is outside 100ms–1h", c.Refresh))
	}
	s := &c.OpenRouterSync
	if s.Enabled {
		if c.Store == nil {
			errs = append(errs, errors.New("prices.openrouter_sync: needs prices.store (the synced lists are stored there)"))
		}
		if u, err := url.Parse(s.Endpoint); s.Endpoint != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			errs = append(errs, fmt.Errorf("prices.openrouter_sync.endpoint: %q is not an http(s) URL", s.Endpoint))
		}
		if s.Interval < time.Minute {
			errs = append(errs, fmt.Errorf("prices.openrouter_sync.interval: %s is under a minute", s.Interval))
		}
		if s.Timeout <= 0 || s.Timeout > 5*time.Minute {
			errs = append(errs, fmt.Errorf("prices.openrouter_sync.timeout: %s is outside (0, 5m]", s.Timeout))
		}
	}
	return errors.Join(errs...)
}

// prices is a cost instance's catalogs: the base catalog alone, or a
// watcher of the store's run-time lists over it.
type prices struct {
	base    *pricing.Catalog
	watcher *pricebook.Watcher // nil without a store
	cfg     PricesConfig
	logger  *zap.Logger

	exchange *pricebook.Exchange // where the watcher is published, if anywhere
	stop     context.CancelFunc
	done     sync.WaitGroup
}

// catalog is tenant's catalog now.
func (p *prices) catalog(tenant string) *pricing.Catalog {
	if p.watcher == nil {
		return p.base
	}
	return p.watcher.Catalog(tenant)
}

// start finds the store and the API, loads the lists and starts the
// refresh and the sync.
func (p *prices) start(host component.Host) error {
	if p.cfg.Store == nil {
		return nil
	}
	s, err := store.FromHost(host, *p.cfg.Store)
	if err != nil {
		return fmt.Errorf("cost processor: prices.store: %w", err)
	}
	if p.cfg.API != nil {
		if p.exchange, err = pricebook.FromHost(host, *p.cfg.API); err != nil {
			return fmt.Errorf("cost processor: prices.api: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.watcher = pricebook.NewWatcher(p.base, s, p.logger)
	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	p.watcher.Start(lctx, p.cfg.Refresh)
	lcancel()
	if p.exchange != nil {
		p.exchange.Publish(p.watcher)
	}
	if sc := p.cfg.OpenRouterSync; sc.Enabled {
		client := &http.Client{Timeout: sc.Timeout}
		fetch := func(ctx context.Context) (pricebook.Fetched, error) {
			got, err := openrouter.FetchModelPrices(ctx, client, sc.Endpoint)
			for _, sk := range got.Skipped {
				p.logger.Debug("OpenRouter model left unpriced", zap.String("model", sk.Model), zap.String("reason", sk.Reason))
			}
			return pricebook.Fetched{Entries: got.Entries, Skipped: len(got.Skipped)}, err
		}
		p.done.Add(1)
		go func() {
			defer p.done.Done()
			p.syncLoop(ctx, s, fetch, sc)
		}()
	}
	return nil
}

// syncLoop syncs now and then every interval; a failed run is recorded
// (its health shows on /providers) and the last good prices stay.
func (p *prices) syncLoop(ctx context.Context, s store.Store, fetch func(context.Context) (pricebook.Fetched, error), sc OpenRouterSyncConfig) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, sc.Timeout+10*time.Second)
		run, err := pricebook.Sync(rctx, s, pricebook.SourceOpenRouter, fetch, time.Now())
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			p.logger.Warn("OpenRouter price sync failed; the last good prices stay", zap.Error(err))
		case err == nil:
			p.logger.Info("OpenRouter prices synced", zap.Int("models", run.Models), zap.Int("changed", run.Changed),
				zap.Int("skipped", run.Skipped))
			if run.Changed > 0 {
				if err := p.watcher.Refresh(ctx); err != nil {
					p.logger.Warn("price lists not read again after the sync", zap.Error(err))
				}
			}
		}
		t.Reset(sc.Interval)
	}
}

// shutdown stops the refresh and the sync.
func (p *prices) shutdown() {
	if p.stop == nil {
		return
	}
	p.stop()
	p.done.Wait()
	p.watcher.Shutdown()
	if p.exchange != nil {
		p.exchange.Withdraw(p.watcher)
	}
}

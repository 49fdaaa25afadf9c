package apiusagereceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/provider"
	"github.com/nexus-otel/nexus/internal/providerclient"
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

// pollerSpec is one provider to poll.
type pollerSpec struct {
	name      string
	pc        ProviderConfig
	newPoller func(hc *http.Client, baseURL string) providerclient.Poller
}

func (r *apiUsageReceiver) specs() []pollerSpec {
	c := r.cfg
	var out []pollerSpec
	if c.OpenAI.enabled() {
		out = append(out, pollerSpec{provider.OpenAI, c.OpenAI.ProviderConfig, func(hc *http.Client, base string) providerclient.Poller {
			return providerclient.NewOpenAI(providerclient.OpenAIConfig{BaseURL: base, AdminKey: string(c.OpenAI.AdminKey),
				APIKey: string(c.OpenAI.APIKey), BucketWidth: c.OpenAI.BucketWidth, UsageTypes: c.OpenAI.UsageTypes}, hc)
		}})
	}
	if c.OpenRouter.enabled() {
		out = append(out, pollerSpec{provider.OpenRouter, c.OpenRouter.ProviderConfig, func(hc *http.Client, base string) providerclient.Poller {
			return providerclient.NewOpenRouter(providerclient.OpenRouterConfig{BaseURL: base, APIKey: string(c.OpenRouter.APIKey),
				ManagementKey: string(c.OpenRouter.ManagementKey)}, hc)
		}})
	}
	if c.Exa.enabled() {
		out = append(out, pollerSpec{provider.Exa, c.Exa.ProviderConfig, func(hc *http.Client, base string) providerclient.Poller {
			return providerclient.NewExa(providerclient.ExaConfig{BaseURL: base, AdminBaseURL: c.Exa.AdminEndpoint,
				APIKey: string(c.Exa.APIKey), ServiceKey: string(c.Exa.ServiceKey)}, hc)
		}})
	}
	if c.Twilio.enabled() {
		out = append(out, pollerSpec{provider.Twilio, c.Twilio.ProviderConfig, func(hc *http.Client, base string) providerclient.Poller {
			return providerclient.NewTwilio(providerclient.TwilioConfig{BaseURL: base, AccountSID: c.Twilio.AccountSID,
				AuthToken: string(c.Twilio.AuthToken), APIKeySID: c.Twilio.APIKeySID, APIKeySecret: string(c.Twilio.APIKeySecret)}, hc)
		}})
	}
	if c.Apollo.enabled() {
		out = append(out, pollerSpec{provider.Apollo, c.Apollo.ProviderConfig, func(hc *http.Client, base string) providerclient.Poller {
			return providerclient.NewApollo(providerclient.ApolloConfig{BaseURL: base, APIKey: string(c.Apollo.APIKey)}, hc)
		}})
	}
	return out
}

func (r *apiUsageReceiver) Start(ctx context.Context, host component.Host) error {
	specs := r.specs()
	if len(specs) == 0 {
		r.set.Logger.Info("no provider credentials configured; nothing to poll")
		return nil
	}
	for _, sp := range specs {
		hc, err := sp.pc.ToClient(ctx, host.GetExtensions(), r.set.TelemetrySettings)
		if err != nil {
			return fmt.Errorf("%s: http client: %w", sp.name, err)
		}
		s := &pollScraper{
			poller: sp.newPoller(hc, sp.pc.Endpoint), logger: r.set.Logger, lookback: r.cfg.Lookback,
			overlap: r.cfg.Overlap, authRetry: r.cfg.AuthRetryInterval, now: time.Now, stop: r.stop,
		}
		sc, err := scraper.NewMetrics(s.scrape)
		if err != nil {
			return err
		}
		ctrlCfg := r.cfg.ControllerConfig
		if sp.pc.CollectionInterval > 0 {
			ctrlCfg.CollectionInterval = sp.pc.CollectionInterval
		}
		ctrl, err := scraperhelper.NewMetricsController(&ctrlCfg, r.set, r.next,
			scraperhelper.AddMetricsScraper(component.MustNewType(sp.name), sc))
		if err != nil {
			return fmt.Errorf("%s: %w", sp.name, err)
		}
		if err := ctrl.Start(ctx, host); err != nil {
			return fmt.Errorf("%s: %w", sp.name, err)
		}
		r.controllers = append(r.controllers, ctrl)
		r.set.Logger.Info("polling provider", zap.String("provider", sp.name), zap.Duration("interval", ctrlCfg.CollectionInterval))
	}
	return nil
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

package apiproxyreceiver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/store"
)

type apiProxyReceiver struct {
	cfg       *Config
	set       receiver.Settings
	proxy     *proxy
	emitter   *emitter
	transport *http.Transport

	server   *http.Server
	listener net.Listener
	served   chan struct{}
	stopped  bool
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Traces) (*apiProxyReceiver, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID: set.ID, Transport: "http", ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, fmt.Errorf("create receiver telemetry: %w", err)
	}
	meter := set.MeterProvider.Meter(scopeName)
	rejected, err := meter.Int64Counter("nexus.apiproxy.rejected",
		metric.WithDescription("Calls the proxy answered itself without reaching the provider, by provider and reason"),
		metric.WithUnit("{call}"))
	if err != nil {
		return nil, fmt.Errorf("create rejected counter: %w", err)
	}
	dropped, err := meter.Int64Counter("nexus.apiproxy.spans.dropped",
		metric.WithDescription("Spans of proxied calls dropped because the pipeline fell queue_size calls behind"),
		metric.WithUnit("{span}"))
	if err != nil {
		return nil, fmt.Errorf("create dropped counter: %w", err)
	}

	e := &emitter{
		next: next, obs: obs, logger: set.Logger, version: set.BuildInfo.Version,
		maxParsed: int(cfg.MaxParsedBodySize),
		queue:     make(chan *call, cfg.QueueSize),
		stop:      make(chan struct{}), done: make(chan struct{}),
		dropped: dropped,
	}
	p := &proxy{
		serviceName: cfg.ServiceName, serviceHeader: cfg.ServiceNameHeader, whoHeaders: newWhoHeaders(cfg.AttributionHeaders),
		maxBody: cfg.MaxRequestBodySize, maxParsed: int(cfg.MaxParsedBodySize),
		logger: set.Logger, emit: e.enqueue, rejected: rejected,
	}
	for _, r := range cfg.routes() {
		rt, err := newRoute(r.name, r.rc, &cfg.Upstream, set.Logger)
		if err != nil {
			return nil, err
		}
		p.routes = append(p.routes, rt)
	}
	transport := newTransport(&cfg.Upstream)
	errorLog, err := zap.NewStdLogAt(set.Logger.Named("reverseproxy"), zap.DebugLevel)
	if err != nil {
		return nil, fmt.Errorf("create proxy error log: %w", err)
	}
	p.newReverseProxy(transport, errorLog)
	return &apiProxyReceiver{cfg: cfg, set: set, proxy: p, emitter: e, transport: transport}, nil
}

func (r *apiProxyReceiver) Start(ctx context.Context, host component.Host) error {
	auth, err := r.cfg.resolveAuth(ctx, host)
	if err != nil {
		return err
	}
	r.proxy.auth = auth
	if r.cfg.Budgets.Enforce {
		s, err := store.FromHost(host, r.cfg.Budgets.Store)
		if err != nil {
			return fmt.Errorf("budgets.enforce needs the store %s: %w", r.cfg.Budgets.Store, err)
		}
		enf, err := newEnforcer(r.cfg.Budgets, s, r.set.Logger.Named("budgets"))
		if err != nil {
			return err
		}
		if id := r.cfg.Budgets.LiveFeed; id != nil {
			if enf.feed, err = livefeed.FromHost(host, *id); err != nil {
				return fmt.Errorf("budgets.live_feed: %w", err)
			}
		}
		enf.start(ctx)
		r.proxy.enforcer, r.emitter.enforcer = enf, enf
	}
	var tlsConfig *tls.Config
	if tc := r.cfg.TLS.Get(); tc != nil {
		if tlsConfig, err = tc.LoadTLSConfig(ctx); err != nil {
			return fmt.Errorf("load tls config: %w", err)
		}
	}
	errorLog, err := zap.NewStdLogAt(r.set.Logger.Named("http"), zap.DebugLevel)
	if err != nil {
		return fmt.Errorf("create server error log: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", r.cfg.Endpoint)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", r.cfg.Endpoint, err)
	}
	r.listener = ln
	r.server = &http.Server{
		TLSConfig: tlsConfig,
		Handler:   r.proxy,
		// No read or write timeout: uploads and streamed answers may take
		// minutes. Headers must come quickly, though.
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errorLog,
	}
	r.served = make(chan struct{})
	go r.emitter.run()
	go func() {
		defer close(r.served)
		var err error
		if tlsConfig != nil {
			err = r.server.ServeTLS(ln, "", "")
		} else {
			err = r.server.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(fmt.Errorf("serve: %w", err)))
		}
	}()
	var routes []string
	for _, rt := range r.proxy.routes {
		routes = append(routes, rt.prefix+" → "+rt.base.Redacted())
	}
	r.set.Logger.Info("api proxy listening", zap.String("endpoint", ln.Addr().String()), zap.Strings("routes", routes))
	if host, _, err := net.SplitHostPort(r.cfg.Endpoint); err == nil && !isLoopback(host) {
		r.set.Logger.Warn("api proxy listens beyond loopback (allow_non_loopback is set): anyone who can reach it "+
			"can relay calls to the providers through this host", zap.String("endpoint", ln.Addr().String()))
	}
	return nil
}

// Shutdown stops taking calls, lets the ones in flight end until ctx says
// otherwise, then hands the remaining spans to the pipeline.
func (r *apiProxyReceiver) Shutdown(ctx context.Context) error {
	var errs []error
	if r.server != nil && !r.stopped {
		r.stopped = true
		if err := r.server.Shutdown(ctx); err != nil {
			// Streams still open at the deadline are cut.
			errs = append(errs, r.server.Close())
		}
		<-r.served
		errs = append(errs, r.emitter.shutdown(ctx))
	}
	r.transport.CloseIdleConnections()
	if r.proxy.enforcer != nil {
		r.proxy.enforcer.shutdown(ctx)
	}
	return errors.Join(errs...)
}

// addr is where the proxy listens (tests listen on port 0).
func (r *apiProxyReceiver) addr() string { return r.listener.Addr().String() }

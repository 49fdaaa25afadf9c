package nexusapiextension

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/audit"
	"github.com/nexus-otel/nexus/internal/calllog"
	"github.com/nexus-otel/nexus/internal/console"
	"github.com/nexus-otel/nexus/internal/credentials"
	"github.com/nexus-otel/nexus/internal/insights"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/metrics"
	"github.com/nexus-otel/nexus/internal/pricebook"
	"github.com/nexus-otel/nexus/internal/privacy"
	"github.com/nexus-otel/nexus/internal/providerstatus"
	"github.com/nexus-otel/nexus/internal/sessions"
	"github.com/nexus-otel/nexus/internal/spend"
	"github.com/nexus-otel/nexus/internal/sso"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/tenants"
	"github.com/nexus-otel/nexus/internal/users"
)

// alertReplay is how many recent alert events a reconnecting stream client
// can catch up on.
const alertReplay = 1000

// AdminKeyEnv, when set at first start, becomes the first admin key.
const AdminKeyEnv = "NEXUS_ADMIN_KEY"

type api struct {
	cfg    *Config
	set    extension.Settings
	logger *zap.Logger
	store  store.Store
	host   component.Host // for the provider checks' HTTP clients (authenticators)
	loc    *time.Location
	keys   *apikeys.Store
	// tenants are the installation's tenants (internal/tenants).
	tenants   *tenants.Service
	limiters  *limiters
	authFails *authFailures // failed authentications per client address
	readGate  *readGate     // concurrent store reads of the API
	streams   *streamRegistry
	// refreshStop and refreshDone stop the key refresh (keyrefresh.go).
	refreshStop context.CancelFunc
	refreshDone chan struct{}
	feed        *livefeed.Hub
	// spend answers costs, forecasts and budgets (internal/spend).
	spend *spend.Service
	// insights makes recommendations and trends (internal/insights).
	insights *insights.Service
	// calls lists the stored calls and their statistics (internal/calllog).
	calls *calllog.Service
	// metrics answers /metrics (internal/metrics); privacy exports and
	// deletes a customer's or user's rows (internal/privacy).
	metrics *metrics.Service
	privacy *privacy.Service
	// providers reads and records provider status (internal/providerstatus).
	providers *providerstatus.Service
	// heartbeat is how often an idle stream sends a comment, so that
	// proxies and clients can tell a quiet stream from a dead one.
	heartbeat time.Duration
	// closing ends open streams at shutdown: the server's Shutdown waits
	// for requests to finish, and a stream never would.
	closing   chan struct{}
	closeOnce sync.Once
	mux       *http.ServeMux
	server    *http.Server
	wg        sync.WaitGroup
	// alerts is the alert rules, evaluator and notifications (alerts.go).
	alerts *alerting.Engine
	// leading is the election of the evaluating collector, when
	// alerting.leader_election chooses one (alerts_leader.go).
	leading *alertLeadership
	// registered is every pattern on mux, with its role (openapi.go).
	registered []registeredRoute
	// People (principal.go, auth.go, users.go): who signs in, their
	// sessions, single sign-on and its flows in progress, the audit
	// trail, and tenants' provider credentials.
	users       *users.Store
	sessions    *sessions.Store
	sso         *sso.Provider
	oidcFlows   pendingFlows
	audit       *audit.Log
	credentials *credentials.Store
	// console is the dashboard in the browser, served beside /api/.
	console *console.Console
	// Prices (prices.go): the cost processor's catalogs when it hands
	// them over, else the extension's own over the built-in catalog.
	priceExchange pricebook.Exchange
	ownPricesOnce sync.Once
	ownPrices     *pricebook.Watcher
}

func newAPI(cfg *Config, set extension.Settings) *api {
	return &api{cfg: cfg, set: set, logger: set.Logger, mux: http.NewServeMux(),
		feed: livefeed.NewHub(alertReplay), heartbeat: 15 * time.Second, closing: make(chan struct{}),
		limiters: newLimiters(cfg.RateLimit), authFails: newAuthFailures(cfg.RateLimit.FailedAuth), readGate: newReadGate(cfg.Reads),
		streams: newStreamRegistry(cfg.Stream)}
}

// Dependencies makes the collector start the store before the API, however
// service.extensions lists them.
var _ extensioncapabilities.Dependent = (*api)(nil)

func (a *api) Dependencies() []component.ID { return []component.ID{a.cfg.Store} }

// Feed is the live feed the stream serves; the cost processor publishes
// priced calls to it (its live_feed setting) and the alert evaluator its
// events.
func (a *api) Feed() *livefeed.Hub { return a.feed }

func (a *api) Start(ctx context.Context, host component.Host) error {
	s, err := store.FromHost(host, a.cfg.Store)
	if err != nil {
		return fmt.Errorf("nexusapi: %w", err)
	}
	a.store, a.host = s, host
	if a.loc, err = time.LoadLocation(a.cfg.TimeZone); err != nil {
		return fmt.Errorf("nexusapi: time_zone: %w", err)
	}
	a.keys = apikeys.NewStore(s, nil)
	if err := a.keys.Load(ctx); err != nil {
		return fmt.Errorf("nexusapi: %w", err)
	}
	if err := a.bootstrapKey(ctx); err != nil {
		return fmt.Errorf("nexusapi: %w", err)
	}
	if err := a.startPeople(ctx, s); err != nil {
		return fmt.Errorf("nexusapi: %w", err)
	}
	a.tenants = tenants.New(s, a.keys)
	a.spend = spend.New(s, a.loc, a.cfg.RequestTimeout)
	a.calls = calllog.New(s)
	a.metrics = metrics.New(s)
	a.privacy = privacy.New(s)
	a.providers = providerstatus.New(s, a.loc, a.cfg.Providers.Redact, a.cfg.Providers.Configured)
	a.insights = insights.New(s, &a.cfg.Insights, a.cfg.Providers.Configured)
	if err := a.spend.CheckBudgets(ctx); err != nil {
		return fmt.Errorf("nexusapi: %w", err)
	}
	if a.console, err = console.New(a.hasSession); err != nil {
		return fmt.Errorf("nexusapi: console: %w", err)
	}
	a.routes()

	ln, err := a.cfg.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("nexusapi: listen on %s: %w", a.cfg.NetAddr.Endpoint, err)
	}
	srv, err := a.cfg.ToServer(ctx, host.GetExtensions(), a.set.TelemetrySettings, withRequestID(a.mux))
	if err != nil {
		ln.Close()
		return fmt.Errorf("nexusapi: %w", err)
	}
	// --- alerting (alerts.go): last, so nothing after it can fail and
	// leave the evaluator running ---
	if err := a.startAlerting(ctx, host); err != nil {
		ln.Close()
		return fmt.Errorf("nexusapi: %w", err)
	}
	// --- end alerting ---
	a.startKeyRefresh()
	a.startBudgetAudit() // budgetaudit.go: stops on a.closing, waited for by a.wg
	a.server = srv
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	a.logger.Info("Nexus API listening", zap.String("endpoint", ln.Addr().String()))
	return nil
}

func (a *api) Shutdown(ctx context.Context) error {
	a.closeOnce.Do(func() { close(a.closing) })
	a.stopKeyRefresh()
	if a.insights != nil {
		a.insights.Close()
	}
	// --- alerting (alerts.go) ---
	alertErr := a.stopAlerting(ctx)
	// --- end alerting ---
	if a.server == nil {
		return alertErr
	}
	err := a.server.Shutdown(ctx)
	a.wg.Wait()
	return errors.Join(err, alertErr)
}

func (a *api) routes() {
	a.public("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeData(w, http.StatusOK, map[string]string{"status": "ok"}, nil)
	})
	a.public("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.store.Ping(ctx); err != nil {
			writeError(w, r, &APIError{Status: http.StatusServiceUnavailable, Code: "STORE_UNAVAILABLE", Message: "store not reachable"})
			return
		}
		writeData(w, http.StatusOK, map[string]string{"status": "ready"}, nil)
	})
	a.route("GET /api/v1/keys", roleAdmin, a.listKeys)
	a.route("POST /api/v1/keys", roleAdmin, a.createKey)
	a.route("DELETE /api/v1/keys/{id}", roleAdmin, a.deleteKey)
	a.tenantRoutes()
	a.ingestKeyRoutes()
	a.authRoutes()
	a.userRoutes()
	a.auditRoutes()
	a.credentialRoutes()
	a.priceRoutes()
	// A key like the rest of /api/ (README, openapi.json's info); not a
	// store read, so outside the read budget like a write.
	a.handle("GET /api/v1/openapi.json", roleViewer, routeWrite, a.serveOpenAPI)
	a.resourceRoutes()
	// The console's pages and assets (internal/console): shells whose
	// data comes from the routes above with the browser's session.
	for _, pattern := range a.console.Patterns() {
		a.mux.Handle(pattern, a.console)
	}
	// Anything else under the API is a documented 404, not the mux's text.
	a.route("/api/", roleViewer, func(_ http.ResponseWriter, r *http.Request) *APIError {
		return notFound("no such resource: " + r.Method + " " + r.URL.Path)
	})
}

package nexusapiextension

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"

	providerconfig "github.com/nexus-otel/nexus/internal/providers"
)

// providerTestTimeout bounds a manual key check: a caller is waiting on the
// answer, and a provider that has not answered in 10 s is reported as a
// timeout rather than left hanging.
const providerTestTimeout = 10 * time.Second

func (a *api) providerRoutes() {
	a.route("GET /api/v1/providers", roleViewer, a.listProviders)
	a.route("POST /api/v1/providers/{name}/test", roleEditor, a.testProvider)
}

func (a *api) listProviders(w http.ResponseWriter, r *http.Request) *APIError {
	out, err := a.providers.List(r.Context(), tenantOf(r.Context()), time.Now())
	if err != nil {
		return a.storeError(r, "read provider status", err)
	}
	writeData(w, http.StatusOK, out, nil)
	return nil
}

// testProvider runs the provider's key check now with the configured
// credentials, and records it as the receiver records its checks.
func (a *api) testProvider(w http.ResponseWriter, r *http.Request) *APIError {
	name, tenant := r.PathValue("name"), tenantOf(r.Context())
	// The tenant's own credentials, when it stored some, are the ones
	// checked; else the config's.
	blocks, stored, err := a.tenantProviders(r, tenant, name)
	if err != nil {
		return a.credentialsError(r, "read provider credentials", err)
	}
	if err := a.providers.CheckTestableWith(name, stored); err != nil {
		return a.domainError(r, "test provider", err)
	}
	// The client is built as the receiver builds it: the collector's host
	// (authenticators) and telemetry are the extension's to give.
	spec, err := blocks.Poller(r.Context(), a.host, a.set.TelemetrySettings, name)
	if err != nil {
		a.logger.Error("cannot build the provider client for a key check", zap.String("request_id", requestID(r)),
			zap.String("provider", name), zap.Error(err))
		return internal()
	}
	// Built for this one call: its idle connections would otherwise linger.
	defer spec.HTTP.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(r.Context(), providerTestTimeout)
	defer cancel()
	checkedAt := time.Now().UTC().Truncate(time.Millisecond)
	ch := spec.Poller.Check(ctx)

	// The caller may hang up once the check is done; the record must
	// still be written, or the history would miss a check that ran.
	res, err := a.providers.Record(context.WithoutCancel(r.Context()), tenant, name, checkedAt, ch)
	if err != nil {
		return a.storeError(r, "record provider check", err)
	}
	a.logger.Info("provider key checked on request", zap.String("request_id", requestID(r)), zap.String("provider", name),
		zap.Bool("up", res.Up), zap.String("class", res.Class), zap.String("api_key_id", keyIDOf(r)))
	writeData(w, http.StatusOK, res, nil)
	return nil
}

// tenantProviders are the provider blocks a key check of tenant uses: the
// config's, with the tenant's stored credentials for name in place when it
// has some (stored true).
func (a *api) tenantProviders(r *http.Request, tenant, name string) (providerconfig.Providers, bool, error) {
	if a.credentials == nil || !a.credentials.Available() {
		return a.cfg.Providers, false, nil
	}
	all, err := a.credentials.All(r.Context())
	if err != nil && all == nil {
		return a.cfg.Providers, false, err
	}
	for _, c := range all {
		if c.Tenant == tenant && c.Provider == name {
			p, err := a.cfg.Providers.WithCredentials(name, c.Values)
			return p, err == nil, err
		}
	}
	return a.cfg.Providers, false, nil
}

package nexusapiextension

import (
	"context"
	"errors"
	"net/http"

	"go.opentelemetry.io/collector/component"

	"github.com/nexus-otel/nexus/internal/alerting"
)

// The alert engine lives in internal/alerting; this file starts and stops
// it with the extension and maps its errors to answers. The handlers are
// alerts_rules.go and alerts_events.go.

func (a *api) alertRoutes() {
	a.route("GET /api/v1/alerts/rules", roleViewer, a.listRules)
	a.route("POST /api/v1/alerts/rules", roleEditor, a.createRule)
	a.route("GET /api/v1/alerts/rules/{id}", roleViewer, a.getRule)
	a.route("PUT /api/v1/alerts/rules/{id}", roleEditor, a.replaceRule)
	a.route("PATCH /api/v1/alerts/rules/{id}", roleEditor, a.patchRule)
	a.route("DELETE /api/v1/alerts/rules/{id}", roleEditor, a.deleteRule)
	a.route("GET /api/v1/alerts/events", roleViewer, a.listEvents)
	a.route("GET /api/v1/alerts/events/{id}", roleViewer, a.getEvent)
	a.route("POST /api/v1/alerts/events/{id}/ack", roleEditor, a.ackEvent)
}

// startAlerting builds the alert engine over the store and starts it.
// It runs last in Start, so that nothing after it can fail and leave the
// evaluator running.
func (a *api) startAlerting(ctx context.Context, host component.Host) error {
	cfg := a.cfg.Alerting.Config
	// Under an election this engine only serves and streams; the leader
	// evaluates through an engine of its own (alerts_leader.go).
	cfg.Evaluate = a.evaluatesAlone()
	en, err := alerting.New(alerting.Settings{Config: cfg, Store: a.store, Logger: a.logger,
		Telemetry: a.set.TelemetrySettings, Host: host, Feed: a.feed, Spend: spendReader{a.spend},
		Redact: a.cfg.Providers.Redact})
	if err != nil {
		return err
	}
	if err := en.Start(ctx); err != nil {
		return err
	}
	if a.elects() {
		if err := a.startElection(); err != nil {
			_ = en.Shutdown(ctx)
			return err
		}
	}
	a.alerts = en
	return nil
}

// stopAlerting stops the engine, giving queued notifications until ctx
// ends; a leader first stops its term and gives up the Lease.
func (a *api) stopAlerting(ctx context.Context) error {
	a.stopElection()
	if a.alerts == nil {
		return nil
	}
	return a.alerts.Shutdown(ctx)
}

// alertError is the answer to an error of the alert engine: its domain
// errors as the client's mistakes, anything else as the store's failure
// while doing what.
func (a *api) alertError(r *http.Request, what string, err error) *APIError {
	var invalid *alerting.ValidationError
	switch {
	case errors.As(err, &invalid):
		details := make([]FieldError, len(invalid.Fields))
		for i, f := range invalid.Fields {
			details[i] = FieldError{Field: f.Field, Message: f.Message}
		}
		return badRequest(invalid.Message, details...)
	case errors.Is(err, alerting.ErrNotFound):
		return notFound(err.Error())
	case errors.Is(err, alerting.ErrConflict):
		return conflict(err.Error())
	}
	return a.storeError(r, what, err)
}

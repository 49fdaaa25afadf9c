package nexusapiextension

import (
	"net/http"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/alerting"
)

// eventsDefaultSpan is the range GET /alerts/events reads without from/to.
const eventsDefaultSpan = 30 * 24 * time.Hour

// parseEventQuery reads the events' filters and page; every bad field is
// named, in the order of the query's documentation.
func (a *api) parseEventQuery(r *http.Request) (alerting.EventQuery, page, *APIError) {
	var details []FieldError
	f, ferr := a.parseFilters(r, eventsDefaultSpan)
	if ferr != nil {
		details = append(details, ferr.Details...)
	}
	pg, perr := parsePage(r)
	if perr != nil {
		details = append(details, perr.Details...)
	}
	// Events are scoped by their rule's columns only: an attribution filter
	// would be ignored, so it is refused.
	if derr := refuseDims(f, "alert events are filtered by provider, model, operation, service and environment",
		"team", "feature", "customer", "user", "tag"); derr != nil {
		details = append(details, derr.Details...)
	}
	q := r.URL.Query()
	eq := alerting.EventQuery{Tenant: f.Tenant, From: f.From, To: f.To, Scope: alerting.Scope{Provider: f.Provider, Model: f.Model,
		Operation: f.Operation, Service: f.Service, Environment: f.Environment},
		RuleID: q.Get("rule"), Kind: q.Get("kind"), Severity: q.Get("severity"), Limit: pg.Limit, Offset: pg.offset()}
	if v := q.Get("state"); v != "" {
		eq.States = strings.Split(v, ",")
	}
	for _, d := range eq.Check() {
		details = append(details, FieldError{Field: d.Field, Message: d.Message})
	}
	switch q.Get("acked") {
	case "":
	case "true", "false":
		acked := q.Get("acked") == "true"
		eq.Acked = &acked
	default:
		details = append(details, FieldError{Field: "acked", Message: "must be true or false"})
	}
	if details != nil {
		return eq, pg, badRequest("invalid filters", details...)
	}
	return eq, pg, nil
}

func (a *api) listEvents(w http.ResponseWriter, r *http.Request) *APIError {
	q, pg, apiErr := a.parseEventQuery(r)
	if apiErr != nil {
		return apiErr
	}
	out, total, err := a.alerts.ListEvents(r.Context(), q)
	if err != nil {
		return a.alertError(r, "list alert events", err)
	}
	writeData(w, http.StatusOK, out, pg.of(total))
	return nil
}

func (a *api) getEvent(w http.ResponseWriter, r *http.Request) *APIError {
	e, err := a.alerts.Event(r.Context(), tenantOf(r.Context()), r.PathValue("id"))
	if err != nil {
		return a.alertError(r, "read alert event", err)
	}
	writeData(w, http.StatusOK, e, nil)
	return nil
}

// ackEvent acknowledges a firing event in the name of the request's key.
func (a *api) ackEvent(w http.ResponseWriter, r *http.Request) *APIError {
	by := keyIDOf(r)
	if k, ok := a.keys.Get(by); ok {
		by = k.Name + " (" + k.ID + ")"
	} else if p := principalOf(r.Context()); p.ActorType == "user" {
		// A signed-in person is named by their email.
		if u, ok := a.users.Get(p.UserID); ok {
			by = u.Email
		}
	}
	e, err := a.alerts.Acknowledge(r.Context(), tenantOf(r.Context()), r.PathValue("id"), by)
	if err != nil {
		return a.alertError(r, "acknowledge alert event", err)
	}
	writeData(w, http.StatusOK, e, nil)
	return nil
}

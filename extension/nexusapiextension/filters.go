package nexusapiextension

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/schema"
)

// filters are the scope and time range every read resource accepts, and
// the tenant they read: the caller's, never a parameter.
type filters struct {
	Tenant                                           string
	Provider, Model, Operation, Service, Environment string
	From, To                                         time.Time
}

// scopeFields are the filterable columns, in the order they are applied.
var scopeFields = schema.ScopeFields

// filter is f as the domain packages take it.
func (f filters) filter() schema.Filter {
	return schema.Filter{Scope: schema.Scope{Tenant: f.Tenant, Provider: f.Provider, Model: f.Model, Operation: f.Operation,
		Service: f.Service, Environment: f.Environment}, From: f.From, To: f.To}
}

func (f *filters) field(name string) *string {
	switch name {
	case "provider":
		return &f.Provider
	case "model":
		return &f.Model
	case "operation":
		return &f.Operation
	case "service":
		return &f.Service
	case "environment":
		return &f.Environment
	}
	return nil
}

// parseScope reads the scope filters (no time range) of r, for the
// caller's tenant.
func parseScope(r *http.Request) (filters, []FieldError) {
	q := r.URL.Query()
	f := filters{Tenant: tenantOf(r.Context())}
	var details []FieldError
	for _, name := range scopeFields {
		v := q.Get(name)
		if len(v) > 200 || strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 }) {
			details = append(details, FieldError{Field: name, Message: "at most 200 printable characters"})
			continue
		}
		*f.field(name) = v
	}
	return f, details
}

// parseFilters reads the scope filters and from/to (RFC 3339). A missing
// range is the last defaultSpan up to now. Every bad field is named.
func (a *api) parseFilters(r *http.Request, defaultSpan time.Duration) (filters, *APIError) {
	q := r.URL.Query()
	f, details := parseScope(r)
	now := time.Now().UTC()
	f.To = now
	if v := q.Get("to"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			details = append(details, FieldError{Field: "to", Message: "must be an RFC 3339 time, e.g. 2026-11-26T00:00:00Z"})
		} else {
			f.To = t.UTC()
		}
	}
	f.From = f.To.Add(-defaultSpan)
	if v := q.Get("from"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			details = append(details, FieldError{Field: "from", Message: "must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z"})
		} else {
			f.From = t.UTC()
		}
	}
	if details == nil {
		switch {
		case !f.To.After(f.From):
			details = append(details, FieldError{Field: "to", Message: "must be after from"})
		case f.To.Sub(f.From) > a.cfg.MaxRange:
			details = append(details, FieldError{Field: "from", Message: fmt.Sprintf("range longer than the %s data is kept", a.cfg.MaxRange)})
		}
	}
	if details != nil {
		return f, badRequest("invalid filters", details...)
	}
	return f, nil
}

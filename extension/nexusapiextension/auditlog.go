package nexusapiextension

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/nexus-otel/nexus/internal/audit"
	"github.com/nexus-otel/nexus/internal/domainerr"
)

// /api/v1/audit: the trail of a tenant for its admins; an installation
// admin reads every tenant's, or one (tenant=…), and the installation's
// own events (tenant=installation).

const installationScope = "installation"

// auditPage is a page of entries, newest first; NextCursor ("" on the
// last page) continues it.
type auditPage struct {
	Entries    []audit.Entry `json:"entries"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

func (a *api) auditRoutes() {
	a.route("GET /api/v1/audit", roleAdmin, a.listAudit)
	a.route("GET /api/v1/audit/export", roleAdmin, a.exportAudit)
	a.route("GET /api/v1/audit/verify", roleAdmin, a.verifyAudit)
}

// auditTenant is whose trail the caller reads: their tenant's, or for an
// installation admin every tenant's (all), the one named, or the
// installation's own ("").
func auditTenant(r *http.Request) (tenant string, all bool) {
	if !keyOf(r.Context()).InstallationAdmin {
		return tenantOf(r.Context()), false
	}
	switch t := r.URL.Query().Get("tenant"); t {
	case "":
		return "", true
	case installationScope:
		return "", false
	default:
		return t, false
	}
}

// auditFilter reads the query's filters, confined to what the caller may
// read.
func auditFilter(r *http.Request) (audit.Filter, *APIError) {
	q := r.URL.Query()
	f := audit.Filter{ActorID: q.Get("actor"), Action: q.Get("action"),
		ResourceType: q.Get("resourceType"), ResourceID: q.Get("resourceId"), Cursor: q.Get("cursor")}
	f.Tenant, f.TenantAll = auditTenant(r)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, badRequest("invalid query", FieldError{Field: p.name, Message: "must be an RFC 3339 time"})
			}
			*p.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return f, badRequest("invalid query", FieldError{Field: "limit", Message: "must be a whole number"})
		}
		f.Limit = n
	}
	return f, nil
}

func (a *api) listAudit(w http.ResponseWriter, r *http.Request) *APIError {
	f, apiErr := auditFilter(r)
	if apiErr != nil {
		return apiErr
	}
	entries, next, err := a.audit.List(r.Context(), f)
	if err != nil {
		return a.domainError(r, "read the audit trail", err)
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	writeData(w, http.StatusOK, auditPage{Entries: entries, NextCursor: next}, nil)
	return nil
}

// exportAudit streams every matching entry as NDJSON, oldest first.
func (a *api) exportAudit(w http.ResponseWriter, r *http.Request) *APIError {
	f, apiErr := auditFilter(r)
	if apiErr != nil {
		return apiErr
	}
	if f.Cursor != "" {
		return badRequest("invalid query", FieldError{Field: "cursor", Message: "an export has no pages"})
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="nexus-audit.ndjson"`)
	if _, err := a.audit.Export(r.Context(), f, w); err != nil {
		var inv *domainerr.InvalidError
		if errors.As(err, &inv) {
			return a.domainError(r, "export the audit trail", err)
		}
		// Lines may already be out: the cut shows as a truncated body.
		a.logger.Warn("audit export cut short: " + err.Error())
	}
	return nil
}

// verifyAudit checks the hash chain of the caller's tenant (an
// installation admin: of every tenant, or the one named).
func (a *api) verifyAudit(w http.ResponseWriter, r *http.Request) *APIError {
	// Only the tenant choice applies: a chain is verified whole.
	var f audit.Filter
	f.Tenant, f.TenantAll = auditTenant(r)
	out := []audit.Verification{}
	if f.TenantAll {
		vs, err := a.audit.VerifyAll(r.Context())
		if err != nil {
			return a.storeError(r, "verify the audit trail", err)
		}
		out = append(out, vs...)
	} else {
		v, err := a.audit.Verify(r.Context(), f.Tenant)
		if err != nil {
			return a.storeError(r, "verify the audit trail", err)
		}
		out = []audit.Verification{v}
	}
	writeData(w, http.StatusOK, out, nil)
	return nil
}

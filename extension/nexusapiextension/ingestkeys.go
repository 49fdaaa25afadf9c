package nexusapiextension

import (
	"net/http"

	"github.com/nexus-otel/nexus/internal/ingestkeys"
)

// Ingest keys are what apps show to write calls into the caller's tenant
// (OTLP through the nexusingestauth authenticator, the apiproxy receiver
// through X-Nexus-Ingest-Key). Managing them is an admin's business, and
// always within the caller's own tenant: another tenant's key is not found.

type createIngestKeyRequest struct {
	Name string `json:"name"`
}

// ingestKey is a key as the API shows it; createdIngestKey adds the
// secret, in the one answer that has it.
type (
	ingestKey        = ingestkeys.Key
	createdIngestKey struct {
		ingestKey
		Secret string `json:"key"`
	}
)

// ingestKeyRoutes registers the ingest key routes; the service is made
// here, after Start has found the store.
func (a *api) ingestKeyRoutes() {
	keys := ingestkeys.New(a.store)
	a.route("GET /api/v1/ingest-keys", roleAdmin, func(w http.ResponseWriter, r *http.Request) *APIError {
		page, apiErr := parsePage(r)
		if apiErr != nil {
			return apiErr
		}
		out, err := keys.List(r.Context(), tenantOf(r.Context()))
		if err != nil {
			return a.domainError(r, "list ingest keys", err)
		}
		if out == nil {
			out = []ingestKey{}
		}
		writeData(w, http.StatusOK, paginate(out, page), page.of(int64(len(out))))
		return nil
	})
	a.route("POST /api/v1/ingest-keys", roleAdmin, func(w http.ResponseWriter, r *http.Request) *APIError {
		var req createIngestKeyRequest
		if apiErr := decodeBody(r, a.cfg.MaxBodyBytes, &req); apiErr != nil {
			return apiErr
		}
		secret, k, err := keys.Create(r.Context(), tenantOf(r.Context()), req.Name)
		if err != nil {
			return a.domainError(r, "create ingest key", err)
		}
		noteAudit(r, "ingest-keys", k.ID, nil, k)
		// The secret is in this answer and nowhere else, ever.
		writeData(w, http.StatusCreated, createdIngestKey{k, secret}, nil)
		return nil
	})
	a.route("DELETE /api/v1/ingest-keys/{id}", roleAdmin, func(w http.ResponseWriter, r *http.Request) *APIError {
		tenant, id := tenantOf(r.Context()), r.PathValue("id")
		if err := keys.Revoke(r.Context(), tenant, id); err != nil {
			return a.domainError(r, "revoke ingest key", err)
		}
		// Collectors stop taking the key at their next refresh. The
		// answer is the key as now stored, read back like any list.
		all, err := keys.List(r.Context(), tenant)
		if err != nil {
			return a.domainError(r, "read the revoked ingest key", err)
		}
		for _, k := range all {
			if k.ID == id {
				writeData(w, http.StatusOK, k, nil)
				return nil
			}
		}
		return notFound("no ingest key " + id)
	})
}

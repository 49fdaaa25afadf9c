package nexusapiextension

import (
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/nexus-otel/nexus/internal/credentials"
)

// A tenant's own provider credentials: written, never read back. The
// answer is a fingerprint (which secret is set, not the secret) and who
// set it when; the key check and usage pollers use them within their
// refresh (receiver/apiusagereceiver), without a restart.

func (a *api) credentialRoutes() {
	a.route("GET /api/v1/providers/{name}/credentials", roleViewer, a.getCredentials)
	a.route("PUT /api/v1/providers/{name}/credentials", roleAdmin, a.putCredentials)
	a.route("DELETE /api/v1/providers/{name}/credentials", roleAdmin, a.deleteCredentials)
	a.route("POST /api/v1/credentials/rotate", roleAdmin, a.installationAdmin(a.rotateCredentials))
}

// credentialsError answers a credentials store's refusal; no key-encryption
// key is 503 (the operator's to fix, not the caller's).
func (a *api) credentialsError(r *http.Request, what string, err error) *APIError {
	if errors.Is(err, credentials.ErrNoKEK) {
		return unavailable("CREDENTIALS_UNAVAILABLE", err.Error())
	}
	return a.domainError(r, what, err)
}

func (a *api) getCredentials(w http.ResponseWriter, r *http.Request) *APIError {
	info, ok, err := a.credentials.Info(r.Context(), tenantOf(r.Context()), r.PathValue("name"))
	if err != nil {
		return a.credentialsError(r, "read provider credentials", err)
	}
	if !ok {
		return notFound("no credentials stored for " + r.PathValue("name") + " in this tenant")
	}
	writeData(w, http.StatusOK, info, nil)
	return nil
}

func (a *api) putCredentials(w http.ResponseWriter, r *http.Request) *APIError {
	var body map[string]any
	if apiErr := decodeBody(r, 64<<10, &body); apiErr != nil {
		return apiErr
	}
	values := make(map[string]string, len(body))
	var bad []FieldError
	for _, name := range slices.Sorted(maps.Keys(body)) {
		s, ok := body[name].(string)
		if !ok {
			bad = append(bad, FieldError{Field: name, Message: "must be a string"})
			continue
		}
		values[name] = s
	}
	if bad != nil {
		return badRequest("invalid credentials", bad...)
	}
	tenant, name := tenantOf(r.Context()), r.PathValue("name")
	before, had, err := a.credentials.Info(r.Context(), tenant, name)
	if err != nil && !errors.Is(err, credentials.ErrNoKEK) {
		return a.credentialsError(r, "read provider credentials", err)
	}
	info, err := a.credentials.Set(r.Context(), tenant, name, values, principalOf(r.Context()).ActorID)
	if err != nil {
		return a.credentialsError(r, "store provider credentials", err)
	}
	var prev any
	if had {
		prev = before
	}
	// The audit trail gets the fingerprints, never the values.
	noteAudit(r, "providers.credentials", name, prev, info)
	writeData(w, http.StatusOK, info, nil)
	return nil
}

func (a *api) deleteCredentials(w http.ResponseWriter, r *http.Request) *APIError {
	tenant, name := tenantOf(r.Context()), r.PathValue("name")
	if err := a.credentials.Delete(r.Context(), tenant, name, principalOf(r.Context()).ActorID); err != nil {
		return a.credentialsError(r, "delete provider credentials", err)
	}
	noteAudit(r, "providers.credentials", name, nil, map[string]string{"deleted": name})
	writeData(w, http.StatusOK, map[string]string{"deleted": name}, nil)
	return nil
}

// rotateCredentials re-seals every tenant's credentials under the current
// key-encryption key (the collector also does at start when old keys are
// configured): after it, the old key can go.
func (a *api) rotateCredentials(w http.ResponseWriter, r *http.Request) *APIError {
	n, err := a.credentials.Rotate(r.Context())
	if err != nil {
		return a.credentialsError(r, "re-seal provider credentials", err)
	}
	auditAs(r, "credentials.rotate")
	noteAudit(r, "credentials", "", nil, map[string]int{"resealed": n})
	writeData(w, http.StatusOK, map[string]int{"resealed": n}, nil)
	return nil
}

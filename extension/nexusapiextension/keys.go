package nexusapiextension

import (
	"net/http"
	"time"

	"github.com/nexus-otel/nexus/internal/apikeys"
)

// apiKey is a key as the API shows it.
type apiKey = apikeys.Key

// createKeyRequest is a new key. Tenant and InstallationAdmin are for
// installation admins: anyone else's keys are made in their own tenant.
type createKeyRequest struct {
	Name              string `json:"name"`
	Role              string `json:"role"`
	Tenant            string `json:"tenant"`
	InstallationAdmin bool   `json:"installationAdmin"`
	// ServiceAccount makes a key no person owns (admins only); otherwise
	// the key is the caller's person's, and dies with their account.
	ServiceAccount bool       `json:"serviceAccount"`
	ExpiresAt      *time.Time `json:"expiresAt"`
}

// validate names each bad field of a key request (apikeys.Validate).
func (req createKeyRequest) validate() []FieldError {
	var details []FieldError
	for _, f := range apikeys.Validate(req.Name, req.Role) {
		details = append(details, FieldError{Field: f.Field, Message: f.Message})
	}
	return details
}

// listKeys lists the keys of the caller's tenant only.
func (a *api) listKeys(w http.ResponseWriter, r *http.Request) *APIError {
	out := a.keys.List(tenantOf(r.Context()))
	page, apiErr := parsePage(r)
	if apiErr != nil {
		return apiErr
	}
	writeData(w, http.StatusOK, paginate(out, page), page.of(int64(len(out))))
	return nil
}

// createKey makes a key in the caller's tenant with at most the caller's
// role; an installation admin may name another existing tenant and make
// another installation admin.
func (a *api) createKey(w http.ResponseWriter, r *http.Request) *APIError {
	var req createKeyRequest
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if details := req.validate(); details != nil {
		return badRequest("invalid key", details...)
	}
	caller := keyOf(r.Context())
	own := tenantOf(r.Context())
	if req.Tenant == "" {
		req.Tenant = own
	}
	switch {
	case apikeys.Rank(req.Role) > apikeys.Rank(caller.Role):
		return forbidden("a key may only create keys of its own role (" + caller.Role + ") or below")
	case !caller.InstallationAdmin && req.InstallationAdmin:
		return forbidden("only an installation admin key may create installation admin keys")
	case !caller.InstallationAdmin && req.Tenant != own:
		return forbidden("only an installation admin key may create keys of another tenant")
	case req.InstallationAdmin && req.Role != roleAdmin:
		return badRequest("invalid key", FieldError{Field: "installationAdmin", Message: "an installation admin key must have the admin role"})
	case req.ExpiresAt != nil && !req.ExpiresAt.After(time.Now()):
		return badRequest("invalid key", FieldError{Field: "expiresAt", Message: "must be in the future"})
	}
	owner := principalOf(r.Context()).UserID
	if req.ServiceAccount || owner == "" {
		// A service account's key: only an admin makes one (a key of a
		// service account making another is one).
		if caller.Role != roleAdmin {
			return forbidden("only an admin makes a service account's key")
		}
		owner = ""
	}
	if req.Tenant != own {
		ok, err := a.tenants.Exists(r.Context(), req.Tenant)
		if err != nil {
			return a.storeError(r, "read tenant", err)
		}
		if !ok {
			return badRequest("invalid key", FieldError{Field: "tenant", Message: "no such tenant"})
		}
	}
	k, secret, err := a.keys.Create(r.Context(), apikeys.NewKey{Name: req.Name, Role: req.Role, Tenant: req.Tenant,
		InstallationAdmin: req.InstallationAdmin, OwnerUser: owner, ExpiresAt: req.ExpiresAt}, "")
	if err != nil {
		return a.domainError(r, "create key", err)
	}
	noteAudit(r, "keys", k.ID, nil, k)
	// The secret is in this answer and nowhere else, ever.
	writeData(w, http.StatusCreated, struct {
		apiKey
		Key string `json:"key"`
	}{k, secret}, nil)
	return nil
}

// deleteKey revokes a key of the caller's tenant; another tenant's key is
// as missing as one that never existed.
func (a *api) deleteKey(w http.ResponseWriter, r *http.Request) *APIError {
	k, err := a.keys.Revoke(r.Context(), tenantOf(r.Context()), r.PathValue("id"), keyIDOf(r))
	if err != nil {
		return a.domainError(r, "revoke key", err)
	}
	// Its streams here end now; other collectors see the revocation at
	// their next refresh.
	a.keysChanged()
	noteAudit(r, "keys", k.ID, nil, k)
	writeData(w, http.StatusOK, k, nil)
	return nil
}

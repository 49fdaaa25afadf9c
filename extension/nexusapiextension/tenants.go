package nexusapiextension

import "net/http"

// Tenants live in internal/tenants; these are their routes, for
// installation admin keys only: a tenant's own admin manages its keys and
// resources, never the list of tenants.
func (a *api) tenantRoutes() {
	a.route("GET /api/v1/tenants", roleAdmin, a.installationAdmin(a.listTenants))
	a.route("POST /api/v1/tenants", roleAdmin, a.installationAdmin(a.createTenant))
	a.route("GET /api/v1/tenants/{id}", roleAdmin, a.installationAdmin(a.getTenant))
	a.route("PATCH /api/v1/tenants/{id}", roleAdmin, a.installationAdmin(a.updateTenant))
	a.route("DELETE /api/v1/tenants/{id}", roleAdmin, a.installationAdmin(a.deleteTenant))
}

// installationAdmin refuses h to keys that do not administer the
// installation, before it reads anything.
func (a *api) installationAdmin(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) *APIError {
		if !keyOf(r.Context()).InstallationAdmin {
			return forbidden("only an installation admin key may manage tenants")
		}
		return h(w, r)
	}
}

type tenantRequest struct {
	ID   *string `json:"id"`
	Name *string `json:"name"`
}

func (a *api) listTenants(w http.ResponseWriter, r *http.Request) *APIError {
	pg, apiErr := parsePage(r)
	if apiErr != nil {
		return apiErr
	}
	all, err := a.tenants.List(r.Context())
	if err != nil {
		return a.storeError(r, "list tenants", err)
	}
	writeData(w, http.StatusOK, paginate(all, pg), pg.of(int64(len(all))))
	return nil
}

func (a *api) getTenant(w http.ResponseWriter, r *http.Request) *APIError {
	t, err := a.tenants.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return a.domainError(r, "read tenant", err)
	}
	writeData(w, http.StatusOK, t, nil)
	return nil
}

func (a *api) createTenant(w http.ResponseWriter, r *http.Request) *APIError {
	var req tenantRequest
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	t, err := a.tenants.Create(r.Context(), textOf(req.ID), textOf(req.Name))
	if err != nil {
		return a.domainError(r, "create tenant", err)
	}
	writeData(w, http.StatusCreated, t, nil)
	return nil
}

func (a *api) updateTenant(w http.ResponseWriter, r *http.Request) *APIError {
	var req tenantRequest
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.ID != nil && *req.ID != r.PathValue("id") {
		return badRequest("invalid tenant", FieldError{Field: "id", Message: "a tenant's id cannot change"})
	}
	t, err := a.tenants.Update(r.Context(), r.PathValue("id"), textOf(req.Name))
	if err != nil {
		return a.domainError(r, "update tenant", err)
	}
	writeData(w, http.StatusOK, t, nil)
	return nil
}

// deleteTenant deletes a tenant and revokes its keys; its open streams
// here end now, other collectors' at their next key refresh.
func (a *api) deleteTenant(w http.ResponseWriter, r *http.Request) *APIError {
	t, err := a.tenants.Delete(r.Context(), r.PathValue("id"))
	if err != nil {
		return a.domainError(r, "delete tenant", err)
	}
	a.keysChanged()
	writeData(w, http.StatusOK, t, nil)
	return nil
}

// textOf is s, "" when it was not sent.
func textOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

package nexusapiextension

import (
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/nexus-otel/nexus/internal/users"
)

// /api/v1/users: people. An installation admin manages everyone; a
// tenant's admin sees and manages the people of its tenant, and gives
// roles in it only; anyone reads and edits themself (name, password,
// preferences), never their own roles.

type userView struct {
	ID                string            `json:"id"`
	Email             string            `json:"email"`
	Name              string            `json:"name"`
	InstallationAdmin bool              `json:"installationAdmin"`
	Roles             map[string]string `json:"roles"`
	Preferences       users.Preferences `json:"preferences"`
	Active            bool              `json:"active"`
	HasPassword       bool              `json:"hasPassword"`
	SSO               bool              `json:"sso"`
	CreatedAt         time.Time         `json:"createdAt"`
	UpdatedAt         time.Time         `json:"updatedAt"`
}

func viewOf(u users.User) userView {
	roles := u.Roles
	if roles == nil {
		roles = map[string]string{}
	}
	return userView{ID: u.ID, Email: u.Email, Name: u.Name, InstallationAdmin: u.InstallationAdmin, Roles: roles,
		Preferences: u.Preferences, Active: u.Active, HasPassword: u.HasPassword, SSO: u.SSOSubject != "",
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type createUserRequest struct {
	Email             string            `json:"email"`
	Name              string            `json:"name"`
	Password          string            `json:"password"`
	InstallationAdmin bool              `json:"installationAdmin"`
	Roles             map[string]string `json:"roles"`
	Preferences       users.Preferences `json:"preferences"`
}

type updateUserRequest struct {
	Name              *string            `json:"name"`
	Password          *string            `json:"password"`
	CurrentPassword   *string            `json:"currentPassword"`
	InstallationAdmin *bool              `json:"installationAdmin"`
	Roles             map[string]string  `json:"roles"`
	Preferences       *users.Preferences `json:"preferences"`
}

func (a *api) userRoutes() {
	a.route("GET /api/v1/users", roleAdmin, a.listUsers)
	a.route("POST /api/v1/users", roleAdmin, a.createUser)
	a.route("GET /api/v1/users/me", roleViewer, a.getMe)
	a.route("GET /api/v1/users/{id}", roleViewer, a.getUser)
	a.route("PATCH /api/v1/users/{id}", roleViewer, a.updateUser)
	a.route("POST /api/v1/users/{id}/deactivate", roleAdmin, a.deactivateUser)
}

// manages tells whether the caller may manage u: an installation admin
// anyone, a tenant admin the people with a role in its tenant (not
// installation admins).
func manages(k apiKey, u users.User) bool {
	if k.InstallationAdmin {
		return true
	}
	_, in := u.Roles[tenantOfKey(k)]
	return k.Role == roleAdmin && in && !u.InstallationAdmin
}

// visibleUser is user id as the caller may see it: themself, or someone
// they manage; anyone else does not exist for them.
func (a *api) visibleUser(r *http.Request, id string) (users.User, *APIError) {
	u, ok := a.users.Get(id)
	if !ok || (principalOf(r.Context()).UserID != id && !manages(keyOf(r.Context()), u)) {
		return users.User{}, notFound("no user " + id)
	}
	return u, nil
}

func (a *api) listUsers(w http.ResponseWriter, r *http.Request) *APIError {
	k := keyOf(r.Context())
	tenant := tenantOfKey(k)
	if k.InstallationAdmin {
		tenant = r.URL.Query().Get("tenant")
	}
	out := []userView{}
	for _, u := range a.users.List(tenant) {
		if manages(k, u) {
			out = append(out, viewOf(u))
		}
	}
	writeData(w, http.StatusOK, out, nil)
	return nil
}

func (a *api) createUser(w http.ResponseWriter, r *http.Request) *APIError {
	var req createUserRequest
	if apiErr := decodeBody(r, a.cfg.MaxBodyBytes, &req); apiErr != nil {
		return apiErr
	}
	k := keyOf(r.Context())
	if apiErr := a.checkRoleGrant(r, k, req.Roles, req.InstallationAdmin); apiErr != nil {
		return apiErr
	}
	u, err := a.users.Create(r.Context(), users.NewUser{Email: req.Email, Name: req.Name, Password: req.Password,
		InstallationAdmin: req.InstallationAdmin, Roles: req.Roles, Preferences: req.Preferences})
	if err != nil {
		return a.domainError(r, "create a user", err)
	}
	noteAudit(r, "users", u.ID, nil, viewOf(u))
	writeData(w, http.StatusCreated, viewOf(u), nil)
	return nil
}

// checkRoleGrant refuses roles the caller may not give: a tenant admin
// gives roles in its own tenant only, and never installation admin.
func (a *api) checkRoleGrant(r *http.Request, k apiKey, roles map[string]string, installationAdmin bool) *APIError {
	if k.InstallationAdmin {
		for t := range roles {
			ok, err := a.tenants.Exists(r.Context(), t)
			if err != nil {
				return a.storeError(r, "read tenant", err)
			}
			if !ok {
				return badRequest("invalid roles", FieldError{Field: "roles." + t, Message: "no such tenant"})
			}
		}
		return nil
	}
	if installationAdmin {
		return forbidden("only an installation admin makes installation admins")
	}
	for t := range roles {
		if t != tenantOfKey(k) {
			return forbidden("you give roles in your tenant (" + tenantOfKey(k) + ") only")
		}
	}
	return nil
}

func (a *api) getMe(w http.ResponseWriter, r *http.Request) *APIError {
	id := principalOf(r.Context()).UserID
	u, ok := a.users.Get(id)
	if id == "" || !ok {
		return notFound("no user behind this request: it was made with a service account's key")
	}
	writeData(w, http.StatusOK, viewOf(u), nil)
	return nil
}

func (a *api) getUser(w http.ResponseWriter, r *http.Request) *APIError {
	u, apiErr := a.visibleUser(r, r.PathValue("id"))
	if apiErr != nil {
		return apiErr
	}
	writeData(w, http.StatusOK, viewOf(u), nil)
	return nil
}

func (a *api) updateUser(w http.ResponseWriter, r *http.Request) *APIError {
	u, apiErr := a.visibleUser(r, r.PathValue("id"))
	if apiErr != nil {
		return apiErr
	}
	var req updateUserRequest
	if apiErr := decodeBody(r, a.cfg.MaxBodyBytes, &req); apiErr != nil {
		return apiErr
	}
	k := keyOf(r.Context())
	self := principalOf(r.Context()).UserID == u.ID
	if req.Roles != nil || req.InstallationAdmin != nil {
		if !manages(k, u) || (self && !k.InstallationAdmin) {
			return forbidden("you may not change this user's roles")
		}
		roles := req.Roles
		if roles != nil && !k.InstallationAdmin {
			// A tenant admin sets the role in its own tenant; the others stay.
			merged := maps.Clone(u.Roles)
			if merged == nil {
				merged = map[string]string{}
			}
			if apiErr := a.checkRoleGrant(r, k, roles, false); apiErr != nil {
				return apiErr
			}
			maps.Copy(merged, roles)
			for t, role := range merged {
				if role == "" {
					delete(merged, t)
				}
			}
			req.Roles = merged
		} else if apiErr := a.checkRoleGrant(r, k, roles, req.InstallationAdmin != nil && *req.InstallationAdmin); apiErr != nil {
			return apiErr
		}
	}
	if req.Password != nil && self && !k.InstallationAdmin {
		// Changing one's own password proves the old one: a session left
		// open on a shared machine does not hand over the account.
		if req.CurrentPassword == nil {
			return badRequest("invalid user", FieldError{Field: "currentPassword", Message: "required to change your password"})
		}
		if _, err := a.users.Authenticate(r.Context(), u.Email, *req.CurrentPassword); err != nil {
			var locked *users.LockedError
			if errors.As(err, &locked) {
				return tooMany("too many failed sign-ins; try again later")
			}
			return badRequest("invalid user", FieldError{Field: "currentPassword", Message: "wrong password"})
		}
	}
	before, after, err := a.users.Update(r.Context(), u.ID, users.Update{Name: req.Name, Password: req.Password,
		InstallationAdmin: req.InstallationAdmin, Roles: req.Roles, Preferences: req.Preferences})
	if err != nil {
		return a.domainError(r, "update a user", err)
	}
	if req.Password != nil {
		// A new password ends the sessions the old one opened.
		if _, err := a.sessions.RevokeUser(r.Context(), u.ID); err != nil {
			return a.storeError(r, "end the sessions of the old password", err)
		}
	}
	noteAudit(r, "users", u.ID, viewOf(before), viewOf(after))
	writeData(w, http.StatusOK, viewOf(after), nil)
	return nil
}

func (a *api) deactivateUser(w http.ResponseWriter, r *http.Request) *APIError {
	u, apiErr := a.visibleUser(r, r.PathValue("id"))
	if apiErr != nil {
		return apiErr
	}
	if !manages(keyOf(r.Context()), u) {
		return notFound("no user " + u.ID)
	}
	after, err := a.users.Deactivate(r.Context(), u.ID)
	if err != nil {
		return a.domainError(r, "deactivate a user", err)
	}
	// Their sessions end now; their keys stop at the next request
	// (authenticateKey checks the owner).
	if _, err := a.sessions.RevokeUser(r.Context(), u.ID); err != nil {
		return a.storeError(r, "end a deactivated user's sessions", err)
	}
	noteAudit(r, "users", u.ID, viewOf(u), viewOf(after))
	writeData(w, http.StatusOK, viewOf(after), nil)
	return nil
}

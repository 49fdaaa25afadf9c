package nexusapiextension

import (
	"errors"
	"net/http"
	"time"

	"github.com/nexus-otel/nexus/internal/sessions"
	"github.com/nexus-otel/nexus/internal/users"
)

// Browser sign-in: a password or single sign-on opens a session held
// server-side; the browser keeps only its random id in an HttpOnly,
// SameSite=Strict cookie, and every write it makes carries the session's
// CSRF token (X-CSRF-Token), which only a page of this origin can read
// (from the sign-in answer or GET /api/v1/auth/session).

type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// sessionView is what a signed-in browser learns about its session.
type sessionView struct {
	User      userView  `json:"user"`
	Tenant    string    `json:"tenant"`
	Role      string    `json:"role"`
	CSRFToken string    `json:"csrfToken"`
	ExpiresAt time.Time `json:"expiresAt"`
	Via       string    `json:"via"`
}

func (a *api) authRoutes() {
	a.public("POST /api/v1/auth/sign-in", a.signIn)
	a.route("POST /api/v1/auth/sign-out", roleViewer, a.signOut)
	a.route("POST /api/v1/auth/sign-out-everywhere", roleViewer, a.signOutEverywhere)
	a.route("GET /api/v1/auth/session", roleViewer, a.currentSession)
	a.route("GET /api/v1/auth/sessions", roleViewer, a.listSessions)
	a.route("DELETE /api/v1/auth/sessions/{id}", roleViewer, a.revokeSession)
	a.oidcRoutes()
}

// signIn checks an email and password. Unknown email, wrong password and
// deactivated user get the same answer; repeated failures lock the email
// out (unknown ones too) and count against the address.
func (a *api) signIn(w http.ResponseWriter, r *http.Request) {
	addr := clientAddr(r)
	if wait, blocked := a.authFails.blocked(addr, time.Now()); blocked {
		setRetryAfter(w, wait)
		writeError(w, r, tooMany("too many failed authentications from this address"))
		return
	}
	var req signInRequest
	if apiErr := decodeBody(r, 16<<10, &req); apiErr != nil {
		writeError(w, r, apiErr)
		return
	}
	var missing []FieldError
	for _, f := range []struct{ name, v string }{{"email", req.Email}, {"password", req.Password}} {
		if f.v == "" {
			missing = append(missing, FieldError{Field: f.name, Message: "required"})
		}
	}
	if missing != nil {
		writeError(w, r, badRequest("invalid sign-in", missing...))
		return
	}
	u, err := a.users.Authenticate(r.Context(), req.Email, req.Password)
	anon := principal{ActorType: "anonymous", Via: "password"}
	var locked *users.LockedError
	switch {
	case errors.As(err, &locked):
		a.authFails.failed(addr, time.Now())
		a.auditEvent(r, anon, "", "auth.locked_out", "denied", "sign-in refused: email locked out")
		setRetryAfter(w, time.Until(locked.Until))
		writeError(w, r, tooMany("too many failed sign-ins; try again later"))
		return
	case errors.Is(err, users.ErrBadCredentials):
		a.authFails.failed(addr, time.Now())
		a.auditEvent(r, anon, "", "auth.sign_in_failed", "failure", "wrong email or password")
		writeError(w, r, unauthorized("wrong email or password"))
		return
	case err != nil:
		writeError(w, r, a.storeError(r, "sign in", err))
		return
	}
	a.openSession(w, r, u, "password", "")
}

// openSession starts a session for u and answers with it, or, for a
// browser coming back from its identity provider, sends it to redirect.
func (a *api) openSession(w http.ResponseWriter, r *http.Request, u users.User, via, redirect string) {
	secret, s, err := a.sessions.Create(r.Context(), u.ID, via, clientAddr(r), trimmed(r.UserAgent(), 256))
	if err != nil {
		writeError(w, r, a.storeError(r, "open a session", err))
		return
	}
	p := principal{ActorType: "user", ActorID: u.ID, Via: via, UserID: u.ID}
	a.auditEvent(r, p, "", "auth.sign_in", "success", "session "+s.ID)
	a.setSessionCookie(w, secret, s.ExpiresAt)
	if redirect != "" {
		http.Redirect(w, r, redirect, http.StatusSeeOther)
		return
	}
	tenant := sessionTenant(r, u)
	writeData(w, http.StatusOK, sessionView{User: viewOf(u), Tenant: tenant, Role: users.RoleIn(u, tenant),
		CSRFToken: sessions.CSRFToken(secret), ExpiresAt: s.ExpiresAt, Via: via}, nil)
}

// signOut ends the caller's session (a key has none: 400).
func (a *api) signOut(w http.ResponseWriter, r *http.Request) *APIError {
	p := principalOf(r.Context())
	if p.sessionID == "" {
		return badRequest("not signed in with a session", FieldError{Field: "session", Message: "sign-out ends a browser session; revoke keys at /api/v1/keys"})
	}
	if _, err := a.sessions.Revoke(r.Context(), p.sessionID); err != nil {
		return a.domainError(r, "sign out", err)
	}
	auditAs(r, "auth.sign_out")
	noteAudit(r, "auth.sessions", p.sessionID, nil, map[string]string{"signedOut": p.sessionID})
	a.clearSessionCookie(w)
	writeData(w, http.StatusOK, map[string]string{"signedOut": p.sessionID}, nil)
	return nil
}

// signOutEverywhere ends every session of the caller's user.
func (a *api) signOutEverywhere(w http.ResponseWriter, r *http.Request) *APIError {
	p := principalOf(r.Context())
	if p.UserID == "" {
		return badRequest("no user behind this request", FieldError{Field: "user", Message: "a service account's key has no sessions"})
	}
	n, err := a.sessions.RevokeUser(r.Context(), p.UserID)
	if err != nil {
		return a.storeError(r, "sign out everywhere", err)
	}
	auditAs(r, "auth.sign_out_everywhere")
	noteAudit(r, "auth.sessions", p.UserID, nil, map[string]int{"revoked": n})
	a.clearSessionCookie(w)
	writeData(w, http.StatusOK, map[string]int{"revoked": n}, nil)
	return nil
}

func (a *api) currentSession(w http.ResponseWriter, r *http.Request) *APIError {
	p := principalOf(r.Context())
	if p.sessionID == "" {
		return badRequest("not signed in with a session", FieldError{Field: "session", Message: "this request was made with an API key"})
	}
	u, _ := a.users.Get(p.UserID)
	k := keyOf(r.Context())
	var expires time.Time
	for _, s := range a.sessions.List(u.ID) {
		if s.ID == p.sessionID {
			expires = s.ExpiresAt
		}
	}
	writeData(w, http.StatusOK, sessionView{User: viewOf(u), Tenant: tenantOfKey(k), Role: k.Role,
		CSRFToken: sessions.CSRFToken(p.session), ExpiresAt: expires, Via: p.Via}, nil)
	return nil
}

// listSessions is the caller's own open sessions.
func (a *api) listSessions(w http.ResponseWriter, r *http.Request) *APIError {
	p := principalOf(r.Context())
	out := []sessions.Session{}
	if p.UserID != "" {
		out = append(out, a.sessions.List(p.UserID)...)
	}
	writeData(w, http.StatusOK, out, nil)
	return nil
}

// revokeSession ends one of the caller's own sessions.
func (a *api) revokeSession(w http.ResponseWriter, r *http.Request) *APIError {
	p := principalOf(r.Context())
	id := r.PathValue("id")
	owned := false
	for _, s := range a.sessions.List(p.UserID) {
		owned = owned || (p.UserID != "" && s.ID == id)
	}
	if !owned {
		return notFound("no session " + id)
	}
	if _, err := a.sessions.Revoke(r.Context(), id); err != nil {
		return a.domainError(r, "revoke a session", err)
	}
	if id == p.sessionID {
		a.clearSessionCookie(w)
	}
	auditAs(r, "auth.session_revoke")
	noteAudit(r, "auth.sessions", id, nil, map[string]string{"revoked": id})
	writeData(w, http.StatusOK, map[string]string{"revoked": id}, nil)
	return nil
}

func trimmed(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

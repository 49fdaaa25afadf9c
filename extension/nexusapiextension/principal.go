package nexusapiextension

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/sessions"
	"github.com/nexus-otel/nexus/internal/users"
)

// Who made a request: a key (a user's or a service account's) or a
// person signed in from a browser. Either way the request runs as an
// apiKey (its tenant, role and installation rights), so that every route
// confines and authorises the same way; the principal says who, for the
// audit trail and for the routes about the caller themself.
type principal struct {
	// ActorType is "key" or "user"; ActorID the key's or the user's id.
	ActorType, ActorID string
	// Via is how they signed in: "key", "password" or "oidc".
	Via string
	// UserID is the person behind the request: the session's user, or
	// the owner of a user's key ("" for a service account's key).
	UserID string
	// session is the session secret of a cookie-authenticated request
	// (its CSRF token derives from it); never logged or stored.
	session string
	// sessionID is the session's public id.
	sessionID string
}

const (
	ctxPrincipal ctxKey = iota + 100
	ctxAudit
)

// Cookie and header names of browser sessions.
const (
	sessionCookie = "nexus_session"
	csrfHeader    = "X-CSRF-Token"
	// tenantHeader picks, for a signed-in person with roles in several
	// tenants, which one a request is about.
	tenantHeader = "X-Nexus-Tenant"
)

func principalOf(ctx context.Context) principal {
	p, _ := ctx.Value(ctxPrincipal).(principal)
	return p
}

// authenticate finds who made r: the key of its Bearer token, else the
// session of its cookie. A key is refused when revoked, past its expiry,
// or its owner is deactivated; it acts with at most its owner's role.
// A cookie-authenticated write must carry the session's CSRF token.
func (a *api) authenticate(r *http.Request) (apiKey, principal, *authError) {
	if h := r.Header.Get("Authorization"); h != "" {
		return a.authenticateKey(h)
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && a.sessions != nil {
		return a.authenticateSession(r, c.Value)
	}
	return apiKey{}, principal{}, &authError{APIError: unauthorized("missing credentials: send Authorization: Bearer <key>, or sign in")}
}

func (a *api) authenticateKey(h string) (apiKey, principal, *authError) {
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return apiKey{}, principal{}, &authError{APIError: unauthorized("missing API key: send Authorization: Bearer <key>")}
	}
	refused := func(reason string) (apiKey, principal, *authError) {
		return apiKey{}, principal{}, &authError{APIError: unauthorized("invalid or revoked API key"), presented: true, reason: reason}
	}
	k, found := a.keys.Lookup(strings.TrimSpace(token))
	if !found {
		return refused("unknown or revoked key")
	}
	if !k.Live(time.Now()) {
		return refused("key " + k.ID + " expired")
	}
	p := principal{ActorType: "key", ActorID: k.ID, Via: "key", UserID: k.OwnerUser}
	if k.OwnerUser != "" {
		u, ok := a.users.Get(k.OwnerUser)
		if !ok || !u.Active {
			return refused("key " + k.ID + ": owner " + k.OwnerUser + " is deactivated")
		}
		k = capToOwner(k, u)
		if k.Role == "" {
			return refused("key " + k.ID + ": owner " + u.ID + " has no role in tenant " + k.Tenant)
		}
	}
	return k, p, nil
}

// capToOwner lowers k to what its owner may do in k's tenant.
func capToOwner(k apiKey, u users.User) apiKey {
	owner := users.RoleIn(u, tenantOfKey(k))
	if apikeys.Rank(owner) < apikeys.Rank(k.Role) {
		k.Role = owner
	}
	k.InstallationAdmin = k.InstallationAdmin && u.InstallationAdmin
	return k
}

func (a *api) authenticateSession(r *http.Request, secret string) (apiKey, principal, *authError) {
	s, err := a.sessions.Lookup(r.Context(), secret)
	if err != nil {
		reason := "unknown session"
		switch {
		case errors.Is(err, sessions.ErrExpired):
			reason = "session expired"
		case errors.Is(err, sessions.ErrIdle):
			reason = "session idle too long"
		case errors.Is(err, sessions.ErrRevoked):
			reason = "session revoked"
		case !errors.Is(err, sessions.ErrNoSession):
			return apiKey{}, principal{}, &authError{APIError: unavailable("STORE_UNAVAILABLE", "sessions cannot be read now")}
		}
		return apiKey{}, principal{}, &authError{APIError: unauthorized("not signed in, or the session ended: sign in again"), presented: true, reason: reason}
	}
	u, ok := a.users.Get(s.UserID)
	if !ok || !u.Active {
		return apiKey{}, principal{}, &authError{APIError: unauthorized("not signed in, or the session ended: sign in again"), presented: true,
			reason: "session of deactivated user " + s.UserID}
	}
	p := principal{ActorType: "user", ActorID: u.ID, Via: s.Via, UserID: u.ID, session: secret, sessionID: s.ID}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !sessions.CheckCSRF(secret, r.Header.Get(csrfHeader)) {
		return apiKey{}, p, &authError{APIError: &APIError{Status: http.StatusForbidden, Code: "CSRF_FAILED",
			Message: "a signed-in write must send the session's CSRF token in " + csrfHeader}, reason: "CSRF token missing or wrong"}
	}
	tenant := sessionTenant(r, u)
	k := apiKey{ID: "ses_" + s.ID, Name: u.Email, Role: users.RoleIn(u, tenant), Tenant: tenant, InstallationAdmin: u.InstallationAdmin,
		OwnerUser: u.ID}
	if k.Role == "" {
		return apiKey{}, p, &authError{APIError: forbidden("you have no role in tenant " + tenant), reason: "no role in tenant " + tenant}
	}
	if u.InstallationAdmin && tenant != schema.DefaultTenant {
		// Admin everywhere, but only where there is a tenant.
		if ok, err := a.tenants.Exists(r.Context(), tenant); err != nil {
			return apiKey{}, p, &authError{APIError: unavailable("STORE_UNAVAILABLE", "tenants cannot be read now")}
		} else if !ok {
			return apiKey{}, p, &authError{APIError: forbidden("no tenant " + tenant), reason: "no tenant " + tenant}
		}
	}
	return k, p, nil
}

// hasSession tells the console whether r comes with a live session of an
// active person, so that a page can send everyone else to sign in first.
// When the store cannot say, the page is served: its own reads show why.
func (a *api) hasSession(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || a.sessions == nil {
		return false
	}
	_, _, aerr := a.authenticateSession(r, c.Value)
	return aerr == nil || aerr.Status != http.StatusUnauthorized
}

// sessionTenant is the tenant a signed-in person's request is about: the
// X-Nexus-Tenant header (or the stream's tenant parameter), else their default tenant, else the first they
// have a role in (the default tenant for an installation admin).
func sessionTenant(r *http.Request, u users.User) string {
	if t := r.Header.Get(tenantHeader); t != "" {
		return t
	}
	if r.Method == http.MethodGet && r.URL.Path == streamPath {
		// A browser's EventSource sends no headers: the console names the
		// tenant it shows in the stream's query. Reading only, and the
		// role in that tenant is checked as for the header.
		if t := r.URL.Query().Get("tenant"); t != "" {
			return t
		}
	}
	if t := u.Preferences.DefaultTenant; t != "" && users.RoleIn(u, t) != "" {
		return t
	}
	if u.InstallationAdmin || len(u.Roles) == 0 {
		return schema.DefaultTenant
	}
	names := make([]string, 0, len(u.Roles))
	for t := range u.Roles {
		names = append(names, t)
	}
	slices.Sort(names)
	return names[0]
}

// tenantOfKey is k's tenant (keys from before tenants are the default's).
func tenantOfKey(k apiKey) string {
	if k.Tenant == "" {
		return schema.DefaultTenant
	}
	return k.Tenant
}

// setSessionCookie hands the browser its session; clearSessionCookie
// takes it back.
func (a *api) setSessionCookie(w http.ResponseWriter, secret string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", Expires: expires,
		HttpOnly: true, Secure: a.cfg.Sessions.CookieSecure, SameSite: http.SameSiteStrictMode})
}

func (a *api) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.cfg.Sessions.CookieSecure, SameSite: http.SameSiteStrictMode})
}

// adminPasswordPath is where a generated first admin password is written.
func (cfg *Config) adminPasswordPath() string {
	if cfg.SignIn.AdminPasswordFile != "" {
		return cfg.SignIn.AdminPasswordFile
	}
	return filepath.Join(filepath.Dir(cfg.adminKeyPath()), "admin.password")
}

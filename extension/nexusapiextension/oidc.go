package nexusapiextension

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/sso"
	"github.com/nexus-otel/nexus/internal/users"
)

// Single sign-on (OpenID Connect, authorization code with PKCE). The
// login route starts a flow: its state, nonce and PKCE verifier stay here,
// under a random flow id the browser carries in a short-lived HttpOnly
// cookie; the callback finishes it once. A flow is bounded in time (the
// provider's pending expiry) and in number (maxPendingFlows: a flood of
// logins evicts the oldest, never grows memory).

const (
	oidcCookie      = "nexus_oidc"
	maxPendingFlows = 10_000
)

type pendingFlows struct {
	mu    sync.Mutex
	flows map[string]sso.Pending
	order []string
}

func (p *pendingFlows) put(id string, f sso.Pending) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.flows == nil {
		p.flows = map[string]sso.Pending{}
	}
	for len(p.order) >= maxPendingFlows {
		delete(p.flows, p.order[0])
		p.order = p.order[1:]
	}
	p.flows[id] = f
	p.order = append(p.order, id)
}

// take removes and returns flow id (once: a replayed callback finds none).
func (p *pendingFlows) take(id string) (sso.Pending, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.flows[id]
	delete(p.flows, id)
	return f, ok
}

func (a *api) oidcRoutes() {
	a.public("GET /api/v1/auth/oidc/login", a.oidcLogin)
	a.public("GET /api/v1/auth/oidc/callback", a.oidcCallback)
}

// startSSO connects to the identity provider when oidc is configured.
// Discovery failing leaves sign-on unavailable (logged), not the API.
func (a *api) startSSO(ctx context.Context) {
	if !a.cfg.OIDC.Enabled() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := sso.New(ctx, a.cfg.OIDC, nil)
	if err != nil {
		a.logger.Error("single sign-on is unavailable: the identity provider could not be discovered", zap.String("issuer", a.cfg.OIDC.Issuer), zap.Error(err))
		return
	}
	a.sso = p
}

func (a *api) oidcLogin(w http.ResponseWriter, r *http.Request) {
	if a.sso == nil {
		writeError(w, r, notFound("single sign-on is not configured"))
		return
	}
	url, pending, err := a.sso.Begin()
	if err != nil {
		writeError(w, r, a.storeError(r, "start single sign-on", err))
		return
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	a.oidcFlows.put(id, pending)
	// Lax, not Strict: the callback is a navigation from the identity
	// provider's site, which a Strict cookie would not come back with.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: id, Path: "/api/v1/auth/oidc/", Expires: pending.Expires,
		HttpOnly: true, Secure: a.cfg.Sessions.CookieSecure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, url, http.StatusFound)
}

// oidcCallback finishes a flow: every refusal (state, nonce, issuer,
// audience, signature, expiry, no role) is one answer to the browser and
// its reason in the audit trail.
func (a *api) oidcCallback(w http.ResponseWriter, r *http.Request) {
	anon := principal{ActorType: "anonymous", Via: "oidc"}
	refuse := func(reason string) {
		a.auditEvent(r, anon, "", "auth.sign_in_failed", "failure", "single sign-on: "+reason)
		writeError(w, r, unauthorized("single sign-on failed; start again"))
	}
	if a.sso == nil {
		writeError(w, r, notFound("single sign-on is not configured"))
		return
	}
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		refuse("no sign-on flow cookie")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/api/v1/auth/oidc/", MaxAge: -1, HttpOnly: true,
		Secure: a.cfg.Sessions.CookieSecure, SameSite: http.SameSiteLaxMode})
	pending, ok := a.oidcFlows.take(c.Value)
	if !ok {
		refuse("unknown or used sign-on flow")
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		refuse("the identity provider answered " + trimmed(e, 64))
		return
	}
	id, err := a.sso.Finish(r.Context(), pending, q.Get("state"), q.Get("code"))
	if err != nil {
		var se interface{ Reason() string }
		if errors.As(err, &se) {
			refuse(se.Reason())
		} else {
			refuse("refused")
		}
		return
	}
	u, err := a.users.LinkSSO(r.Context(), id.Subject, id.Email, id.Name, id.Roles)
	if errors.Is(err, users.ErrBadCredentials) {
		refuse("user " + id.Email + " is deactivated")
		return
	}
	if err != nil {
		writeError(w, r, a.domainError(r, "sign in through single sign-on", err))
		return
	}
	if id.InstallationAdmin != u.InstallationAdmin {
		admin := id.InstallationAdmin
		if _, u, err = a.users.Update(r.Context(), u.ID, users.Update{InstallationAdmin: &admin}); err != nil {
			writeError(w, r, a.domainError(r, "sign in through single sign-on", err))
			return
		}
	}
	a.openSession(w, r, u, "oidc", "/")
}

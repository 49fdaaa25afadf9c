package nexusapiextension

import (
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/sso"
)

// oidcIdP is a mockoidc provider for the API; forge makes its token
// endpoint answer with tokens signed by a key it does not publish.
type oidcIdP struct {
	*mockoidc.MockOIDC
	forge atomic.Bool
}

func startIdP(t *testing.T) *oidcIdP {
	t.Helper()
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	idp := &oidcIdP{MockOIDC: m}
	// The forger shares the provider's client and sessions, so that it
	// redeems the provider's codes, but signs with a key of its own.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forger, err := mockoidc.NewServer(key)
	if err != nil {
		t.Fatal(err)
	}
	forger.ClientID, forger.ClientSecret, forger.SessionStore = m.ClientID, m.ClientSecret, m.SessionStore
	if err := forger.Start(listen(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = forger.Shutdown() })
	_ = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if idp.forge.Load() && r.URL.Path == mockoidc.TokenEndpoint {
				forger.Token(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	if err := m.Start(listen(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return idp
}

// audienceUser's ID token is for another client: genuinely signed, for
// someone else.
type audienceUser struct{ *mockoidc.MockUser }

func (u audienceUser) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c.Audience = jwt.ClaimStrings{"another-client"}
	return u.MockUser.Claims(scope, c)
}

// oidcBrowser is a browser that keeps cookies and follows no redirect.
func oidcBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// visit GETs u with client and returns the response, its body read.
func visit(t *testing.T, client *http.Client, u string, cookies ...*http.Cookie) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, body
}

func cookieOf(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// startSignOn plays the browser up to the identity provider's redirect
// back: the callback URL with code and state, and the flow cookie.
func startSignOn(t *testing.T, ta *testAPI, idp *oidcIdP, br *http.Client) (string, *http.Cookie) {
	t.Helper()
	resp, body := visit(t, br, ta.base+"/api/v1/auth/oidc/login")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), idp.AuthorizationEndpoint()+"?") {
		t.Fatalf("login: %s to %q: %s", resp.Status, resp.Header.Get("Location"), body)
	}
	flow := cookieOf(resp, oidcCookie)
	if flow == nil || flow.Value == "" || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode || flow.Path != "/api/v1/auth/oidc/" {
		t.Fatalf("login set no HttpOnly, SameSite=Lax flow cookie on the callback's path: %+v", flow)
	}
	resp, body = visit(t, br, resp.Header.Get("Location"))
	back := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(back, ta.base+"/api/v1/auth/oidc/callback?") {
		t.Fatalf("identity provider: %s to %q: %s", resp.Status, back, body)
	}
	q, _ := url.Parse(back)
	if q.Query().Get("code") == "" || q.Query().Get("state") == "" {
		t.Fatalf("callback without code or state: %s", back)
	}
	return back, flow
}

// Sign-on through the API against a real OpenID provider: the session it
// opens, its CSRF token, and every refusal a 401 with its reason in the
// audit trail.
func TestOIDCSignIn(t *testing.T) {
	idp := startIdP(t)
	ta := startAPI(t, freshDB("people_oidc"), func(c *Config) {
		c.OIDC = sso.Config{Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: configopaque.String(idp.ClientSecret),
			RedirectURL: "http://" + c.NetAddr.Endpoint + "/api/v1/auth/oidc/callback",
			Scopes:      []string{"openid", "email", "profile", "groups"},
			Roles:       []sso.RoleMapping{{Claim: "groups", Value: "engineering", Tenant: schema.DefaultTenant, Role: roleEditor}}}
		c.Sessions.CookieSecure = false
	})
	w := &peopleWorld{t: t, ta: ta, root: caller{name: "installation admin key", key: ta.admin}}

	// mockoidc's default user, Jane, is in group engineering.
	br := oidcBrowser(t)
	back, _ := startSignOn(t, ta, idp, br)
	since := time.Now().Add(-2 * time.Second)
	resp, body := visit(t, br, back)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("callback: %s to %q: %s", resp.Status, resp.Header.Get("Location"), body)
	}
	sc := cookieOf(resp, sessionCookie)
	if sc == nil || sc.Value == "" || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("callback set no HttpOnly, SameSite=Strict session cookie: %+v", sc)
	}
	if c := cookieOf(resp, oidcCookie); c == nil || c.MaxAge >= 0 {
		t.Fatalf("the flow cookie outlives its callback: %+v", c)
	}
	jane := caller{name: "jane (oidc)", cookie: sc.Value}
	a := ta.call(jane, "GET", "/api/v1/auth/session", nil)
	if a.status != 200 {
		t.Fatalf("session: %s", a)
	}
	v := dataOf[sessionView](t, a)
	if v.User.Email != "jane.doe@example.com" || !v.User.SSO || v.Role != roleEditor || v.Tenant != schema.DefaultTenant ||
		v.Via != "oidc" || v.CSRFToken == "" {
		t.Fatalf("session after sign-on: %s", a.body)
	}
	if e, ok := w.entryOf("sign-on", resp.Header.Get("X-Request-Id"), since); ok &&
		(e.Action != "auth.sign_in" || e.Outcome != "success" || e.ActorID != v.User.ID || e.Via != "oidc") {
		t.Errorf("sign-on audited as %+v", e)
	}
	budget := map[string]any{"name": "sso team", "period": "monthly", "amountUsd": "100"}
	if a := ta.call(jane, "POST", "/api/v1/budgets", budget); a.status != 403 || a.code() != "CSRF_FAILED" {
		t.Fatalf("write without the CSRF token: %s", a)
	}
	jane.csrf = v.CSRFToken
	a, since = w.sendTraced(jane, "POST", "/api/v1/budgets", budget)
	if a.status != 201 {
		t.Fatalf("write with the CSRF token: %s", a)
	}
	if e, ok := w.entryOf("budget by sign-on", a.requestID, since); ok &&
		(e.ActorType != "user" || e.ActorID != v.User.ID || e.Via != "oidc" || e.Action != "budgets.create") {
		t.Errorf("write audited as %+v", e)
	}

	// Refusals: each one 401, no session, and its reason in the trail.
	refused := func(what string, resp *http.Response, body []byte, since time.Time, reason string) {
		t.Helper()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"UNAUTHORIZED"`) {
			t.Errorf("%s: want 401 UNAUTHORIZED, got %s: %s", what, resp.Status, body)
		}
		if c := cookieOf(resp, sessionCookie); c != nil && c.Value != "" {
			t.Errorf("%s: a session cookie was set", what)
		}
		if strings.Contains(string(body), reason) {
			t.Errorf("%s: the answer tells the browser why (%s): %s", what, reason, body)
		}
		e, ok := w.entryOf(what, resp.Header.Get("X-Request-Id"), since)
		if ok && (e.Action != "auth.sign_in_failed" || e.Outcome != "failure" || e.Tenant != "" || !strings.Contains(e.Detail, reason)) {
			t.Errorf("%s: audited as %s/%s in %q: %q, want auth.sign_in_failed/failure naming %q", what, e.Action, e.Outcome, e.Tenant, e.Detail, reason)
		}
	}
	signOn := func(what, reason string, tamper func(back string) string) {
		t.Helper()
		br := oidcBrowser(t)
		back, _ := startSignOn(t, ta, idp, br)
		since := time.Now().Add(-2 * time.Second)
		resp, body := visit(t, br, tamper(back))
		refused(what, resp, body, since, reason)
	}
	same := func(back string) string { return back }

	signOn("a tampered state", sso.ReasonStateMismatch, func(back string) string {
		u, _ := url.Parse(back)
		q := u.Query()
		q.Set("state", "A"+q.Get("state")[1:])
		if q.Get("state") == u.Query().Get("state") {
			q.Set("state", "B"+q.Get("state")[1:])
		}
		u.RawQuery = q.Encode()
		return u.String()
	})

	// The same callback twice, with its flow cookie both times.
	br = oidcBrowser(t)
	back, flow := startSignOn(t, ta, idp, br)
	if resp, body := visit(t, br, back); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback: %s: %s", resp.Status, body)
	}
	since = time.Now().Add(-2 * time.Second)
	resp, body = visit(t, oidcBrowser(t), back, flow)
	refused("a replayed callback", resp, body, since, "unknown or used sign-on flow")

	// A callback from a browser that did not start the flow.
	back, _ = startSignOn(t, ta, idp, oidcBrowser(t))
	since = time.Now().Add(-2 * time.Second)
	resp, body = visit(t, oidcBrowser(t), back)
	refused("no flow cookie", resp, body, since, "no sign-on flow cookie")

	idp.QueueUser(audienceUser{mockoidc.DefaultUser()})
	signOn("a token for another client", sso.ReasonWrongAudience, same)

	idp.forge.Store(true)
	signOn("a token signed with another key", sso.ReasonBadSignature, same)
	idp.forge.Store(false)

	idp.QueueUser(&mockoidc.MockUser{Subject: "u-mallory", Email: "mallory@example.com", EmailVerified: true, Groups: []string{"marketing"}})
	signOn("groups that map to no role", sso.ReasonNoRole, same)
	if a := ta.call(w.root, "GET", "/api/v1/users", nil); a.status != 200 || strings.Contains(string(a.body), "mallory@example.com") {
		t.Errorf("a refused sign-on made a user: %s", a)
	}

	// After all that, sign-on still works.
	idp.QueueUser(mockoidc.DefaultUser())
	br = oidcBrowser(t)
	back, _ = startSignOn(t, ta, idp, br)
	if resp, body := visit(t, br, back); resp.StatusCode != http.StatusSeeOther || cookieOf(resp, sessionCookie) == nil {
		t.Fatalf("sign-on after the refusals: %s: %s", resp.Status, body)
	}
}

package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"go.opentelemetry.io/collector/config/configopaque"
	"golang.org/x/oauth2"
)

const callback = "http://127.0.0.1/api/v1/auth/oidc/callback"

// startMock starts a mockoidc server after prepare (which may set its
// TTLs, clock, keys or middleware: all must be set before Start).
func startMock(t *testing.T, prepare func(*mockoidc.MockOIDC)) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(m)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// only serves path with h and everything else as mockoidc would.
func only(path string, h http.HandlerFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == path {
				h(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func configFor(m *mockoidc.MockOIDC) Config {
	return Config{
		Issuer:       m.Issuer(),
		ClientID:     m.ClientID,
		ClientSecret: configopaque.String(m.ClientSecret),
		RedirectURL:  callback,
		Scopes:       []string{"openid", "email", "profile", "groups"},
		Roles:        []RoleMapping{{Claim: "groups", Value: "engineering", Tenant: "acme", Role: "viewer"}},
	}
}

func newProvider(t *testing.T, m *mockoidc.MockOIDC, change func(*Config)) *Provider {
	t.Helper()
	cfg := configFor(m)
	if change != nil {
		change(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// browse plays the browser: it follows authURL to the provider and reads
// the code and state from the redirect back to Nexus, without following it.
func browse(t *testing.T, authURL string) (state, code string) {
	t.Helper()
	browser := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize answered %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), callback+"?") {
		t.Fatalf("redirected to %q (%v)", resp.Header.Get("Location"), err)
	}
	return loc.Query().Get("state"), loc.Query().Get("code")
}

// signIn queues user (nil: mockoidc's default, jane.doe@example.com in
// groups engineering and design) and runs Begin and the browser's part.
func signIn(t *testing.T, m *mockoidc.MockOIDC, p *Provider, user mockoidc.User) (Pending, string, string) {
	t.Helper()
	if user != nil {
		m.QueueUser(user)
	}
	authURL, pending, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	state, code := browse(t, authURL)
	return pending, state, code
}

func finish(t *testing.T, p *Provider, pending Pending, state, code string) (Identity, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.Finish(ctx, pending, state, code)
}

// refused checks err is the one refusal every caller sees, with reason
// for the audit trail and nothing in its message.
func refused(t *testing.T, err error, reason string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrSignIn) {
		t.Fatalf("want a sign-in refusal (%s), got %v", reason, err)
	}
	if e.Reason() != reason {
		t.Fatalf("reason %q (%s), want %q", e.Reason(), e.Detail(), reason)
	}
	if err.Error() != "sign-in refused" {
		t.Fatalf("message says more than it should: %q", err.Error())
	}
}

func user(email string, verified bool, groups ...string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "u-" + email, Email: email, EmailVerified: verified, PreferredUsername: "someone", Groups: groups}
}

// tamperedUser's token claims what the test says: mockoidc signs whatever
// claims its User returns, so a claim changed here is a genuine token that
// lies. extra adds (or replaces) top-level claims.
type tamperedUser struct {
	*mockoidc.MockUser
	tamper func(*mockoidc.IDTokenClaims)
	extra  map[string]any
}

func (u tamperedUser) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if u.tamper != nil {
		u.tamper(c)
	}
	base, err := u.MockUser.Claims(scope, c)
	if err != nil || u.extra == nil {
		return base, err
	}
	b, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	var out jwt.MapClaims
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	for k, v := range u.extra {
		out[k] = v
	}
	return out, nil
}

func tampered(tamper func(*mockoidc.IDTokenClaims)) tamperedUser {
	return tamperedUser{MockUser: user("jane@example.com", true, "engineering"), tamper: tamper}
}

func extra(claims map[string]any) tamperedUser {
	return tamperedUser{MockUser: user("jane@example.com", true, "engineering"), extra: claims}
}

// The whole flow: the URL carries state, nonce and an S256 challenge of a
// verifier it never carries; the identity has the mapped roles (the
// highest per tenant, string and array claims), admin, name and groups.
func TestSignIn(t *testing.T) {
	m := startMock(t, nil)
	p := newProvider(t, m, func(c *Config) {
		c.Roles = []RoleMapping{
			{Claim: "groups", Value: "engineering", Tenant: "acme", Role: "viewer"},
			{Claim: "groups", Value: "design", Tenant: "acme", Role: "editor"},
			{Claim: "groups", Value: "engineering", Tenant: "acme", Role: "viewer"},
			{Claim: "groups", Value: "engineering", Tenant: "beta", Role: "admin"},
			{Claim: "groups", Value: "marketing", Tenant: "gamma", Role: "admin"},
			{Claim: "email", Value: "jane.doe@example.com", Tenant: "delta", Role: "viewer"},
			{Claim: "groups", Value: "Engineering", Tenant: "epsilon", Role: "admin"},
		}
		c.AdminClaim = "groups=nexus-admins"
		c.AllowedEmailDomains = []string{"EXAMPLE.com"}
	})
	u := user("jane.doe@example.com", true, "engineering", "design", "nexus-admins")
	m.QueueUser(u)
	before := time.Now()
	authURL, pending, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if pending.Expires.Before(before.Add(PendingTTL)) || pending.Expires.After(time.Now().Add(PendingTTL)) {
		t.Fatalf("pending expires %v, want ten minutes from now", pending.Expires)
	}
	q := mustQuery(t, authURL)
	sum := sha256.Sum256([]byte(pending.Verifier))
	if q.Get("state") != pending.State || q.Get("nonce") != pending.Nonce ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) ||
		q.Get("scope") != "openid email profile groups" || q.Get("redirect_uri") != callback || q.Get("client_id") != m.ClientID {
		t.Fatalf("authorize URL %s", authURL)
	}
	if strings.Contains(authURL, pending.Verifier) || len(pending.State) < 43 || len(pending.Nonce) < 43 || len(pending.Verifier) < 43 {
		t.Fatalf("verifier in the URL or secrets too short: %+v", pending)
	}
	_, other, _ := p.Begin()
	if other.State == pending.State || other.Nonce == pending.Nonce || other.Verifier == pending.Verifier {
		t.Fatal("two sign-ins share a secret")
	}

	state, code := browse(t, authURL)
	id, err := finish(t, p, pending, state, code)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"acme": "editor", "beta": "admin", "delta": "viewer"}
	if id.Subject != m.Issuer()+"|u-jane.doe@example.com" || id.Email != "jane.doe@example.com" || !id.EmailVerified ||
		id.Name != "someone" || !id.InstallationAdmin || strings.Join(id.Groups, ",") != "engineering,design,nexus-admins" ||
		len(id.Roles) != len(want) {
		t.Fatalf("identity %+v", id)
	}
	for tenant, role := range want {
		if id.Roles[tenant] != role {
			t.Fatalf("roles %v, want %v", id.Roles, want)
		}
	}

	// A code is good once: a replayed callback is refused by the provider.
	_, err = finish(t, p, pending, state, code)
	refused(t, err, ReasonExchangeFailed)
}

// Installation admin alone is enough to sign in; neither a tenant role
// nor admin is ErrNoRole.
func TestAdminOnlyAndNoRole(t *testing.T) {
	m := startMock(t, nil)
	p := newProvider(t, m, func(c *Config) { c.AdminClaim = "groups=nexus-admins" })

	pending, state, code := signIn(t, m, p, user("root@example.com", true, "nexus-admins"))
	id, err := finish(t, p, pending, state, code)
	if err != nil || !id.InstallationAdmin || len(id.Roles) != 0 {
		t.Fatalf("admin only: %+v, %v", id, err)
	}

	pending, state, code = signIn(t, m, p, user("intern@example.com", true, "marketing"))
	_, err = finish(t, p, pending, state, code)
	refused(t, err, ReasonNoRole)
	if !errors.Is(err, ErrNoRole) {
		t.Fatalf("not ErrNoRole: %v", err)
	}
	// Without the groups scope the provider sends no groups: no role.
	p = newProvider(t, m, func(c *Config) { c.Scopes = nil })
	pending, state, code = signIn(t, m, p, nil)
	_, err = finish(t, p, pending, state, code)
	refused(t, err, ReasonNoRole)
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// Each check of the callback and of the person refuses alone, and
// each says which in its reason.
func TestRefusals(t *testing.T) {
	m := startMock(t, nil)
	p := newProvider(t, m, nil)
	cases := []struct {
		name   string
		user   mockoidc.User
		change func(pending *Pending, state, code *string)
		reason string
	}{
		{"bad state", nil, func(_ *Pending, s, _ *string) { *s = "x" + *s }, ReasonStateMismatch},
		{"state of another sign-in", nil, func(pd *Pending, _, _ *string) { pd.State = strings.Repeat("A", len(pd.State)) }, ReasonStateMismatch},
		{"no pending at all", nil, func(pd *Pending, s, _ *string) { *pd, *s = Pending{}, "" }, ReasonStateMismatch},
		{"expired pending", nil, func(pd *Pending, _, _ *string) { pd.Expires = time.Now().Add(-time.Second) }, ReasonPendingExpired},
		{"pending without nonce", nil, func(pd *Pending, _, _ *string) { pd.Nonce = "" }, ReasonPendingInvalid},
		{"wrong nonce", nil, func(pd *Pending, _, _ *string) { pd.Nonce = "tampered" + pd.Nonce }, ReasonNonceMismatch},
		{"wrong verifier", nil, func(pd *Pending, _, _ *string) { pd.Verifier = oauth2.GenerateVerifier() }, ReasonExchangeFailed},
		{"unknown code", nil, func(_ *Pending, _, c *string) { *c = "not-a-code" }, ReasonExchangeFailed},
		{"huge code", nil, func(_ *Pending, _, c *string) { *c = strings.Repeat("c", maxCode+1) }, ReasonExchangeFailed},
		{"no email", user("", true, "engineering"), nil, ReasonEmailMissing},
		{"malformed email", user("jane@", true, "engineering"), nil, ReasonEmailMissing},
		{"unverified email", user("jane@example.com", false, "engineering"), nil, ReasonEmailNotVerified},
		{"wrong audience", tampered(func(c *mockoidc.IDTokenClaims) { c.Audience = jwt.ClaimStrings{"another-client"} }), nil, ReasonWrongAudience},
		{"issued to another party", extra(map[string]any{"azp": "another-client"}), nil, ReasonWrongAudience},
		{"wrong issuer in a genuine token", tampered(func(c *mockoidc.IDTokenClaims) { c.Issuer = "https://evil.example/oidc" }), nil, ReasonWrongIssuer},
		{"expired token", tampered(func(c *mockoidc.IDTokenClaims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute)) }), nil, ReasonTokenExpired},
		{"not yet valid", tampered(func(c *mockoidc.IDTokenClaims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) }), nil, ReasonInvalidToken},
		{"no subject", tampered(func(c *mockoidc.IDTokenClaims) { c.Subject = "" }), nil, ReasonInvalidToken},
		{"subject too long", tampered(func(c *mockoidc.IDTokenClaims) { c.Subject = strings.Repeat("s", 256) }), nil, ReasonInvalidToken},
		{"email verified as the string false", extra(map[string]any{"email_verified": "false"}), nil, ReasonEmailNotVerified},
		{"email verified as a number", extra(map[string]any{"email_verified": 1}), nil, ReasonEmailNotVerified},
		{"email not a string", extra(map[string]any{"email": []string{"jane@example.com"}}), nil, ReasonEmailMissing},
		{"groups not strings", extra(map[string]any{"groups": []any{1, true, map[string]any{"engineering": 1}}}), nil, ReasonNoRole},
		{"groups an object", extra(map[string]any{"groups": map[string]any{"engineering": "engineering"}}), nil, ReasonNoRole},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pending, state, code := signIn(t, m, p, tc.user)
			if tc.change != nil {
				tc.change(&pending, &state, &code)
			}
			_, err := finish(t, p, pending, state, code)
			refused(t, err, tc.reason)
		})
	}
}

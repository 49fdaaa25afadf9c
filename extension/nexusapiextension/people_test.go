package nexusapiextension

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/sessions"
)

// browser is a signed-in person: the session cookie and its CSRF token.
type browser struct {
	cookie, csrf string
}

// signIn signs in over HTTP and returns the session, or the refusal.
func (ta *testAPI) signIn(email, password string) (browser, envelope) {
	ta.t.Helper()
	e, resp := ta.send("POST", "/api/v1/auth/sign-in", nil, map[string]string{"email": email, "password": password})
	var b browser
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			b.cookie = c.Value
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || !c.Secure || c.Path != "/" {
				ta.t.Errorf("session cookie without HttpOnly, SameSite=Strict, Secure or path /: %+v", c)
			}
		}
	}
	if e.status == 200 {
		var v sessionView
		e.decode(ta.t, &v)
		b.csrf = v.CSRFToken
		if b.cookie == "" || b.csrf == "" {
			ta.t.Fatalf("sign-in answered without a session: %s", e.Data)
		}
	}
	return b, e
}

// as sends a request as the signed-in person; csrf false leaves the CSRF
// token out.
func (ta *testAPI) as(b browser, method, path string, body any, csrf bool, header ...string) envelope {
	ta.t.Helper()
	h := http.Header{}
	h.Set("Cookie", sessionCookie+"="+b.cookie)
	if csrf {
		h.Set(csrfHeader, b.csrf)
	}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	e, _ := ta.send(method, path, h, body)
	return e
}

// send is ta.do with headers of one's own, answering the response too.
func (ta *testAPI) send(method, path string, h http.Header, body any) (envelope, *http.Response) {
	ta.t.Helper()
	var rd io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, ta.base+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		ta.t.Fatalf("%s %s: HTTP %d, not an envelope: %s", method, path, resp.StatusCode, raw)
	}
	e.status, e.header = resp.StatusCode, resp.Header
	return e, resp
}

// auditActions are the actions of the trail's entries (newest first) of
// the installation ("" tenant) or a tenant, read with the admin key.
func (ta *testAPI) auditActions(tenant string) []string {
	ta.t.Helper()
	e := ta.do("GET", "/api/v1/audit?limit=1000&tenant="+tenant, ta.admin, nil)
	if e.status != 200 {
		ta.t.Fatalf("audit: %d %+v", e.status, e.Error)
	}
	var page struct {
		Entries []struct {
			Action, Outcome, Detail string
		}
	}
	e.decode(ta.t, &page)
	out := make([]string, len(page.Entries))
	for i, en := range page.Entries {
		out[i] = en.Action + ":" + en.Outcome
	}
	return out
}

// A person's life: created by the installation admin with a role in one
// tenant, signs in (wrong passwords and unknown emails answered alike),
// works through a session whose writes need the CSRF token, is locked out
// after repeated failures, signs out, is deactivated; every step is in
// the audit trail.
func TestPasswordSignInAndSessions(t *testing.T) {
	ta := startAPI(t, freshDB("people_signin"), func(c *Config) {
		c.SignIn.MaxFailures, c.SignIn.LockOut = 3, time.Hour
		c.RateLimit.FailedAuth.Max = 1000
	})
	// The bootstrap installation admin signs in with the password from
	// the environment.
	root, e := ta.signIn("admin@localhost", testAdminPassword)
	if e.status != 200 {
		t.Fatalf("bootstrap admin sign-in: %d %+v", e.status, e.Error)
	}
	if e := ta.as(root, "GET", "/api/v1/tenants", nil, false); e.status != 200 {
		t.Fatalf("installation admin's session reads tenants: %d", e.status)
	}

	e = ta.as(root, "POST", "/api/v1/users", map[string]any{"email": "Ana@Example.com", "name": "Ana",
		"password": "a long enough passphrase", "roles": map[string]string{"default": "editor"}}, true)
	if e.status != 201 {
		t.Fatalf("create user: %d %+v", e.status, e.Error)
	}
	var ana userView
	e.decode(t, &ana)
	if ana.Email != "ana@example.com" || ana.Roles["default"] != "editor" || !ana.HasPassword {
		t.Fatalf("user %+v", ana)
	}
	// Refused input names its fields.
	e = ta.as(root, "POST", "/api/v1/users", map[string]any{"email": "not-an-email", "password": "short"}, true)
	if e.status != 400 || len(e.Error.Details) < 2 {
		t.Fatalf("bad user: %d %+v", e.status, e.Error)
	}

	// Wrong password and unknown email: the same answer.
	_, wrong := ta.signIn("ana@example.com", "not her password!!")
	_, unknown := ta.signIn("nobody@example.com", "whatever password")
	if wrong.status != 401 || unknown.status != 401 || wrong.Error.Message != unknown.Error.Message {
		t.Fatalf("wrong password %d %q, unknown user %d %q", wrong.status, wrong.Error.Message, unknown.status, unknown.Error.Message)
	}

	b, e := ta.signIn("ana@example.com", "a long enough passphrase")
	if e.status != 200 {
		t.Fatalf("sign in: %d %+v", e.status, e.Error)
	}
	budget := map[string]any{"name": "team", "period": "monthly", "amountUsd": "100"}
	if e := ta.as(b, "POST", "/api/v1/budgets", budget, false); e.status != 403 || e.Error.Code != "CSRF_FAILED" {
		t.Fatalf("write without CSRF token: %d %+v", e.status, e.Error)
	}
	bad := b
	bad.csrf = strings.Repeat("A", len(b.csrf))
	if e := ta.as(bad, "POST", "/api/v1/budgets", budget, true); e.status != 403 || e.Error.Code != "CSRF_FAILED" {
		t.Fatalf("write with a wrong CSRF token: %d %+v", e.status, e.Error)
	}
	if e := ta.as(b, "POST", "/api/v1/budgets", budget, true); e.status != 201 {
		t.Fatalf("editor's write with the token: %d %+v", e.status, e.Error)
	}
	if e := ta.as(b, "POST", "/api/v1/keys", map[string]string{"name": "k", "role": "viewer"}, true); e.status != 403 {
		t.Fatalf("editor creating a key: %d", e.status)
	}
	// A tenant she has no role in is refused.
	if e := ta.as(b, "GET", "/api/v1/budgets", nil, false, tenantHeader, "acme"); e.status != 403 {
		t.Fatalf("another tenant: %d", e.status)
	}

	// Her own key is hers: at most her role, and it dies with her.
	e = ta.as(b, "POST", "/api/v1/keys", map[string]string{"name": "mine", "role": "viewer"}, true)
	if e.status != 403 {
		t.Fatalf("an editor makes no keys (admin routes): %d", e.status)
	}

	// Lock-out: three failures in a row, then even the right password
	// waits; unknown emails lock the same way.
	for range 3 {
		ta.signIn("ana@example.com", "guess guess guess")
	}
	if _, e := ta.signIn("ana@example.com", "a long enough passphrase"); e.status != 429 || e.header.Get("Retry-After") == "" {
		t.Fatalf("locked out: %d %v", e.status, e.header)
	}
	for range 3 {
		ta.signIn("ghost@example.com", "guess guess guess")
	}
	if _, e := ta.signIn("ghost@example.com", "guess guess guess"); e.status != 429 {
		t.Fatalf("unknown email locked out: %d", e.status)
	}

	// Sign-out ends the session; the cookie no longer works.
	if e := ta.as(b, "POST", "/api/v1/auth/sign-out", nil, true); e.status != 200 {
		t.Fatalf("sign out: %d %+v", e.status, e.Error)
	}
	if e := ta.as(b, "GET", "/api/v1/budgets", nil, false); e.status != 401 {
		t.Fatalf("after sign-out: %d", e.status)
	}

	actions := strings.Join(ta.auditActions(installationScope), " ")
	for _, want := range []string{"auth.sign_in:success", "auth.sign_in_failed:failure", "auth.locked_out:denied", "auth.refused:denied",
		"users.create:success", "users.create:failure"} {
		if !strings.Contains(actions, want) {
			t.Errorf("installation audit lacks %s: %s", want, actions)
		}
	}
	actions = strings.Join(ta.auditActions("default"), " ")
	for _, want := range []string{"budgets.create:success", "auth.denied:denied", "auth.sign_out:success"} {
		if !strings.Contains(actions, want) {
			t.Errorf("default tenant's audit lacks %s: %s", want, actions)
		}
	}
}

// A person's key acts with at most their role and stops with their
// account; an expired key stops at its expiry; deactivation ends every
// session at once.
func TestPersonalKeysAndDeactivation(t *testing.T) {
	ta := startAPI(t, freshDB("people_keys"), nil)
	root, _ := ta.signIn("admin@localhost", testAdminPassword)
	e := ta.as(root, "POST", "/api/v1/users", map[string]any{"email": "bo@example.com", "name": "Bo",
		"password": "another long passphrase", "roles": map[string]string{"default": "admin"}}, true)
	var bo userView
	e.decode(t, &bo)
	b, _ := ta.signIn("bo@example.com", "another long passphrase")
	e = ta.as(b, "POST", "/api/v1/keys", map[string]string{"name": "bo's", "role": "admin"}, true)
	if e.status != 201 {
		t.Fatalf("admin's own key: %d %+v", e.status, e.Error)
	}
	var k struct {
		Key       string `json:"key"`
		OwnerUser string `json:"ownerUser"`
	}
	e.decode(t, &k)
	if k.OwnerUser != bo.ID {
		t.Fatalf("key owner %q, want %q", k.OwnerUser, bo.ID)
	}
	if e := ta.do("GET", "/api/v1/keys", k.Key, nil); e.status != 200 {
		t.Fatalf("bo's key as admin: %d", e.status)
	}
	// Bo is made a viewer: his admin key now reads only.
	if e := ta.as(root, "PATCH", "/api/v1/users/"+bo.ID, map[string]any{"roles": map[string]string{"default": "viewer"}}, true); e.status != 200 {
		t.Fatalf("demote: %d %+v", e.status, e.Error)
	}
	if e := ta.do("GET", "/api/v1/keys", k.Key, nil); e.status != 403 {
		t.Fatalf("demoted owner's admin key on an admin route: %d", e.status)
	}
	if e := ta.do("GET", "/api/v1/budgets", k.Key, nil); e.status != 200 {
		t.Fatalf("demoted owner's key reading: %d", e.status)
	}

	// An expiring service key works until its expiry only.
	e = ta.do("POST", "/api/v1/keys", ta.admin, map[string]any{"name": "short", "role": "viewer", "serviceAccount": true,
		"expiresAt": time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)})
	var short struct {
		Key string `json:"key"`
	}
	e.decode(t, &short)
	if e := ta.do("GET", "/api/v1/budgets", short.Key, nil); e.status != 200 {
		t.Fatalf("fresh expiring key: %d", e.status)
	}
	time.Sleep(1600 * time.Millisecond)
	if e := ta.do("GET", "/api/v1/budgets", short.Key, nil); e.status != 401 {
		t.Fatalf("expired key: %d", e.status)
	}
	if e := ta.do("POST", "/api/v1/keys", ta.admin, map[string]any{"name": "past", "role": "viewer",
		"expiresAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}); e.status != 400 || e.Error.Details[0].Field != "expiresAt" {
		t.Fatalf("expiry in the past: %d %+v", e.status, e.Error)
	}

	// Deactivated: sessions and keys stop.
	if e := ta.as(root, "POST", "/api/v1/users/"+bo.ID+"/deactivate", nil, true); e.status != 200 {
		t.Fatalf("deactivate: %d %+v", e.status, e.Error)
	}
	if e := ta.as(b, "GET", "/api/v1/budgets", nil, false); e.status != 401 {
		t.Fatalf("deactivated user's session: %d", e.status)
	}
	if e := ta.do("GET", "/api/v1/budgets", k.Key, nil); e.status != 401 {
		t.Fatalf("deactivated owner's key: %d", e.status)
	}
	if _, e := ta.signIn("bo@example.com", "another long passphrase"); e.status != 401 {
		t.Fatalf("deactivated user signs in: %d", e.status)
	}
	// The last installation admin cannot be deactivated.
	var me userView
	ta.as(root, "GET", "/api/v1/users/me", nil, false).decode(t, &me)
	if e := ta.as(root, "POST", "/api/v1/users/"+me.ID+"/deactivate", nil, true); e.status != 409 {
		t.Fatalf("last installation admin deactivated: %d", e.status)
	}
}

// Sessions end when revoked from another browser, and everywhere at once.
func TestSessionRevocation(t *testing.T) {
	ta := startAPI(t, freshDB("people_sessions"), nil)
	one, _ := ta.signIn("admin@localhost", testAdminPassword)
	two, _ := ta.signIn("admin@localhost", testAdminPassword)
	var list []struct {
		ID string `json:"id"`
	}
	e := ta.as(one, "GET", "/api/v1/auth/sessions", nil, false)
	e.decode(t, &list)
	if len(list) != 2 {
		t.Fatalf("sessions: %s", e.Data)
	}
	var cur struct {
		Via string `json:"via"`
	}
	ta.as(two, "GET", "/api/v1/auth/session", nil, false).decode(t, &cur)
	if cur.Via != "password" {
		t.Fatalf("session via %q", cur.Via)
	}
	if e := ta.as(one, "POST", "/api/v1/auth/sign-out-everywhere", nil, true); e.status != 200 {
		t.Fatalf("sign out everywhere: %d %+v", e.status, e.Error)
	}
	for _, b := range []browser{one, two} {
		if e := ta.as(b, "GET", "/api/v1/budgets", nil, false); e.status != 401 {
			t.Fatalf("session after sign-out everywhere: %d", e.status)
		}
	}
	// A forged cookie is refused like an unknown key.
	if e := ta.as(browser{cookie: "nxs_forged"}, "GET", "/api/v1/budgets", nil, false); e.status != 401 {
		t.Fatalf("forged session: %d", e.status)
	}
}

// A session unused for the idle timeout ends, and one past its lifetime
// ends however busy; both are refused like any ended session and audited
// with the reason.
func TestSessionIdleAndExpiry(t *testing.T) {
	ta := startAPI(t, freshDB("people_expiry"), nil)
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	advance := func(d time.Duration) { now.Add(int64(d)) }
	// The API's sessions on a clock the test moves (the lifetimes are the
	// configured ones: 12h, idle 30m).
	ta.api.sessions = sessions.NewStore(ta.store, sessions.Options{TTL: ta.api.cfg.Sessions.TTL,
		IdleTimeout: ta.api.cfg.Sessions.IdleTimeout, Now: clock})
	if err := ta.api.sessions.Load(t.Context()); err != nil {
		t.Fatal(err)
	}

	idle, _ := ta.signIn("admin@localhost", testAdminPassword)
	advance(29 * time.Minute)
	if e := ta.as(idle, "GET", "/api/v1/budgets", nil, false); e.status != 200 {
		t.Fatalf("used within the idle timeout: %d", e.status)
	}
	advance(29 * time.Minute)
	if e := ta.as(idle, "GET", "/api/v1/budgets", nil, false); e.status != 200 {
		t.Fatalf("used again within the idle timeout of its last use: %d", e.status)
	}
	advance(31 * time.Minute)
	if e := ta.as(idle, "GET", "/api/v1/budgets", nil, false); e.status != 401 {
		t.Fatalf("idle past the timeout: %d", e.status)
	}

	busy, _ := ta.signIn("admin@localhost", testAdminPassword)
	for range 25 { // used every 29 minutes for 12 hours and more
		advance(29 * time.Minute)
		ta.as(busy, "GET", "/api/v1/budgets", nil, false)
	}
	if e := ta.as(busy, "GET", "/api/v1/budgets", nil, false); e.status != 401 {
		t.Fatalf("past its lifetime: %d", e.status)
	}
	details := ""
	e := ta.do("GET", "/api/v1/audit?tenant=installation&action=auth.refused", ta.admin, nil)
	var page struct {
		Entries []struct{ Detail string }
	}
	e.decode(t, &page)
	for _, en := range page.Entries {
		details += en.Detail + ";"
	}
	if !strings.Contains(details, "session idle too long") || !strings.Contains(details, "session expired") {
		t.Fatalf("audit of ended sessions: %s", details)
	}
}

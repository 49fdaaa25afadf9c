package nexusapiextension

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/schema"
)

// The people tests' world: keys of each role in two tenants, a tenant
// admin's own key, the installation admin's key and people signed in with
// each role, and resources of each tenant to aim the routes at.

// otherTenant is the second tenant of the people tests.
const otherTenant = "acme"

// testKEK is the key-encryption key of the people tests (NEXUS_KEK), so
// that provider credentials can be written.
const testKEK = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// caller is who sends a request: a key, or a signed-in person's session.
type caller struct {
	name              string
	key               string
	cookie, csrf      string
	email, password   string // a person's, to sign in again
	tenant, role      string
	installationAdmin bool
	// actorType, actorID and via are how the audit trail must name it.
	actorType, actorID, via string
}

func (c caller) session() bool { return c.cookie != "" }

// answer is a response; env is its envelope when the body is one.
type answer struct {
	status    int
	header    http.Header
	body      []byte
	env       envelope
	requestID string
}

func (a answer) code() string {
	if a.env.Error != nil {
		return a.env.Error.Code
	}
	return ""
}

func (a answer) String() string {
	return fmt.Sprintf("HTTP %d %.300s", a.status, a.body)
}

// call sends method path as c with body (marshalled unless []byte), and
// header as name, value pairs. A stream is answered by its status and
// headers only: it never ends.
func (ta *testAPI) call(c caller, method, path string, body any, header ...string) answer {
	ta.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			ta.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, ta.base+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.cookie})
		if c.csrf != "" {
			req.Header.Set(csrfHeader, c.csrf)
		}
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := answer{status: resp.StatusCode, header: resp.Header, requestID: resp.Header.Get("X-Request-Id")}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return out
	}
	out.body, _ = io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	_ = json.Unmarshal(out.body, &out.env)
	out.env.status, out.env.header = out.status, out.header
	return out
}

// peopleWorld is the principals and resources of an API under test.
type peopleWorld struct {
	t       *testing.T
	ta      *testAPI
	n       int
	root    caller            // the installation admin's key
	admin   map[string]caller // each tenant's admin key (a service account's)
	callers []caller
	// shared are resources that routes read and edit but never end:
	// tenant -> kind -> id.
	shared map[string]map[string]string
	// personSession is the session id of a person of each tenant.
	personSession map[string]string
}

func (w *peopleWorld) unique(what string) string {
	w.n++
	return fmt.Sprintf("%s-%d", what, w.n)
}

// must sends a request that must answer want, and returns the answer.
func (w *peopleWorld) must(want int, c caller, method, path string, body any) answer {
	w.t.Helper()
	a := w.ta.call(c, method, path, body)
	if a.status != want {
		w.t.Fatalf("%s %s as %s: want %d, got %s", method, path, c.name, want, a)
	}
	return a
}

// dataOf decodes an answer's data.
func dataOf[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.env.Data, &v); err != nil {
		t.Fatalf("data of %s: %v", a, err)
	}
	return v
}

// keyCaller creates a service account's key of role in tenant.
func (w *peopleWorld) keyCaller(tenant, role string) caller {
	w.t.Helper()
	a := w.must(201, w.root, "POST", "/api/v1/keys", map[string]string{"name": w.unique(tenant + " " + role), "role": role, "tenant": tenant})
	k := dataOf[struct{ ID, Key string }](w.t, a)
	return caller{name: "key " + tenant + "/" + role, key: k.Key, tenant: tenant, role: role, actorType: "key", actorID: k.ID, via: "key"}
}

// person creates a user with role in tenant and signs them in.
func (w *peopleWorld) person(tenant, role string) caller {
	w.t.Helper()
	email, password := w.unique("person")+"@example.com", "a long enough passphrase "+w.unique("pw")
	w.must(201, w.root, "POST", "/api/v1/users", map[string]any{"email": email, "name": w.unique("Person"), "password": password,
		"roles": map[string]string{tenant: role}})
	c := w.signIn(email, password)
	c.name = "session " + tenant + "/" + role
	return c
}

// signIn opens a password session.
func (w *peopleWorld) signIn(email, password string) caller {
	w.t.Helper()
	a := w.must(200, caller{name: "anonymous"}, "POST", "/api/v1/auth/sign-in", map[string]string{"email": email, "password": password})
	v := dataOf[sessionView](w.t, a)
	c := caller{name: "session of " + email, csrf: v.CSRFToken, email: email, password: password, tenant: v.Tenant, role: v.Role,
		installationAdmin: v.User.InstallationAdmin, actorType: "user", actorID: v.User.ID, via: "password"}
	for _, ck := range (&http.Response{Header: a.header}).Cookies() {
		if ck.Name == sessionCookie {
			c.cookie = ck.Value
		}
	}
	if c.cookie == "" || c.csrf == "" || c.actorID == "" {
		w.t.Fatalf("sign-in of %s answered no session: %s", email, a)
	}
	return c
}

// sessionIDs are the ids of c's person's open sessions.
func (w *peopleWorld) sessionIDs(c caller) []string {
	w.t.Helper()
	var ids []string
	for _, s := range dataOf[[]struct{ ID string }](w.t, w.must(200, c, "GET", "/api/v1/auth/sessions", nil)) {
		ids = append(ids, s.ID)
	}
	return ids
}

// newPeopleWorld makes tenant acme, the principals and shared resources.
func newPeopleWorld(t *testing.T, ta *testAPI) *peopleWorld {
	t.Helper()
	w := &peopleWorld{t: t, ta: ta, admin: map[string]caller{}, shared: map[string]map[string]string{}, personSession: map[string]string{}}
	w.root = caller{name: "installation admin key", key: ta.admin, tenant: schema.DefaultTenant, role: roleAdmin, installationAdmin: true,
		actorType: "key", via: "key"}
	for _, k := range dataOf[[]apiKey](t, w.must(200, w.root, "GET", "/api/v1/keys", nil)) {
		if k.InstallationAdmin {
			w.root.actorID = k.ID
		}
	}
	w.must(201, w.root, "POST", "/api/v1/tenants", map[string]string{"id": otherTenant, "name": "Acme"})
	for _, tenant := range []string{schema.DefaultTenant, otherTenant} {
		for _, role := range []string{roleViewer, roleEditor, roleAdmin} {
			w.callers = append(w.callers, w.keyCaller(tenant, role))
		}
		w.admin[tenant] = w.callers[len(w.callers)-1]
	}
	w.callers = append(w.callers, w.root)
	// A tenant admin's own key: a person's, capped by their role.
	tadmin := w.person(schema.DefaultTenant, roleAdmin)
	a := w.must(201, tadmin, "POST", "/api/v1/keys", map[string]string{"name": "tenant admin's", "role": roleAdmin})
	k := dataOf[struct{ ID, Key, OwnerUser string }](t, a)
	if k.OwnerUser != tadmin.actorID {
		t.Fatalf("tenant admin's key owned by %q, want %q", k.OwnerUser, tadmin.actorID)
	}
	w.callers = append(w.callers, caller{name: "tenant admin's own key", key: k.Key, tenant: schema.DefaultTenant, role: roleAdmin,
		actorType: "key", actorID: k.ID, via: "key"})
	for _, role := range []string{roleViewer, roleEditor, roleAdmin} {
		w.callers = append(w.callers, w.person(schema.DefaultTenant, role))
	}
	root := w.signIn("admin@localhost", testAdminPassword)
	root.name = "session installation admin"
	w.callers = append(w.callers, root)
	acmePerson := w.person(otherTenant, roleViewer)
	w.callers = append(w.callers, acmePerson)
	for _, c := range w.callers {
		if c.role == "" || c.tenant == "" {
			t.Fatalf("caller %s has no role or tenant", c.name)
		}
	}
	w.personSession[otherTenant] = w.sessionIDs(acmePerson)[0]
	w.personSession[schema.DefaultTenant] = w.sessionIDs(tadmin)[0]
	for _, tenant := range []string{schema.DefaultTenant, otherTenant} {
		w.shared[tenant] = map[string]string{}
		for _, kind := range []string{"budget", "rule", "event", "user"} {
			w.shared[tenant][kind] = w.make(kind, tenant)
		}
	}
	// Credentials each tenant holds and the other does not.
	w.must(200, w.admin[schema.DefaultTenant], "PUT", "/api/v1/providers/exa/credentials", map[string]string{"service_key": "exa-secret-default"})
	w.must(200, w.admin[otherTenant], "PUT", "/api/v1/providers/apollo/credentials", map[string]string{"api_key": "apollo-secret-acme"})
	return w
}

// make creates a resource of kind in tenant and returns its id.
func (w *peopleWorld) make(kind, tenant string) string {
	w.t.Helper()
	admin := w.admin[tenant]
	id := func(a answer) string { return dataOf[struct{ ID string }](w.t, a).ID }
	switch kind {
	case "budget":
		return id(w.must(201, admin, "POST", "/api/v1/budgets", w.budgetBody()))
	case "rule":
		return id(w.must(201, admin, "POST", "/api/v1/alerts/rules", w.ruleBody()))
	case "event":
		rule := w.shared[tenant]["rule"]
		if rule == "" {
			rule = w.make("rule", tenant)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		e := &alerting.Event{ID: newID("alev_"), RuleID: rule, RuleName: "people test", Kind: alerting.KindCostOverWindow,
			Instance: "all", State: alerting.StateFiring, Severity: notify.SeverityWarning, Value: decimal.NewFromInt(6),
			Threshold: decimal.NewFromInt(5), Message: "spend over $5", StartedAt: now, At: now, Notification: 1, Tenant: tenant}
		if err := w.ta.api.alerts.RecordEvent(context.Background(), e); err != nil {
			w.t.Fatalf("record event: %v", err)
		}
		return e.ID
	case "user":
		return id(w.must(201, w.root, "POST", "/api/v1/users", map[string]any{"email": w.unique("user") + "@example.com",
			"name": w.unique("User"), "roles": map[string]string{tenant: roleViewer}}))
	case "key":
		return id(w.must(201, w.root, "POST", "/api/v1/keys", map[string]string{"name": w.unique("key"), "role": roleViewer, "tenant": tenant}))
	case "ingest-key":
		return id(w.must(201, admin, "POST", "/api/v1/ingest-keys", map[string]string{"name": w.unique("ingest")}))
	case "tenant":
		return id(w.must(201, w.root, "POST", "/api/v1/tenants", map[string]string{"id": w.unique("t"), "name": w.unique("Tenant")}))
	}
	w.t.Fatalf("no fixture of kind %s", kind)
	return ""
}

func (w *peopleWorld) budgetBody() map[string]any {
	return map[string]any{"name": w.unique("budget"), "period": "monthly", "amountUsd": "100"}
}

func (w *peopleWorld) ruleBody() map[string]any {
	return map[string]any{"name": w.unique("rule"), "kind": alerting.KindCostOverWindow, "threshold": "5", "window": "1h"}
}

// routeCase is one registered route: its method, path and role.
type routeCase struct {
	pattern, method, path, role string
}

// protectedRoutes is every registered route that needs a role.
func (w *peopleWorld) protectedRoutes() []routeCase {
	var out []routeCase
	for _, r := range w.ta.api.registered {
		if r.role == "" {
			continue
		}
		method, path, ok := strings.Cut(r.pattern, " ")
		if !ok {
			// The catch-all of every method under /api/.
			method, path = "GET", strings.TrimSuffix(r.pattern, "/")+"/v1/no-such-route"
		}
		out = append(out, routeCase{pattern: r.pattern, method: method, path: path, role: r.role})
	}
	if len(out) < 40 {
		w.t.Fatalf("only %d routes registered with a role", len(out))
	}
	return out
}

// installationOnly is whether a route is for installation admins only.
func installationOnly(rc routeCase) bool {
	return strings.HasPrefix(rc.path, "/api/v1/tenants") || rc.path == "/api/v1/credentials/rotate"
}

// resourceKind is the kind of resource rc's path value names ("" none),
// and whether the route names another tenant's as missing.
func resourceKind(rc routeCase) (kind string, confined bool) {
	switch p := rc.path; {
	case !strings.Contains(p, "{"):
		return "", false
	case strings.HasPrefix(p, "/api/v1/budgets/{id}"):
		return "budget", true
	case strings.HasPrefix(p, "/api/v1/alerts/rules/{id}"):
		return "rule", true
	case strings.HasPrefix(p, "/api/v1/alerts/events/{id}"):
		return "event", true
	case strings.HasPrefix(p, "/api/v1/keys/{id}"):
		return "key", true
	case strings.HasPrefix(p, "/api/v1/ingest-keys/{id}"):
		return "ingest-key", true
	case strings.HasPrefix(p, "/api/v1/users/{id}"):
		return "user", true
	case strings.HasPrefix(p, "/api/v1/auth/sessions/{id}"):
		return "session", true
	case strings.HasPrefix(p, "/api/v1/tenants/{id}"):
		return "tenant", false
	case p == "/api/v1/providers/{name}/credentials":
		// Another tenant's credentials are missing to a read or delete;
		// a write makes the caller's own.
		return "credentials", rc.method != "PUT"
	case strings.HasPrefix(p, "/api/v1/providers/{name}"):
		return "provider", false
	}
	return "unknown", false
}

// target is rc's path with its value filled for tenant: a shared
// resource for reads and edits, a fresh one for a route that ends or
// changes it for good, and for another tenant's resources (foreign) one
// of that tenant's.
func (w *peopleWorld) target(rc routeCase, tenant string, foreign bool) string {
	w.t.Helper()
	kind, _ := resourceKind(rc)
	var v string
	switch kind {
	case "":
		return w.query(rc, rc.path)
	case "budget", "rule", "event", "user":
		v = w.shared[tenant][kind]
		if rc.method == "DELETE" || rc.method == "POST" {
			v = w.make(kind, tenant)
		}
	case "key", "ingest-key", "tenant":
		v = w.make(kind, tenant)
	case "session":
		v = "0123456789abcdef"
		if foreign {
			v = w.personSession[tenant]
		}
	case "credentials":
		// Each tenant holds the one of these the other lacks.
		v = map[string]string{schema.DefaultTenant: "exa", otherTenant: "apollo"}[tenant]
		if !foreign {
			v = "openai"
		}
	case "provider":
		v = "openai"
	default:
		w.t.Errorf("%s: no fixture for its path value: add one to resourceKind", rc.pattern)
		v = "made-up-id"
	}
	return w.query(rc, strings.NewReplacer("{id}", v, "{name}", v).Replace(rc.path))
}

// query adds what a route needs in its query string.
func (w *peopleWorld) query(rc routeCase, path string) string {
	switch rc.pattern {
	case "GET /api/v1/personal-data":
		return path + "?customer=acme"
	case "DELETE /api/v1/personal-data":
		return path + "?user=u1"
	}
	return path
}

// body is a valid body for rc by a caller of tenant (nil: none needed).
func (w *peopleWorld) body(rc routeCase, tenant string) any {
	switch rc.method + " " + strings.TrimSuffix(strings.TrimSuffix(rc.path, "/{id}"), "/{name}/credentials") {
	case "POST /api/v1/keys":
		return map[string]string{"name": w.unique("key"), "role": roleViewer}
	case "POST /api/v1/tenants":
		return map[string]string{"id": w.unique("t"), "name": w.unique("Tenant")}
	case "PATCH /api/v1/tenants":
		return map[string]string{"name": w.unique("Tenant")}
	case "POST /api/v1/ingest-keys":
		return map[string]string{"name": w.unique("ingest")}
	case "POST /api/v1/users":
		return map[string]any{"email": w.unique("new") + "@example.com", "name": w.unique("New"), "roles": map[string]string{tenant: roleViewer}}
	case "PATCH /api/v1/users":
		return map[string]string{"name": w.unique("Renamed")}
	case "PUT /api/v1/providers":
		return map[string]string{"admin_key": "sk-admin-" + w.unique("secret")}
	case "POST /api/v1/budgets", "PUT /api/v1/budgets":
		return w.budgetBody()
	case "PATCH /api/v1/budgets":
		return map[string]string{"amountUsd": "250"}
	case "POST /api/v1/alerts/rules", "PUT /api/v1/alerts/rules":
		return w.ruleBody()
	case "PATCH /api/v1/alerts/rules":
		return map[string]string{"threshold": "7"}
	}
	return nil
}

// endsSession is whether rc ends the session that sends it.
func endsSession(rc routeCase) bool {
	return rc.pattern == "POST /api/v1/auth/sign-out" || rc.pattern == "POST /api/v1/auth/sign-out-everywhere"
}

// Every route with a role, as every principal: below the route's role
// 403, at or above it never 401 or 403 (but installation admin routes for
// anyone else), and another tenant's resource as missing as one that
// never existed.
func TestRoleMatrix(t *testing.T) {
	t.Setenv("NEXUS_KEK", testKEK)
	ta := startAPI(t, freshDB("people_matrix"), nil)
	w := newPeopleWorld(t, ta)
	routes := w.protectedRoutes()
	checked := 0
	for _, rc := range routes {
		for i, c := range w.callers {
			enough := apikeys.Rank(c.role) >= apikeys.Rank(rc.role)
			path := rc.path
			if enough {
				path = w.target(rc, c.tenant, false)
			}
			a := ta.call(c, rc.method, path, w.body(rc, c.tenant))
			checked++
			if endsSession(rc) && c.session() {
				// Sign-out ended this session (everywhere: every one of the
				// person's); the person signs in again for the next route.
				fresh := w.signIn(c.email, c.password)
				fresh.name = c.name
				w.callers[i] = fresh
			}
			switch {
			case !enough:
				if a.status != 403 || a.code() != "FORBIDDEN" {
					t.Errorf("%s as %s (role %s, needs %s): want 403 FORBIDDEN, got %s", rc.pattern, c.name, c.role, rc.role, a)
				}
			case installationOnly(rc) && !c.installationAdmin:
				if a.status != 403 || a.code() != "FORBIDDEN" {
					t.Errorf("%s as %s (not an installation admin): want 403 FORBIDDEN, got %s", rc.pattern, c.name, a)
				}
			case a.status == 401 || a.status == 403 || a.status >= 500:
				t.Errorf("%s as %s (role %s, needs %s): got %s", rc.pattern, c.name, c.role, rc.role, a)
			}
		}
	}

	// Another tenant's resources, as every caller whose role reaches the
	// route: missing, exactly as a made-up id.
	foreign := 0
	for _, rc := range routes {
		kind, confined := resourceKind(rc)
		if !confined {
			continue
		}
		for _, c := range w.callers {
			if apikeys.Rank(c.role) < apikeys.Rank(rc.role) || (kind == "user" && c.installationAdmin) {
				// Installation admins manage every tenant's people.
				continue
			}
			other := otherTenant
			if c.tenant == otherTenant {
				other = schema.DefaultTenant
			}
			path := w.target(rc, other, true)
			a := ta.call(c, rc.method, path, w.body(rc, c.tenant))
			foreign++
			if a.status != 404 || a.code() != "NOT_FOUND" {
				t.Errorf("%s as %s of %s, aimed at %s's %s (%s): want 404 NOT_FOUND, got %s", rc.pattern, c.name, c.tenant, other, kind, path, a)
			}
		}
	}
	if foreign < 50 {
		t.Errorf("only %d requests at another tenant's resources", foreign)
	}
	t.Logf("%d routes × %d callers: %d requests, %d at another tenant's resources", len(routes), len(w.callers), checked, foreign)
}

package nexusapiextension

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/sso"
)

// configRuleFixture is the id of the one rule in the probed collector's
// config: the read-only rule every write to answers 409.
const configRuleFixture = "cfg-rule"

// fixtures are the resources the OpenAPI probes need: keys of each role,
// stored calls, and fresh budgets, rules, events and keys for the
// operations on one of them.
type fixtures struct {
	t    *testing.T
	ta   *testAPI
	doc  *openapi3.T
	keys map[string]string
	n    int
	// conflicts make, per operation, a request that must answer 409;
	// limits one past a cap that must answer 429.
	conflicts map[string]func(operation) probe
	limits    map[string]func() probe
	// variants are successful queries beyond the enums' values.
	variants map[string]func() []url.Values
	// success is the query of an operation's success probe, where it
	// needs one.
	success map[string]url.Values
	// People (openapi_fixtures_test.go's people): a person who signs in,
	// a key of theirs, their last session, and the identity provider.
	person, personKey, personEmail, personPassword string
	lastSession                                    *browserSession
	idp                                            *oidcIdP
	// byPerson are the operations probed with the person's key: the
	// routes about the caller themself, for which a service account's
	// key has no person.
	byPerson map[string]bool
	// extra are further probes of an operation: answers that only
	// another caller or another request gets.
	extra map[string]func(operation) []probe
	// successes make the success probe of an operation that needs more
	// than a key: a browser session, a sign-on flow under way.
	successes map[string]func(operation) probe
}

func newFixtures(t *testing.T, ta *testAPI, doc *openapi3.T, idp *oidcIdP) *fixtures {
	fx := &fixtures{t: t, ta: ta, doc: doc, idp: idp,
		keys: map[string]string{roleViewer: ta.key(roleViewer), roleEditor: ta.key(roleEditor), roleAdmin: ta.admin}}
	// Calls of every sort, so that lists, stats, summaries and trends
	// answer rows to check and not only empty arrays.
	now := time.Now().UTC()
	ta.seed(
		seedCall{At: now.Add(-time.Hour), Provider: "openai", Model: "gpt-4o-mini", Operation: "chat", Service: "web", Environment: "prod",
			Input: 1200, Output: 80, Cached: 1024, Cost: "0.000228"},
		seedCall{At: now.Add(-50 * time.Minute), Provider: "openai", Model: "gpt-9", Operation: "chat", Input: 10, Output: 5},
		seedCall{At: now.Add(-40 * time.Minute), Provider: "exa", Operation: "search", Status: "error", ErrorClass: "rate_limited",
			HTTPStatus: 429, Cost: "0"},
		seedCall{At: now.Add(-50 * time.Hour), Provider: "openai", Model: "gpt-4o", Operation: "chat", Input: 500, Output: 50,
			Cost: "0.00175", Anomaly: true},
	)
	editor := fx.keys[roleEditor]
	takenName := func(o operation) probe {
		name := fx.name("taken")
		fx.budgetNamed(name)
		ex := map[string]any{"name": name}
		for k, v := range o.example() {
			if k != "name" {
				ex[k] = v
			}
		}
		body, _ := json.Marshal(ex)
		return probe{params: map[string]string{"id": fx.budget()}, body: body}
	}
	configRule := func(o operation) probe {
		return probe{params: map[string]string{"id": configRuleFixture}, body: fx.unique(o.example())}
	}
	fx.conflicts = map[string]func(operation) probe{
		"POST /api/v1/budgets": func(o operation) probe {
			body := fx.unique(o.example())
			if e := ta.do("POST", "/api/v1/budgets", editor, body); e.status != 201 {
				t.Errorf("create budget: %d %+v", e.status, e.Error)
			}
			return probe{body: body}
		},
		"PUT /api/v1/budgets/{id}":            takenName,
		"PATCH /api/v1/budgets/{id}":          takenName,
		"PUT /api/v1/alerts/rules/{id}":       configRule,
		"PATCH /api/v1/alerts/rules/{id}":     configRule,
		"DELETE /api/v1/alerts/rules/{id}":    configRule,
		"POST /api/v1/alerts/events/{id}/ack": func(operation) probe { return probe{params: map[string]string{"id": fx.event(stateResolved)}} },
		"DELETE /api/v1/keys/{id}": func(operation) probe {
			id := fx.apiKey()
			if e := ta.do("DELETE", "/api/v1/keys/"+id, ta.admin, nil); e.status != 200 {
				t.Errorf("revoke key: %d %+v", e.status, e.Error)
			}
			return probe{params: map[string]string{"id": id}}
		},
		// Taken for ever, and never deletable.
		"POST /api/v1/tenants": func(operation) probe {
			return probe{body: []byte(`{"id": "default", "name": "Again"}`)}
		},
		"DELETE /api/v1/tenants/{id}": func(operation) probe { return probe{params: map[string]string{"id": "default"}} },
		"DELETE /api/v1/ingest-keys/{id}": func(operation) probe {
			id := fx.create("/api/v1/ingest-keys", ta.admin, map[string]any{"name": fx.name("ingest key")})
			if e := ta.do("DELETE", "/api/v1/ingest-keys/"+id, ta.admin, nil); e.status != 200 {
				t.Errorf("revoke ingest key: %d %+v", e.status, e.Error)
			}
			return probe{params: map[string]string{"id": id}}
		},
		// withProviders leaves Exa without credentials.
		"POST /api/v1/providers/{name}/test": func(operation) probe { return probe{params: map[string]string{"name": "exa"}} },
		"POST /api/v1/users": func(o operation) probe {
			taken := fx.email("taken")
			fx.create("/api/v1/users", ta.admin, map[string]any{"email": taken, "name": "Taken"})
			return probe{body: fx.with(o.example(), "email", taken)}
		},
		// The first installation admin is the last active one.
		"POST /api/v1/users/{id}/deactivate": func(operation) probe {
			u, _ := ta.api.users.ByEmail(ta.api.cfg.SignIn.AdminEmail)
			return probe{params: map[string]string{"id": u.ID}}
		},
		// The identity provider's default person is linked at a first
		// sign-on; another identity with their email is refused.
		"GET /api/v1/auth/oidc/callback": func(operation) probe {
			fx.ssoSignIn()
			cookie, q := fx.ssoFlow(&mockoidc.MockUser{Subject: "someone-else", Email: mockoidc.DefaultUser().Email, EmailVerified: true,
				Groups: []string{"engineering"}})
			return probe{query: q, header: http.Header{"Cookie": {cookie}}}
		},
	}
	fx.people()
	fx.limits = map[string]func() probe{"GET /api/v1/stream": fx.streamCap}
	// A data-protection request names its subject.
	fx.success = map[string]url.Values{
		"GET /api/v1/personal-data":    {"customer": {"acme"}},
		"DELETE /api/v1/personal-data": {"user": {"u1"}},
	}
	fx.variants = map[string]func() []url.Values{
		// Over 24 h stats come from the hour rollup; a past month is
		// complete (no trend, slope null).
		"GET /api/v1/calls/stats": func() []url.Values {
			return []url.Values{{"from": {now.Add(-72 * time.Hour).Format(time.RFC3339)}}}
		},
		"GET /api/v1/costs/forecast": func() []url.Values {
			return []url.Values{{"month": {time.Now().In(ta.api.loc).AddDate(0, 0, -time.Now().In(ta.api.loc).Day()).Format("2006-01")}}}
		},
	}
	return fx
}

// name is a name no other fixture has.
func (fx *fixtures) name(what string) string {
	fx.n++
	return what + " #" + strconv.Itoa(fx.n)
}

// unique is a request body with its name made unique: the same documented
// example sent twice would otherwise be a name conflict.
func (fx *fixtures) unique(ex map[string]any) []byte {
	if ex == nil {
		return nil
	}
	c := map[string]any{}
	for k, v := range ex {
		c[k] = v
	}
	if name, ok := c["name"].(string); ok {
		c["name"] = fx.name(name)
	}
	b, _ := json.Marshal(c)
	return b
}

// params are path parameters naming a fresh resource the operation can
// act on, so that a DELETE or a PUT never spoils another probe's.
func (fx *fixtures) params(o operation) map[string]string {
	switch {
	case !strings.Contains(o.path, "{"):
		return nil
	case strings.HasPrefix(o.path, "/api/v1/budgets/{id}"):
		return map[string]string{"id": fx.budget()}
	case strings.HasPrefix(o.path, "/api/v1/alerts/rules/{id}"):
		return map[string]string{"id": fx.create("/api/v1/alerts/rules", fx.keys[roleEditor],
			map[string]any{"name": fx.name("rule"), "kind": kindCostOverWindow, "threshold": "5", "window": "1h"})}
	case strings.HasPrefix(o.path, "/api/v1/alerts/events/{id}"):
		return map[string]string{"id": fx.event(stateFiring)}
	case strings.HasPrefix(o.path, "/api/v1/keys/{id}"):
		return map[string]string{"id": fx.apiKey()}
	case strings.HasPrefix(o.path, "/api/v1/tenants/{id}"):
		return map[string]string{"id": fx.tenant()}
	case strings.HasPrefix(o.path, "/api/v1/ingest-keys/{id}"):
		return map[string]string{"id": fx.create("/api/v1/ingest-keys", fx.ta.admin, map[string]any{"name": fx.name("ingest key")})}
	case o.path == "/api/v1/providers/{name}/test":
		return map[string]string{"name": "openai"}
	case o.path == "/api/v1/providers/{name}/credentials":
		if e := fx.ta.do("PUT", "/api/v1/providers/openai/credentials", fx.ta.admin, map[string]string{"admin_key": "sk-admin-fixture"}); e.status != 200 {
			fx.t.Errorf("store credentials: %d %+v", e.status, e.Error)
		}
		return map[string]string{"name": "openai"}
	case o.path == "/api/v1/auth/sessions/{id}":
		s, err := fx.ta.api.sessions.Lookup(context.Background(), fx.signIn().secret)
		if err != nil {
			fx.t.Errorf("look the session up: %v", err)
		}
		return map[string]string{"id": s.ID}
	case strings.HasPrefix(o.path, "/api/v1/users/{id}/"):
		return map[string]string{"id": fx.create("/api/v1/users", fx.ta.admin, map[string]any{"email": fx.email("user"), "name": fx.name("user")})}
	case strings.HasPrefix(o.path, "/api/v1/users/{id}"):
		return map[string]string{"id": fx.person}
	}
	fx.t.Errorf("%s: no fixture for its path parameters: add one to fixtures.params", o.id())
	return nil
}

// create posts body to path and returns the new resource's id.
func (fx *fixtures) create(path, key string, body any) string {
	e := fx.ta.do("POST", path, key, body)
	var v struct{ ID string }
	if e.status != 201 || json.Unmarshal(e.Data, &v) != nil {
		fx.t.Errorf("POST %s: %d %+v", path, e.status, e.Error)
	}
	return v.ID
}

// email is an address no other fixture has.
func (fx *fixtures) email(what string) string {
	fx.n++
	return what + "-" + strconv.Itoa(fx.n) + "@example.com"
}

// with is the body ex with field set to v.
func (fx *fixtures) with(ex map[string]any, field string, v any) []byte {
	c := map[string]any{field: v}
	for k, x := range ex {
		if k != field {
			c[k] = x
		}
	}
	b, _ := json.Marshal(c)
	return b
}

func (fx *fixtures) budget() string { return fx.budgetNamed(fx.name("budget")) }

func (fx *fixtures) budgetNamed(name string) string {
	return fx.create("/api/v1/budgets", fx.keys[roleEditor], map[string]any{"name": name, "period": "monthly", "amountUsd": "100"})
}

// tenant creates a tenant no other fixture uses and returns its id.
func (fx *fixtures) tenant() string {
	fx.n++
	return fx.create("/api/v1/tenants", fx.ta.admin, map[string]any{"id": "fixture-" + strconv.Itoa(fx.n), "name": fx.name("tenant")})
}

func (fx *fixtures) apiKey() string {
	return fx.create("/api/v1/keys", fx.ta.admin, map[string]any{"name": fx.name("key"), "role": roleViewer})
}

// alertEvent is an event of the config rule in state, as the evaluator
// would write it.
func (fx *fixtures) alertEvent(state string) *alertEvent {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &alertEvent{ID: newID("alev_"), RuleID: configRuleFixture, RuleName: "From the config", Kind: kindKeyInvalid,
		Instance: "provider=openai", Labels: map[string]string{"provider": "openai"}, State: state, Severity: notify.SeverityWarning,
		Value: decimal.NewFromInt(1), Message: "openai's key was refused", StartedAt: now, At: now, Notification: 1,
		Deliveries: []alerting.Delivery{{Channel: alerting.InAppChannel, Status: notify.DeliverySent, Attempts: 1, At: now}}}
}

// event stores an event in state and returns its id.
func (fx *fixtures) event(state string) string {
	e := fx.alertEvent(state)
	if err := fx.ta.api.alerts.RecordEvent(context.Background(), e); err != nil {
		fx.t.Errorf("write event: %v", err)
	}
	return e.ID
}

// streamCap holds open the one stream a fresh key may have (the probed
// collector's stream.max_per_key is 1) and probes for a second.
func (fx *fixtures) streamCap() probe {
	key := fx.ta.key(roleViewer)
	ctx, cancel := context.WithCancel(context.Background())
	fx.t.Cleanup(cancel)
	resp, _ := fx.ta.openStream(ctx, "", key, nil)
	if resp.StatusCode != 200 {
		fx.t.Errorf("hold a stream: %d", resp.StatusCode)
	}
	return probe{name: "past stream.max_per_key", key: key, want: 429, doc: docAccepts}
}

// checkStream reads an open stream: its content type, then a call and an
// alert published after it connected, each validated against the schema
// the operation's x-sse-events names for its event.
func (fx *fixtures) checkStream(t *testing.T, o operation, resp *http.Response) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("stream content type %q", ct)
	}
	schemas := map[string]*openapi3.Schema{}
	events, _ := o.op.Extensions["x-sse-events"].(map[string]any)
	for kind, ref := range events {
		s := fx.doc.Components.Schemas[strings.TrimPrefix(ref.(string), "#/components/schemas/")]
		if s == nil {
			t.Fatalf("x-sse-events %s: no schema %v", kind, ref)
		}
		schemas[kind] = s.Value
	}
	rd := bufio.NewReader(resp.Body)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before connecting: %v", err)
		}
		if strings.HasPrefix(line, ": connected") {
			break
		}
	}
	cost := "0.000228"
	fx.ta.api.feed.Publish(livefeed.CallEvent(&livefeed.Call{Timestamp: time.Now().UTC().Format(time.RFC3339Nano), DurationMs: 812.5,
		Provider: "openai", Model: "gpt-4o-mini", Operation: "chat", Status: "ok", Tokens: livefeed.Tokens{Input: 1200, Output: 80},
		CostUSD: &cost, CostStatus: "computed", AnomalyScore: 0.4}))
	fx.ta.api.alerts.Publish(fx.alertEvent(stateFiring))
	seen := map[string]bool{}
	var event string
	for !seen["call"] || !seen["alert"] {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended after %v: %v", seen, err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			s := schemas[event]
			var v any
			if s == nil || json.Unmarshal([]byte(line[len("data: "):]), &v) != nil {
				t.Fatalf("event %q undocumented in x-sse-events, or data not JSON: %s", event, line)
			}
			if err := s.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
				t.Errorf("event %s does not match its schema: %v\n%s", event, err, line)
			}
			seen[event] = true
		}
	}
}

// people makes the person the documented sign-in example names, a viewer
// of the default tenant, and a key of theirs, and says how the routes
// about people and sessions are probed: with the person's key or session
// where a service account's key has no person, and that key for what it
// is answered then.
func (fx *fixtures) people() {
	ta := fx.ta
	ex := operation{op: fx.doc.Paths.Value("/api/v1/auth/sign-in").Post}.example()
	fx.personEmail, _ = ex["email"].(string)
	fx.personPassword, _ = ex["password"].(string)
	fx.person = fx.create("/api/v1/users", ta.admin, map[string]any{"email": fx.personEmail, "name": "Pat Smith",
		"password": fx.personPassword, "roles": map[string]string{schema.DefaultTenant: roleViewer}})
	_, secret, err := ta.api.keys.Create(context.Background(), apikeys.NewKey{Name: "pat's key", Role: roleViewer, OwnerUser: fx.person}, "")
	if err != nil {
		fx.t.Fatalf("create the person's key: %v", err)
	}
	fx.personKey = secret
	fx.byPerson = map[string]bool{"POST /api/v1/auth/sign-out-everywhere": true, "GET /api/v1/auth/sessions": true,
		"DELETE /api/v1/auth/sessions/{id}": true, "GET /api/v1/users/me": true, "GET /api/v1/users/{id}": true, "PATCH /api/v1/users/{id}": true}
	service := fx.keys[roleViewer]
	noPerson := func(want int, fields ...string) func(operation) []probe {
		return func(operation) []probe {
			return []probe{{name: "a service account's key", key: service, want: want, fields: fields, doc: docAccepts}}
		}
	}
	fx.extra = map[string]func(operation) []probe{
		"POST /api/v1/auth/sign-in": func(operation) []probe {
			return []probe{{name: "wrong password", body: []byte(`{"email": "nobody@example.com", "password": "not the password"}`), want: 401, doc: docAccepts}}
		},
		"POST /api/v1/auth/sign-out":            noPerson(400, "session"),
		"GET /api/v1/auth/session":              noPerson(400, "session"),
		"POST /api/v1/auth/sign-out-everywhere": noPerson(400, "user"),
		"GET /api/v1/auth/sessions":             noPerson(200),
		"GET /api/v1/users/me":                  noPerson(404),
		"PATCH /api/v1/users/{id}": func(operation) []probe {
			return []probe{{name: "own roles", key: fx.personKey, params: map[string]string{"id": fx.person},
				body: []byte(`{"roles": {"default": "admin"}}`), want: 403, doc: docAccepts}}
		},
		"GET /api/v1/auth/oidc/callback": func(operation) []probe {
			return []probe{{name: "no sign-on flow", query: url.Values{"state": {"s"}, "code": {"c"}}, want: 401, doc: docAccepts}}
		},
	}
	fx.successes = map[string]func(operation) probe{
		"POST /api/v1/auth/sign-out": func(operation) probe { return probe{header: fx.signIn().header(true, "")} },
		"GET /api/v1/auth/session":   func(operation) probe { return probe{header: fx.session().header(false, "")} },
		"GET /api/v1/auth/oidc/callback": func(operation) probe {
			cookie, q := fx.ssoFlow(nil)
			return probe{query: q, header: http.Header{"Cookie": {cookie}}}
		},
	}
}

// browserSession is the person signed in from a browser: the cookie's
// secret and the session's CSRF token.
type browserSession struct{ secret, csrf string }

// header is what the browser sends: its cookie, the CSRF token with a
// write, and the tenant it picks ("" for its default).
func (s browserSession) header(write bool, tenant string) http.Header {
	h := http.Header{"Cookie": {sessionCookie + "=" + s.secret}}
	if write {
		h.Set(csrfHeader, s.csrf)
	}
	if tenant != "" {
		h.Set(tenantHeader, tenant)
	}
	return h
}

// signIn signs the person in anew.
func (fx *fixtures) signIn() browserSession {
	e := fx.ta.do("POST", "/api/v1/auth/sign-in", "", map[string]string{"email": fx.personEmail, "password": fx.personPassword})
	var v struct {
		CSRFToken string `json:"csrfToken"`
	}
	if e.status != 200 || json.Unmarshal(e.Data, &v) != nil || v.CSRFToken == "" {
		fx.t.Fatalf("sign in: %d %+v %s", e.status, e.Error, e.Data)
	}
	for _, c := range (&http.Response{Header: e.header}).Cookies() {
		if c.Name == sessionCookie && c.Value != "" && c.HttpOnly && c.SameSite == http.SameSiteStrictMode {
			return browserSession{secret: c.Value, csrf: v.CSRFToken}
		}
	}
	fx.t.Fatalf("sign-in set no HttpOnly, SameSite=Strict %s cookie: %v", sessionCookie, e.header["Set-Cookie"])
	return browserSession{}
}

// session is a live session of the person: the last one while it lasts
// (sign-in hashes a password: not once per probe).
func (fx *fixtures) session() browserSession {
	if s := fx.lastSession; s != nil {
		if _, err := fx.ta.api.sessions.Lookup(context.Background(), s.secret); err == nil {
			return *s
		}
	}
	s := fx.signIn()
	fx.lastSession = &s
	return s
}

// probedSignOn is the oidc block of the probed collector (c): single
// sign-on through idp (people_oidc_test.go), its people in group
// engineering viewers of the default tenant.
func probedSignOn(c *Config, idp *oidcIdP) oidcConfig {
	return oidcConfig{Issuer: idp.Issuer(), ClientID: idp.ClientID, ClientSecret: configopaque.String(idp.ClientSecret),
		RedirectURL: "http://" + c.NetAddr.Endpoint + "/api/v1/auth/oidc/callback",
		Scopes:      []string{"openid", "email", "profile", "groups"},
		Roles:       []sso.RoleMapping{{Claim: "groups", Value: "engineering", Tenant: schema.DefaultTenant, Role: roleViewer}}}
}

// ssoFlow plays a browser starting single sign-on as user (queued at the
// identity provider; nil: its default person), up to the provider's
// redirect back (people_oidc_test.go): the flow's cookie, and the query
// the callback gets.
func (fx *fixtures) ssoFlow(user mockoidc.User) (string, url.Values) {
	if user != nil {
		fx.idp.QueueUser(user)
	}
	back, flow := startSignOn(fx.t, fx.ta, fx.idp, oidcBrowser(fx.t))
	u, err := url.Parse(back)
	if err != nil {
		fx.t.Fatal(err)
	}
	return flow.Name + "=" + flow.Value, u.Query()
}

// ssoSignIn signs the identity provider's default person in.
func (fx *fixtures) ssoSignIn() {
	cookie, q := fx.ssoFlow(nil)
	req, _ := http.NewRequest("GET", fx.ta.base+"/api/v1/auth/oidc/callback?"+q.Encode(), nil)
	req.Header.Set("Cookie", cookie)
	resp, err := noRedirects.Do(req)
	if err != nil {
		fx.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		fx.t.Errorf("single sign-on: %d", resp.StatusCode)
	}
}

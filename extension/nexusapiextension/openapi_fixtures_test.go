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
	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/notify"
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
}

func newFixtures(t *testing.T, ta *testAPI, doc *openapi3.T) *fixtures {
	fx := &fixtures{t: t, ta: ta, doc: doc,
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
	}
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

package nexusapiextension

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/alertingtest"
	"github.com/nexus-otel/nexus/internal/configtest"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// --- helpers ---

// The engine's names, as the tests spell them.
type alertEvent = alerting.Event

const (
	stateFiring        = alerting.StateFiring
	stateResolved      = alerting.StateResolved
	kindCostOverWindow = alerting.KindCostOverWindow
	kindErrorRate      = alerting.KindErrorRate
	kindKeyInvalid     = alerting.KindKeyInvalid
	originAPI          = alerting.OriginAPI
	originConfig       = alerting.OriginConfig
	defaultMinCalls    = 10
)

func dedupKey(ruleID, instance, state string, startedAt time.Time, seq int) string {
	return alerting.DedupKey(ruleID, instance, state, startedAt, seq)
}

// startAlertAPI starts the API with an evaluator that never ticks on its
// own: tests step its clock with evalAt.
func startAlertAPI(t *testing.T, db string, tweak func(*Config)) *testAPI {
	t.Helper()
	return startAPI(t, db, func(c *Config) {
		c.Alerting.Interval = time.Hour
		if tweak != nil {
			tweak(c)
		}
	})
}

// evalAt runs one evaluation with the evaluator's clock at now.
func (ta *testAPI) evalAt(now time.Time) {
	ta.t.Helper()
	if err := ta.api.alerts.EvaluateAt(context.Background(), now); err != nil {
		ta.t.Fatal(err)
	}
}

func (ta *testAPI) createRule(key string, body map[string]any) string {
	ta.t.Helper()
	e := ta.do("POST", "/api/v1/alerts/rules", key, body)
	if e.status != 201 {
		ta.t.Fatalf("create rule %v: %d %+v", body, e.status, e.Error)
	}
	var r ruleView
	e.decode(ta.t, &r)
	return r.ID
}

// events lists events; without from/to, over two months around now, since
// the tests' clocks run ahead of the real one.
func (ta *testAPI) events(query string) []alertEvent {
	ta.t.Helper()
	if !strings.Contains(query, "from=") {
		now := time.Now().UTC()
		query += "&from=" + now.AddDate(0, 0, -60).Format(time.RFC3339) + "&to=" + now.AddDate(0, 0, 60).Format(time.RFC3339)
	}
	e := ta.do("GET", "/api/v1/alerts/events?limit=1000&"+query, ta.admin, nil)
	if e.status != 200 {
		ta.t.Fatalf("events %s: %d %+v", query, e.status, e.Error)
	}
	var out []alertEvent
	e.decode(ta.t, &out)
	return out
}

// states lists the events' states, newest first, as "state" or
// "state@instance".
func states(evs []alertEvent, withInstance bool) string {
	parts := make([]string, len(evs))
	for i, e := range evs {
		parts[i] = e.State
		if withInstance {
			parts[i] += "@" + e.Instance
		}
	}
	return strings.Join(parts, ",")
}

func (ta *testAPI) health(at time.Time, prov string, up bool, class string) {
	ta.t.Helper()
	storetest.SeedHealth(ta.t, ta.store, at, prov, up, class)
}

func (ta *testAPI) gauge(at time.Time, prov, name, scope string, value int64) {
	ta.t.Helper()
	ctx := context.Background()
	b, err := ta.store.PrepareBatch(ctx, "provider_gauges", store.ProviderGaugeColumns)
	if err != nil {
		ta.t.Fatal(err)
	}
	if err := b.Append(at.UTC(), prov, "", name, "", scope, "", decimal.NewFromInt(value)); err != nil {
		ta.t.Fatal(err)
	}
	if err := b.Send(ctx); err != nil {
		ta.t.Fatal(err)
	}
}

// errorsAt seeds n calls of provider at t, bad of them errors.
func (ta *testAPI) errorsAt(t time.Time, provider string, n, bad int) {
	ta.t.Helper()
	ta.seed(storetest.ErrorCalls(t, provider, n, bad)...)
}

func fieldsOf(e envelope) []string {
	var out []string
	if e.Error != nil {
		for _, d := range e.Error.Details {
			out = append(out, d.Field)
		}
	}
	return out
}

// --- rules API ---

func TestAlertRulesCRUD(t *testing.T) {
	db := freshDB("api_alert_rules")
	hook := alertingtest.NewHookSink(t)
	threshold := 25.0
	ta := startAlertAPI(t, db, func(c *Config) {
		c.Alerting.Channels = map[string]notify.ChannelConfig{"ops": hook.Channel(), "ui": {Type: notify.TypeInApp}}
		c.Alerting.Rules = []AlertRuleConfig{{ID: "cfg-spend", Name: "Hourly spend", Kind: kindCostOverWindow,
			Threshold: &threshold, Window: time.Hour, Channels: []string{"ops"}}}
	})
	viewer, editor := ta.key("viewer"), ta.key("editor")
	body := map[string]any{"name": "OpenAI errors", "kind": "error_rate", "scope": map[string]string{"provider": "openai"},
		"threshold": 0.05, "window": "5m", "for": "2m", "severity": "critical", "channels": []string{"inapp", "ops", "ops"},
		"message": "{{.Rule}} is {{.State}}: {{.Value}} > {{.Threshold}} on {{.Labels.provider}}"}

	if e := ta.do("GET", "/api/v1/alerts/rules", "", nil); e.status != 401 {
		t.Fatalf("no key: %d", e.status)
	}
	if e := ta.do("POST", "/api/v1/alerts/rules", viewer, body); e.status != 403 {
		t.Fatalf("viewer creating: %d", e.status)
	}
	e := ta.do("POST", "/api/v1/alerts/rules", editor, body)
	if e.status != 201 {
		t.Fatalf("create: %d %+v", e.status, e.Error)
	}
	var r ruleView
	e.decode(t, &r)
	if !strings.HasPrefix(r.ID, "alr_") || r.Origin != originAPI || r.Kind != kindErrorRate || *r.Threshold != "0.05" ||
		*r.Window != "5m" || r.For != "2m" || r.Severity != "critical" || strings.Join(r.Channels, ",") != "inapp,ops" ||
		r.MinCalls != defaultMinCalls || !r.Enabled || r.Scope.Provider != "openai" || r.CreatedAt == nil {
		t.Fatalf("created: %+v", r)
	}
	// Defaults per kind.
	e = ta.do("POST", "/api/v1/alerts/rules", editor, map[string]any{"name": "down", "kind": "provider_down"})
	var down ruleView
	e.decode(t, &down)
	if e.status != 201 || *down.Threshold != "3" || down.Window != nil || down.Severity != "warning" || len(down.Channels) != 0 {
		t.Fatalf("provider_down defaults: %d %+v", e.status, down)
	}

	// The list: config rules first, then the API's, oldest first.
	e = ta.do("GET", "/api/v1/alerts/rules", viewer, nil)
	var list []ruleView
	e.decode(t, &list)
	if e.status != 200 || len(list) != 3 || list[0].ID != "cfg-spend" || list[0].Origin != originConfig || list[1].ID != r.ID ||
		e.Pagination.Total != 3 || *list[0].Threshold != "25" || *list[0].Window != "1h" {
		t.Fatalf("list: %d %+v", e.status, list)
	}
	if e := ta.do("GET", "/api/v1/alerts/rules/cfg-spend", viewer, nil); e.status != 200 {
		t.Fatalf("get config rule: %d", e.status)
	}

	// Config rules are read-only, saying so.
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		e := ta.do(m, "/api/v1/alerts/rules/cfg-spend", editor, map[string]any{"name": "x"})
		if e.status != 409 || !strings.Contains(e.Error.Message, "config") {
			t.Fatalf("%s config rule: %d %+v", m, e.status, e.Error)
		}
	}
	if e := ta.do("PATCH", "/api/v1/alerts/rules/alr_nope", editor, map[string]any{"name": "x"}); e.status != 404 {
		t.Fatalf("patch unknown: %d", e.status)
	}
	if e := ta.do("GET", "/api/v1/alerts/rules/alr_nope", viewer, nil); e.status != 404 {
		t.Fatalf("get unknown: %d", e.status)
	}
	if e := ta.do("PATCH", "/api/v1/alerts/rules/"+r.ID, viewer, map[string]any{"name": "x"}); e.status != 403 {
		t.Fatalf("viewer patching: %d", e.status)
	}

	// PATCH changes what it names; a new kind drops the old kind's own fields.
	e = ta.do("PATCH", "/api/v1/alerts/rules/"+r.ID, editor, map[string]any{"threshold": "0.1", "enabled": false})
	var p ruleView
	e.decode(t, &p)
	if e.status != 200 || *p.Threshold != "0.1" || p.Enabled || p.Name != "OpenAI errors" || *p.Window != "5m" || p.Severity != "critical" {
		t.Fatalf("patch: %d %+v", e.status, p)
	}
	e = ta.do("PATCH", "/api/v1/alerts/rules/"+r.ID, editor, map[string]any{"kind": "key_invalid"})
	p = ruleView{}
	e.decode(t, &p)
	if e.status != 200 || p.Threshold != nil || p.Window != nil || p.MinCalls != 0 || p.Kind != kindKeyInvalid {
		t.Fatalf("patch kind: %d %+v %+v", e.status, p, e.Error)
	}
	// PUT replaces everything.
	e = ta.do("PUT", "/api/v1/alerts/rules/"+r.ID, editor, map[string]any{"name": "p95", "kind": "latency_p95",
		"threshold": "1500", "window": "10m", "groupBy": []string{"model", "provider"}})
	p = ruleView{}
	e.decode(t, &p)
	if e.status != 200 || p.Name != "p95" || *p.Threshold != "1500" || strings.Join(p.GroupBy, ",") != "provider,model" ||
		p.Severity != "warning" || !p.Enabled || p.CreatedAt == nil || !p.CreatedAt.Equal(*r.CreatedAt) {
		t.Fatalf("put: %d %+v %+v", e.status, p, e.Error)
	}
	// DELETE, then it is gone.
	if e := ta.do("DELETE", "/api/v1/alerts/rules/"+r.ID, editor, nil); e.status != 200 {
		t.Fatalf("delete: %d", e.status)
	}
	if e := ta.do("GET", "/api/v1/alerts/rules/"+r.ID, viewer, nil); e.status != 404 {
		t.Fatalf("deleted rule: %d", e.status)
	}

	// Every bad field is named.
	for _, c := range []struct {
		body   string
		fields []string
	}{
		{`{}`, []string{"name", "kind"}},
		{`{"name":"x","kind":"weather"}`, []string{"kind"}},
		{`{"name":"x","kind":"error_rate","threshold":0.5}`, []string{"window"}},
		{`{"name":"x","kind":"error_rate","threshold":0.5,"window":"0s"}`, []string{"window"}},
		{`{"name":"x","kind":"error_rate","threshold":0.5,"window":"-5m"}`, []string{"window"}},
		{`{"name":"x","kind":"error_rate","threshold":0.5,"window":"soon"}`, []string{"window"}},
		{`{"name":"x","kind":"error_rate","threshold":1.5,"window":"5m"}`, []string{"threshold"}},
		{`{"name":"x","kind":"error_rate","threshold":"ten","window":"5m"}`, []string{"threshold"}},
		{`{"name":"x","kind":"error_rate","threshold":0.5,"window":"5m","minCalls":0}`, []string{"minCalls"}},
		{`{"name":"x","kind":"cost_over_window","threshold":-1,"window":"1h"}`, []string{"threshold"}},
		{`{"name":"x","kind":"cost_over_window","window":"1h"}`, []string{"threshold"}},
		{`{"name":"x","kind":"cost_over_window","threshold":1,"window":"1h","channels":["inapp","pager"]}`, []string{"channels[1]"}},
		{`{"name":"x","kind":"cost_over_window","threshold":1,"window":"1h","message":"{{.Nope}}"}`, []string{"message"}},
		{`{"name":"x","kind":"cost_over_window","threshold":1,"window":"1h","message":"{{.State"}`, []string{"message"}},
		{`{"name":"x","kind":"cost_over_window","threshold":1,"window":"1h","groupBy":["region"]}`, []string{"groupBy[0]"}},
		{`{"name":"x","kind":"cost_over_window","threshold":1,"window":"1h","severity":"urgent"}`, []string{"severity"}},
		{`{"name":"x","kind":"cost_over_window","threshold":1,"window":"1h","for":"-1m"}`, []string{"for"}},
		{`{"name":"x","kind":"cost_over_window","threshold":1,"window":"1h","source":"errors"}`, []string{"source"}},
		{`{"name":"x","kind":"key_invalid","threshold":1}`, []string{"threshold"}},
		{`{"name":"x","kind":"provider_down","scope":{"model":"gpt-4o"},"window":"5m"}`, []string{"scope.model", "window"}},
		{`{"name":"x","kind":"provider_down","threshold":2.5}`, []string{"threshold"}},
		{`{"name":"x","kind":"budget_threshold","budgetId":"bud_missing"}`, []string{"budgetId"}},
		{`{"name":"x","kind":"budget_forecast","scope":{"provider":"openai"},"threshold":0}`, []string{"scope.provider", "threshold"}},
		{`{"name":"x","kind":"anomaly","mode":"weird","window":"5m"}`, []string{"mode"}},
		{`{"name":"x","kind":"anomaly","mode":"spend","window":"48h"}`, []string{"window"}},
		{`{"name":"x","kind":"quota","threshold":1.5}`, []string{"threshold"}},
		{`{"name":"x","kind":"quota","source":"errors"}`, []string{"window"}},
		{`{"name":"x","kind":"quota","threshold":0.1,"groupBy":["model"]}`, []string{"groupBy"}},
		{`{"name":"x","kind":"error_rate","owner":"me"}`, []string{"owner"}},
	} {
		e := ta.do("POST", "/api/v1/alerts/rules", editor, []byte(c.body))
		if e.status != 400 || strings.Join(fieldsOf(e), ",") != strings.Join(c.fields, ",") {
			t.Errorf("%s: %d, fields %v, want %v (%+v)", c.body, e.status, fieldsOf(e), c.fields, e.Error)
		}
	}
}

// --- the evaluator ---

func TestAlertErrorRateLifecycle(t *testing.T) {
	db := freshDB("api_alert_errors")
	hook := alertingtest.NewHookSink(t)
	ta := startAlertAPI(t, db, func(c *Config) {
		c.Alerting.Channels = map[string]notify.ChannelConfig{"hook": hook.Channel()}
		c.Alerting.RenotifyInterval = 10 * time.Minute
		c.Alerting.LinkBaseURL = "https://nexus.example.com/"
	})
	viewer, editor := ta.key("viewer"), ta.key("editor")
	id := ta.createRule(editor, map[string]any{"name": "OpenAI errors", "kind": "error_rate", "scope": map[string]string{"provider": "openai"},
		"threshold": "0.2", "window": "5m", "for": "1m", "minCalls": 5, "severity": "critical", "channels": []string{"inapp", "hook"},
		"message": "{{.Rule}} {{.State}}: {{.Value}} over {{.Threshold}} on {{.Labels.provider}}"})
	sub, _ := ta.api.feed.Subscribe(100, func(e *livefeed.Event) bool { return e.Kind == livefeed.KindAlert }, 0)
	defer sub.Close()

	t0 := time.Now().UTC().Truncate(time.Minute)
	ta.errorsAt(t0.Add(-20*time.Second), "openai", 10, 5)
	ta.errorsAt(t0.Add(-20*time.Second), "exa", 10, 0) // another provider, out of scope
	ta.evalAt(t0)
	if got := states(ta.events("rule="+id), false); got != "pending" {
		t.Fatalf("after crossing: %s", got)
	}
	ta.evalAt(t0.Add(30 * time.Second)) // for not yet elapsed
	ta.errorsAt(t0.Add(50*time.Second), "openai", 5, 5)
	ta.evalAt(t0.Add(time.Minute))
	got := hook.WaitFor(t, 1)
	if got[0].State != "firing" || got[0].RuleID != id || got[0].Severity != "critical" || got[0].Labels["provider"] != "openai" ||
		got[0].Message != "OpenAI errors firing: 66.67% over 20% on openai" || got[0].Value != "66.67%" ||
		!strings.HasPrefix(got[0].Link, "https://nexus.example.com/api/v1/alerts/events/alev_") || got[0].StartsAt == nil ||
		*got[0].StartsAt != t0.Format(time.RFC3339Nano) {
		t.Fatalf("firing notification: %+v", got[0])
	}
	firstKey := got[0].DedupKey
	if firstKey != dedupKey(id, "", stateFiring, t0, 1) || hook.IDs()[0] != firstKey {
		t.Fatalf("dedup key %q (header %q), want %q", firstKey, hook.IDs()[0], dedupKey(id, "", stateFiring, t0, 1))
	}

	// Still erroring: no second notification until the renotify interval.
	ta.evalAt(t0.Add(2 * time.Minute))
	ta.errorsAt(t0.Add(4*time.Minute+30*time.Second), "openai", 10, 10)
	ta.evalAt(t0.Add(5 * time.Minute))
	hook.WaitFor(t, 1)
	ta.errorsAt(t0.Add(10*time.Minute+30*time.Second), "openai", 10, 10)
	ta.evalAt(t0.Add(11 * time.Minute))
	got = hook.WaitFor(t, 2)
	if got[1].State != "firing" || got[1].DedupKey == firstKey || !strings.Contains(got[1].Message, "100%") {
		t.Fatalf("re-notification: %+v", got[1])
	}

	// Acknowledged: no more reminders.
	evs := ta.events("rule=" + id + "&state=firing")
	if len(evs) != 2 || evs[0].Notification != 2 || evs[1].Notification != 1 {
		t.Fatalf("firing events: %+v", evs)
	}
	if e := ta.do("POST", "/api/v1/alerts/events/"+evs[0].ID+"/ack", viewer, nil); e.status != 403 {
		t.Fatalf("viewer ack: %d", e.status)
	}
	e := ta.do("POST", "/api/v1/alerts/events/"+evs[0].ID+"/ack", editor, nil)
	var acked alertEvent
	e.decode(t, &acked)
	if e.status != 200 || acked.AckedAt == nil || !strings.Contains(acked.AckedBy, "editor key") {
		t.Fatalf("ack: %d %+v", e.status, acked)
	}
	if e := ta.do("POST", "/api/v1/alerts/events/"+evs[0].ID+"/ack", editor, nil); e.status != 409 {
		t.Fatalf("second ack: %d", e.status)
	}
	if e := ta.do("POST", "/api/v1/alerts/events/alev_nope/ack", editor, nil); e.status != 404 {
		t.Fatalf("ack unknown: %d", e.status)
	}
	ta.errorsAt(t0.Add(21*time.Minute+30*time.Second), "openai", 10, 10)
	ta.evalAt(t0.Add(22 * time.Minute))
	hook.WaitFor(t, 2)

	// Errors stop: resolved, announced once.
	ta.evalAt(t0.Add(30 * time.Minute))
	got = hook.WaitFor(t, 3)
	if got[2].State != "resolved" || got[2].DedupKey != dedupKey(id, "", stateResolved, t0, 0) || *got[2].StartsAt != *got[0].StartsAt {
		t.Fatalf("resolved: %+v", got[2])
	}
	ta.evalAt(t0.Add(31 * time.Minute))
	hook.WaitFor(t, 3)

	// Events: newest first, every delivery recorded.
	evs = ta.events("rule=" + id)
	if states(evs, false) != "resolved,firing,firing,pending" {
		t.Fatalf("events: %s", states(evs, false))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		e := ta.do("GET", "/api/v1/alerts/events/"+evs[3-1].ID, viewer, nil)
		var first alertEvent
		e.decode(t, &first)
		if len(first.Deliveries) == 2 && first.Deliveries[0].Channel == "hook" && first.Deliveries[0].Status == "sent" &&
			first.Deliveries[0].Attempts == 1 && first.Deliveries[1].Channel == "inapp" && first.Deliveries[1].Status == "sent" {
			if first.DedupKey != firstKey || first.Value.String() != "0.666666666667" || first.Threshold.String() != "0.2" || first.AckedAt != nil {
				t.Fatalf("first firing event: %+v", first)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries never recorded as sent: %+v", first.Deliveries)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if evs[3].Notification != 0 || len(evs[3].Deliveries) != 0 || !strings.HasPrefix(evs[3].Message, "OpenAI errors pending") {
		t.Fatalf("pending event: %+v", evs[3])
	}
	if e := ta.do("POST", "/api/v1/alerts/events/"+evs[0].ID+"/ack", editor, nil); e.status != 409 {
		t.Fatalf("ack of a resolved event: %d", e.status)
	}

	// Filters.
	for q, want := range map[string]int{
		"state=firing": 2, "state=firing,resolved": 3, "severity=critical": 4, "severity=info": 0, "provider=openai": 4,
		"provider=exa": 0, "acked=true": 1, "acked=false": 3, "kind=error_rate": 4, "rule=alr_other": 0,
		"from=" + url.QueryEscape(t0.Add(20*time.Minute).Format(time.RFC3339)) + "&to=" + url.QueryEscape(t0.Add(time.Hour).Format(time.RFC3339)): 1,
	} {
		if got := len(ta.events(q)); got != want {
			t.Errorf("%s: %d events, want %d", q, got, want)
		}
	}
	e = ta.do("GET", "/api/v1/alerts/events?limit=1&page=2&to="+url.QueryEscape(t0.Add(time.Hour).Format(time.RFC3339)), viewer, nil)
	var page2 []alertEvent
	e.decode(t, &page2)
	if e.status != 200 || len(page2) != 1 || page2[0].ID != evs[1].ID || e.Pagination.Total != 4 {
		t.Fatalf("page 2: %d %+v %+v", e.status, page2, e.Pagination)
	}
	for _, q := range []string{"state=gone", "severity=urgent", "acked=maybe", "kind=weather", "from=yesterday"} {
		if e := ta.do("GET", "/api/v1/alerts/events?"+q, viewer, nil); e.status != 400 {
			t.Errorf("%s: %d", q, e.status)
		}
	}

	// Every event went out on the live feed: the in-app channel.
	n := 0
	for {
		select {
		case <-sub.C:
			n++
			continue
		default:
		}
		break
	}
	if n != 4 {
		t.Fatalf("%d alert events on the live feed, want 4", n)
	}
}

func TestAlertBudgets(t *testing.T) {
	db := freshDB("api_alert_budgets")
	ta := startAlertAPI(t, db, nil)
	editor := ta.key("editor")
	e := ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "OpenAI monthly", "scope": map[string]string{"provider": "openai"},
		"period": "monthly", "timezone": "UTC", "amountUsd": "100"})
	if e.status != 201 {
		t.Fatalf("budget: %d %+v", e.status, e.Error)
	}
	b := budgetOf(t, e)
	forecastID := ta.createRule(editor, map[string]any{"name": "OpenAI forecast", "kind": "budget_forecast", "budgetId": b.ID, "channels": []string{"inapp"}})
	thresholdID := ta.createRule(editor, map[string]any{"name": "Budgets", "kind": "budget_threshold", "channels": []string{"inapp"}})

	// The 10th of this month at noon: nine complete days of history and
	// most of the month ahead, whatever day the test runs.
	now := time.Now().UTC()
	clock := time.Date(now.Year(), now.Month(), 10, 12, 0, 0, 0, time.UTC)
	for d := 1; d <= 9; d++ {
		ta.seed(seedCall{At: time.Date(now.Year(), now.Month(), d, 12, 0, 0, 0, time.UTC), Provider: "openai", Model: "gpt-4o", Cost: "4"})
	}
	// $36 spent, $4 a day: the month ends well over $100.
	ta.evalAt(clock)
	if got := states(ta.events("rule="+forecastID), false); got != "firing" {
		t.Fatalf("forecast after 9 days: %s", got)
	}
	if got := ta.events("rule=" + thresholdID); len(got) != 0 {
		t.Fatalf("thresholds at 36%%: %+v", got)
	}
	for i, spend := range []string{"14", "30", "20"} { // 50, 80, 100 %
		at := clock.Add(time.Duration(i+1) * 10 * time.Minute)
		ta.seed(seedCall{At: at.Add(-time.Minute), Provider: "openai", Model: "gpt-4o", Cost: spend})
		ta.evalAt(at)
	}
	ta.evalAt(clock.Add(40 * time.Minute))
	ta.evalAt(clock.Add(50 * time.Minute))

	period := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	base := "budget=" + b.ID + ",period=" + period
	evs := ta.events("rule=" + thresholdID)
	if got := states(evs, true); got != "firing@"+base+",threshold=100,firing@"+base+",threshold=80,firing@"+base+",threshold=50" {
		t.Fatalf("threshold events: %s", got)
	}
	if evs[2].Labels["budget_id"] != b.ID || evs[2].Labels["provider"] != "openai" || evs[2].Value.String() != "50" ||
		evs[2].Threshold.String() != "50" || !strings.Contains(evs[2].Message, `budget "OpenAI monthly": $50.00 of $100.00`) {
		t.Fatalf("50%% event: %+v", evs[2])
	}
	fc := ta.events("rule=" + forecastID)
	if len(fc) != 1 || !fc[0].At.Before(evs[2].At) || fc[0].Threshold.String() != "100" || !fc[0].Value.GreaterThan(decimal.NewFromInt(100)) {
		t.Fatalf("forecast events: %+v", fc)
	}
}

func TestAlertProviderKinds(t *testing.T) {
	db := freshDB("api_alert_providers")
	ta := startAlertAPI(t, db, nil)
	editor := ta.key("editor")
	down := ta.createRule(editor, map[string]any{"name": "down", "kind": "provider_down"})
	keys := ta.createRule(editor, map[string]any{"name": "keys", "kind": "key_invalid"})
	headroom := ta.createRule(editor, map[string]any{"name": "headroom", "kind": "quota", "threshold": 0.1})

	t0 := time.Now().UTC().Truncate(time.Second)
	ta.health(t0.Add(-4*time.Minute), "openai", true, schema.HealthClassOK)
	ta.health(t0.Add(-3*time.Minute), "openai", false, "server_error")
	ta.health(t0.Add(-2*time.Minute), "openai", false, "timeout")
	ta.health(t0.Add(-time.Minute), "apollo", false, "auth_failed")
	ta.gauge(t0.Add(-time.Minute), "openai", schema.GaugeRateLimitLimit, "requests", 100)
	ta.gauge(t0.Add(-time.Minute), "openai", schema.GaugeRateLimitRemaining, "requests", 50)
	ta.gauge(t0.Add(-time.Hour), "exa", schema.GaugeRateLimitLimit, "requests", 100) // stale
	ta.gauge(t0.Add(-time.Hour), "exa", schema.GaugeRateLimitRemaining, "requests", 0)
	ta.evalAt(t0)
	if got := ta.events("rule=" + down); len(got) != 0 {
		t.Fatalf("two failed checks: %+v", got)
	}
	if got := states(ta.events("rule="+keys), true); got != "firing@provider=apollo" {
		t.Fatalf("key_invalid: %s", got)
	}
	ta.health(t0.Add(-time.Second), "openai", false, "timeout")
	ta.gauge(t0.Add(-time.Second), "openai", schema.GaugeRateLimitRemaining, "requests", 5)
	ta.evalAt(t0.Add(time.Second))
	evs := ta.events("rule=" + down)
	if states(evs, true) != "firing@provider=openai" || evs[0].Value.String() != "3" || !strings.Contains(evs[0].Message, "timeout") {
		t.Fatalf("provider_down after 3 failures: %+v", evs)
	}
	evs = ta.events("rule=" + headroom)
	if states(evs, true) != "firing@provider=openai,scope=requests,endpoint=" || evs[0].Value.String() != "0.05" {
		t.Fatalf("headroom: %+v", evs)
	}
	// Recovery resolves.
	ta.health(t0.Add(2*time.Second), "openai", true, schema.HealthClassOK)
	ta.health(t0.Add(2*time.Second), "apollo", true, schema.HealthClassOK)
	ta.evalAt(t0.Add(3 * time.Second))
	if got := states(ta.events("rule="+down), false) + " " + states(ta.events("rule="+keys), false); got != "resolved,firing resolved,firing" {
		t.Fatalf("after recovery: %s", got)
	}
}

func TestAlertCallKinds(t *testing.T) {
	db := freshDB("api_alert_calls")
	ta := startAlertAPI(t, db, nil)
	editor := ta.key("editor")
	cost := ta.createRule(editor, map[string]any{"name": "cost", "kind": "cost_over_window", "threshold": "1.5", "window": "10m", "groupBy": []string{"provider"}})
	latency := ta.createRule(editor, map[string]any{"name": "p95", "kind": "latency_p95", "threshold": 500, "window": "10m", "minCalls": 3})
	quota := ta.createRule(editor, map[string]any{"name": "429s", "kind": "quota", "source": "errors", "threshold": 2, "window": "10m", "groupBy": []string{"model"}})
	share := ta.createRule(editor, map[string]any{"name": "anomalies", "kind": "anomaly", "threshold": 0.25, "window": "10m", "minCalls": 4})
	count := ta.createRule(editor, map[string]any{"name": "anomaly count", "kind": "anomaly", "mode": "count", "threshold": 2, "window": "10m"})
	spike := ta.createRule(editor, map[string]any{"name": "spend spike", "kind": "anomaly", "mode": "spend", "threshold": 3, "window": "1h",
		"scope": map[string]string{"provider": "openai"}})
	unpriced := ta.createRule(editor, map[string]any{"name": "unpriced", "kind": "unpriced", "threshold": 2, "window": "10m", "groupBy": []string{"model"}})

	t0 := time.Now().UTC().Truncate(time.Minute)
	at := t0.Add(-2 * time.Minute)
	// Baseline: $1 in the same hour on each of the last 7 days.
	for d := 1; d <= 7; d++ {
		ta.seed(seedCall{At: at.Add(-time.Duration(d) * 24 * time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "1"})
	}
	ta.seed(
		seedCall{At: at, Provider: "openai", Model: "gpt-4o", Cost: "1", Duration: 900 * time.Millisecond},
		seedCall{At: at, Provider: "openai", Model: "gpt-4o", Cost: "1", Duration: 900 * time.Millisecond, Anomaly: true},
		seedCall{At: at, Provider: "openai", Model: "gpt-4o", Cost: "2", Duration: 900 * time.Millisecond, Anomaly: true},
		seedCall{At: at, Provider: "exa", Model: "search", Cost: "0.5", Duration: 900 * time.Millisecond},
		seedCall{At: at, Provider: "openai", Model: "gpt-4o-mini", Status: "error", ErrorClass: "rate_limited"},
		seedCall{At: at, Provider: "openai", Model: "gpt-4o-mini", Status: "error", ErrorClass: "quota_exhausted"},
		seedCall{At: at, Provider: "openai", Model: "gpt-4o", Status: "error", ErrorClass: "rate_limited"},
	)
	ta.evalAt(t0)
	for rule, want := range map[string]string{
		cost:    "firing@provider=openai",   // $4 > $1.5; exa's $0.5 is not
		latency: "firing@",                  // p95 900 ms
		quota:   "firing@model=gpt-4o-mini", // 2 ≥ 2; gpt-4o has 1
		share:   "firing@",                  // 2 of 7
		count:   "firing@",                  // 2 ≥ 2
		spike:   "firing@",                  // $4 vs a $1 mean
		// The three failed calls carry no cost: unpriced.
		unpriced: "firing@model=gpt-4o-mini", // 2 ≥ 2; gpt-4o has 1
	} {
		if got := states(ta.events("rule="+rule), true); got != want {
			t.Errorf("rule %s: %s, want %s", rule, got, want)
		}
	}
	evs := ta.events("rule=" + spike)
	if len(evs) == 1 && (evs[0].Value.String() != "4" || evs[0].Threshold.String() != "3") {
		t.Errorf("spend spike: value %s threshold %s", evs[0].Value, evs[0].Threshold)
	}
	evs = ta.events("rule=" + latency)
	if len(evs) == 1 && (evs[0].Value.LessThan(decimal.NewFromInt(800)) || !strings.Contains(evs[0].Message, "p95 latency")) {
		t.Errorf("latency: %+v", evs[0])
	}
	// Out of the window, everything resolves.
	ta.evalAt(t0.Add(2 * time.Hour))
	if got := len(ta.events("state=resolved")); got != 7 {
		t.Fatalf("%d resolved, want 7", got)
	}
}

func TestConfigAlerting(t *testing.T) {
	load := func(name string) (*Config, error) { return configtest.Load[*Config](t, NewFactory(), name) }
	cfg, err := load("")
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Alerting; !a.Evaluate || a.Interval != 10*time.Second || a.RenotifyInterval != 4*time.Hour || len(a.Rules) != 0 {
		t.Fatalf("defaults: %+v", a)
	}
	cfg, err = load("alerting")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := cfg.Alerting.BuildRules("alerting.")
	if err != nil || len(rules) != 5 {
		t.Fatalf("rules: %v %d", err, len(rules))
	}
	r := rules[0]
	if r.ID != "openai-errors" || r.Origin != originConfig || r.Threshold.String() != "0.05" || r.Window != 5*time.Minute ||
		r.For != 2*time.Minute || r.MinCalls != 20 || r.Scope.Environment != "prod" || !r.HasTemplate() ||
		strings.Join(r.Channels, ",") != "ops-hook,inapp" || !r.Enabled || rules[4].Enabled || rules[3].Threshold.String() != "3" {
		t.Fatalf("first rule: %+v", r)
	}
	_, err = load("bad_alerting")
	if err == nil {
		t.Fatal("bad alerting config accepted")
	}
	for _, want := range []string{
		"alerting.interval: must be at least 1s",
		"alerting.renotify_interval: must not be negative",
		"alerting.link_base_url: must be an http(s) URL",
		"webhook.endpoint: required",
		"alerting.channels.inapp: the name inapp is the in-app channel",
		`alerting.rules[1].id: "ok" is also the id of alerting.rules[0]`,
		"alerting.rules[1].threshold: not used by key_invalid rules",
		"alerting.rules[2].id: the prefix alr_ is reserved",
		"alerting.rules[2].window: must be a duration from 1m",
		"alerting.rules[2].min_calls: not used by cost_over_window rules",
		`alerting.rules[2].channels[1]: unknown channel "ops"`,
		"alerting.rules[2].message: invalid template",
		"alerting.rules[3].id: required",
		"alerting.rules[3].kind: must be one of",
	} {
		if strings.Count(err.Error(), want) != 1 {
			t.Errorf("error does not say %q once:\n%v", want, err)
		}
	}
}

package nexusapiextension

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/spend"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// tenantKey creates tenant (when new) as the installation admin, and a key
// of role in it, and returns the key's secret and id.
func (ta *testAPI) tenantKey(tenant, role string) (string, string) {
	ta.t.Helper()
	if e := ta.do("GET", "/api/v1/tenants/"+tenant, ta.admin, nil); e.status == 404 {
		if e := ta.do("POST", "/api/v1/tenants", ta.admin, map[string]string{"id": tenant, "name": strings.ToUpper(tenant)}); e.status != 201 {
			ta.t.Fatalf("create tenant %s: %d %+v", tenant, e.status, e.Error)
		}
	}
	e := ta.do("POST", "/api/v1/keys", ta.admin, map[string]string{"name": tenant + " " + role, "role": role, "tenant": tenant})
	if e.status != 201 {
		ta.t.Fatalf("create %s key of %s: %d %+v", role, tenant, e.status, e.Error)
	}
	var k struct {
		ID     string `json:"id"`
		Key    string `json:"key"`
		Tenant string `json:"tenant"`
	}
	e.decode(ta.t, &k)
	if k.Tenant != tenant {
		ta.t.Fatalf("key of %s made in %q", tenant, k.Tenant)
	}
	return k.Key, k.ID
}

// idOf is the id in an answer's data.
func idOf(t *testing.T, e envelope) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	e.decode(t, &v)
	return v.ID
}

// Two tenants share one installation: each key sees its own tenant's
// costs (to the cent), calls, budgets, rules, events, stream and keys, and
// another tenant's ids are as missing as ids that never existed.
func TestTenantIsolation(t *testing.T) {
	ta := startAlertAPI(t, freshDB("api_tenancy"), nil)
	aKey := ta.key("editor") // the default tenant's
	bKey, bKeyID := ta.tenantKey("beta", "admin")
	now := time.Now().UTC().Truncate(time.Second)
	ta.seed(
		seedCall{At: now.Add(-30 * time.Minute), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "1.25"},
		seedCall{At: now.Add(-20 * time.Minute), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "1.26"},
		seedCall{At: now.Add(-25 * time.Minute), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "7.10", Tenant: "beta"},
		seedCall{At: now.Add(-24 * time.Minute), Provider: "exa", Operation: "search", Cost: "0.01", Tenant: "beta"},
	)
	window := "from=" + url.QueryEscape(now.Add(-2*time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Add(time.Minute).Format(time.RFC3339))

	// Costs, to the cent, and the calls behind them.
	total := func(key string) (string, uint64) {
		e := ta.do("GET", "/api/v1/costs/summary?"+window, key, nil)
		if e.status != 200 {
			t.Fatalf("summary: %d %+v", e.status, e.Error)
		}
		var groups []spend.CostGroup
		e.decode(t, &groups)
		var parts []string
		var calls uint64
		for _, g := range groups {
			parts = append(parts, g.Group+"="+g.Cost)
			calls += g.Calls
		}
		return strings.Join(parts, ","), calls
	}
	if got, n := total(aKey); got != "openai=2.51" || n != 2 {
		t.Fatalf("default tenant's costs: %s (%d calls)", got, n)
	}
	if got, n := total(bKey); got != "openai=7.1,exa=0.01" || n != 2 {
		t.Fatalf("beta's costs: %s (%d calls)", got, n)
	}
	for key, want := range map[string]int{aKey: 2, bKey: 2} {
		e := ta.do("GET", "/api/v1/calls?"+window, key, nil)
		var calls []struct {
			CostUSD *string `json:"costUsd"`
		}
		e.decode(t, &calls)
		if e.status != 200 || len(calls) != want || e.Pagination.Total != int64(want) {
			t.Fatalf("calls: %d %d", e.status, len(calls))
		}
		for _, c := range calls {
			if c.CostUSD == nil || (key == aKey) != strings.HasPrefix(*c.CostUSD, "1.2") {
				t.Fatalf("a call of the wrong tenant: %v", *c.CostUSD)
			}
		}
	}

	// Budgets: beta's is not there for the default tenant, whatever the verb.
	e := ta.do("POST", "/api/v1/budgets", bKey, map[string]any{"name": "Beta monthly", "period": "monthly", "amountUsd": "100"})
	if e.status != 201 {
		t.Fatalf("beta budget: %d %+v", e.status, e.Error)
	}
	bBudget := idOf(t, e)
	// The same name in another tenant is another budget.
	if e := ta.do("POST", "/api/v1/budgets", aKey, map[string]any{"name": "Beta monthly", "period": "monthly", "amountUsd": "1"}); e.status != 201 {
		t.Fatalf("same name in the default tenant: %d %+v", e.status, e.Error)
	}
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/budgets/" + bBudget, nil},
		{"GET", "/api/v1/budgets/" + bBudget + "/status", nil},
		{"PUT", "/api/v1/budgets/" + bBudget, map[string]any{"name": "Mine", "period": "daily", "amountUsd": "1"}},
		{"PATCH", "/api/v1/budgets/" + bBudget, map[string]any{"amountUsd": "1"}},
		{"DELETE", "/api/v1/budgets/" + bBudget, nil},
	} {
		if e := ta.do(req.method, req.path, aKey, req.body); e.status != 404 {
			t.Fatalf("%s %s as the default tenant: %d", req.method, req.path, e.status)
		}
	}
	if e := ta.do("GET", "/api/v1/budgets/"+bBudget+"/status", bKey, nil); e.status != 200 {
		t.Fatalf("beta's own budget status: %d %+v", e.status, e.Error)
	} else if st := (spend.BudgetStatus{}); true {
		e.decode(t, &st)
		if st.Spent != "7.11" {
			t.Fatalf("beta's budget counts %s", st.Spent)
		}
	}
	var budgets []spend.Budget
	ta.do("GET", "/api/v1/budgets", aKey, nil).decode(t, &budgets)
	if len(budgets) != 1 || budgets[0].ID == bBudget {
		t.Fatalf("the default tenant's budgets: %+v", budgets)
	}

	// Rules and their events: each tenant's rule measures its own calls.
	rule := map[string]any{"name": "Spend over $5", "kind": "cost_over_window", "threshold": "5", "window": "1h", "channels": []string{"inapp"}}
	bRule := ta.createRule(bKey, rule)
	aRule := ta.createRule(aKey, rule)
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/alerts/rules/" + bRule, nil},
		{"PATCH", "/api/v1/alerts/rules/" + bRule, map[string]any{"threshold": "1"}},
		{"PUT", "/api/v1/alerts/rules/" + bRule, rule},
		{"DELETE", "/api/v1/alerts/rules/" + bRule, nil},
	} {
		if e := ta.do(req.method, req.path, aKey, req.body); e.status != 404 {
			t.Fatalf("%s %s as the default tenant: %d", req.method, req.path, e.status)
		}
	}
	var rules []ruleView
	ta.do("GET", "/api/v1/alerts/rules", aKey, nil).decode(t, &rules)
	if len(rules) != 1 || rules[0].ID != aRule {
		t.Fatalf("the default tenant's rules: %+v", rules)
	}

	// The default tenant watches its stream while beta's rule fires.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, frames := ta.openStream(ctx, "", aKey, nil)
	waitSubscribed(t, ta.api.feed)
	ta.evalAt(now)
	eventsOf := func(key string) []alertEvent {
		e := ta.do("GET", "/api/v1/alerts/events?limit=100&"+window, key, nil)
		if e.status != 200 {
			t.Fatalf("events: %d %+v", e.status, e.Error)
		}
		var out []alertEvent
		e.decode(t, &out)
		return out
	}
	bEvents := eventsOf(bKey)
	if len(bEvents) != 1 || bEvents[0].RuleID != bRule || bEvents[0].State != stateFiring || bEvents[0].Value.String() != "7.11" {
		t.Fatalf("beta's events: %+v", bEvents)
	}
	if got := eventsOf(aKey); len(got) != 0 {
		t.Fatalf("the default tenant's events ($2.51 < $5): %+v", got)
	}
	for _, req := range []struct{ method, path string }{
		{"GET", "/api/v1/alerts/events/" + bEvents[0].ID},
		{"POST", "/api/v1/alerts/events/" + bEvents[0].ID + "/ack"},
	} {
		if e := ta.do(req.method, req.path, aKey, nil); e.status != 404 {
			t.Fatalf("%s %s as the default tenant: %d", req.method, req.path, e.status)
		}
	}
	if e := ta.do("POST", "/api/v1/alerts/events/"+bEvents[0].ID+"/ack", bKey, nil); e.status != 200 {
		t.Fatalf("beta acknowledges its own event: %d %+v", e.status, e.Error)
	}
	// Neither beta's alert nor beta's call reaches the default tenant's
	// stream; its own call does, and is the first thing it gets.
	ta.api.feed.Publish(livefeed.CallEvent(&livefeed.Call{Tenant: "beta", Provider: "openai", Model: "beta-secret"}))
	ta.api.feed.Publish(livefeed.CallEvent(&livefeed.Call{Provider: "openai", Model: "mine"}))
	ev := nextEvent(t, frames)
	var c livefeed.Call
	if err := json.Unmarshal([]byte(ev.Data), &c); err != nil || ev.Event != "call" || c.Model != "mine" {
		t.Fatalf("the default tenant's stream got %+v", ev)
	}

	// Keys: each tenant lists and revokes only its own.
	var keys []apiKey
	ta.do("GET", "/api/v1/keys", ta.admin, nil).decode(t, &keys)
	for _, k := range keys {
		if k.Tenant != "default" || k.ID == bKeyID {
			t.Fatalf("the default tenant lists %+v", k)
		}
	}
	ta.do("GET", "/api/v1/keys", bKey, nil).decode(t, &keys)
	if len(keys) != 1 || keys[0].ID != bKeyID {
		t.Fatalf("beta's keys: %+v", keys)
	}
	if e := ta.do("DELETE", "/api/v1/keys/"+bKeyID, ta.admin, nil); e.status != 404 {
		t.Fatalf("the default tenant revoked beta's key: %d", e.status)
	}

	// Only installation admins manage tenants or make keys elsewhere.
	aAdmin := ta.key("admin")
	for _, key := range []string{bKey, aAdmin, aKey} {
		if e := ta.do("GET", "/api/v1/tenants", key, nil); e.status != 403 {
			t.Fatalf("tenants for a key that is no installation admin: %d", e.status)
		}
		if e := ta.do("POST", "/api/v1/tenants", key, map[string]string{"id": "gamma", "name": "G"}); e.status != 403 {
			t.Fatalf("create tenant for a key that is no installation admin: %d", e.status)
		}
	}
	for _, body := range []map[string]any{
		{"name": "x", "role": "admin", "tenant": "default"},
		{"name": "x", "role": "admin", "installationAdmin": true},
	} {
		if e := ta.do("POST", "/api/v1/keys", bKey, body); e.status != 403 {
			t.Fatalf("beta's admin created %v: %d", body, e.status)
		}
	}
	if e := ta.do("POST", "/api/v1/keys", ta.admin, map[string]any{"name": "x", "role": "viewer", "tenant": "nowhere"}); e.status != 400 {
		t.Fatalf("a key of a missing tenant: %d", e.status)
	}

	// Deleting beta ends its keys; the default tenant cannot be deleted.
	if e := ta.do("DELETE", "/api/v1/tenants/default", ta.admin, nil); e.status != 409 {
		t.Fatalf("delete the default tenant: %d", e.status)
	}
	if e := ta.do("DELETE", "/api/v1/tenants/beta", ta.admin, nil); e.status != 200 {
		t.Fatalf("delete beta: %d %+v", e.status, e.Error)
	}
	if e := ta.do("GET", "/api/v1/budgets", bKey, nil); e.status != 401 {
		t.Fatalf("a deleted tenant's key still works: %d", e.status)
	}
}

// "Customer acme may spend $50 a month": the budget counts acme's calls
// only, and its threshold rule fires as acme's spend crosses them.
func TestCustomerBudgetAlert(t *testing.T) {
	ta := startAlertAPI(t, freshDB("api_customer_budget"), nil)
	editor := ta.key("editor")
	e := ta.do("POST", "/api/v1/budgets", editor, map[string]any{"name": "acme monthly", "scope": map[string]any{"customer": "acme"},
		"period": "monthly", "timezone": "UTC", "amountUsd": "50"})
	if e.status != 201 {
		t.Fatalf("budget: %d %+v", e.status, e.Error)
	}
	b := budgetOf(t, e)
	if b.Scope.Customer != "acme" {
		t.Fatalf("budget scope %+v", b.Scope)
	}
	rule := ta.createRule(editor, map[string]any{"name": "acme budget", "kind": "budget_threshold", "budgetId": b.ID, "channels": []string{"inapp"}})

	now := time.Now().UTC()
	clock := time.Date(now.Year(), now.Month(), 10, 12, 0, 0, 0, time.UTC)
	ta.seed(
		seedCall{At: clock.Add(-48 * time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "20", Customer: "acme"},
		seedCall{At: clock.Add(-24 * time.Hour), Provider: "anthropic", Model: "claude", Cost: "7.5", Customer: "acme"},
		// Not acme's: another customer, none, another tenant's acme.
		seedCall{At: clock.Add(-24 * time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "400", Customer: "globex"},
		seedCall{At: clock.Add(-24 * time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "300"},
		seedCall{At: clock.Add(-24 * time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "200", Customer: "acme", Tenant: "beta"},
	)
	ta.evalAt(clock)
	evs := ta.events("rule=" + rule)
	period := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	base := "budget=" + b.ID + ",period=" + period
	if got := states(evs, true); got != "firing@"+base+",threshold=50" {
		t.Fatalf("at $27.50 of $50: %s", got)
	}
	if evs[0].Labels["customer"] != "acme" || evs[0].Value.String() != "55" {
		t.Fatalf("event %+v", evs[0])
	}
	ta.seed(seedCall{At: clock.Add(-time.Hour), Provider: "openai", Model: "gpt-4o", Cost: "22.5", Customer: "acme"})
	ta.evalAt(clock.Add(time.Minute))
	// 80 and 100 cross in one evaluation: their order is the ids'.
	var got []string
	for _, e := range ta.events("rule=" + rule) {
		got = append(got, e.State+"@"+e.Instance)
	}
	slices.Sort(got)
	if want := []string{"firing@" + base + ",threshold=100", "firing@" + base + ",threshold=50", "firing@" + base + ",threshold=80"}; !slices.Equal(got, want) {
		t.Fatalf("at $50 of $50: %v", got)
	}
}

// Rules scoped and grouped by the attribution dimensions read the raw
// calls they name: per customer, a tag, errors of one customer, and the
// per-rule instance cap still holds.
func TestRuleAttributionScope(t *testing.T) {
	ta := startAlertAPI(t, freshDB("api_rule_dims"), func(c *Config) { c.Alerting.MaxInstancesPerRule = 2 })
	editor := ta.key("editor")
	now := time.Now().UTC().Truncate(time.Second)
	at := now.Add(-10 * time.Minute)
	ta.seed(
		seedCall{At: at, Provider: "openai", Model: "gpt-4o", Cost: "6", Customer: "acme", User: "u1"},
		seedCall{At: at, Provider: "openai", Model: "gpt-4o", Cost: "3", Customer: "globex", User: "u2", Tags: map[string]string{"release": "canary"}},
		seedCall{At: at, Provider: "openai", Model: "gpt-4o", Cost: "1.5", Tags: map[string]string{"release": "canary"}, User: "u3", Team: "search"},
		seedCall{At: at, Provider: "openai", Model: "gpt-4o", Cost: "7", Customer: "acme", Tenant: "beta", User: "u4"},
	)
	errs := storetest.ErrorCalls(at, "openai", 10, 4)
	for i := range errs {
		errs[i].Customer = "initech"
	}
	ta.seed(errs...)

	perCustomer := ta.createRule(editor, map[string]any{"name": "per customer", "kind": "cost_over_window", "threshold": "5",
		"window": "1h", "groupBy": []string{"customer"}, "channels": []string{"inapp"}})
	canary := ta.createRule(editor, map[string]any{"name": "canary", "kind": "cost_over_window", "threshold": "4",
		"window": "1h", "scope": map[string]any{"tag": map[string]string{"key": "release", "value": "canary"}}, "channels": []string{"inapp"}})
	team := ta.createRule(editor, map[string]any{"name": "search team", "kind": "cost_over_window", "threshold": "1",
		"window": "1h", "scope": map[string]any{"team": "search"}, "channels": []string{"inapp"}})
	initech := ta.createRule(editor, map[string]any{"name": "initech errors", "kind": "error_rate", "threshold": "0.3",
		"window": "1h", "scope": map[string]any{"customer": "initech"}, "channels": []string{"inapp"}})
	perRelease := ta.createRule(editor, map[string]any{"name": "per release", "kind": "cost_over_window", "threshold": "4",
		"window": "1h", "groupBy": []string{"tag.release"}, "channels": []string{"inapp"}})
	perUser := ta.createRule(editor, map[string]any{"name": "per user", "kind": "cost_over_window", "threshold": "0.001",
		"window": "1h", "groupBy": []string{"user"}, "channels": []string{"inapp"}})
	for _, bad := range []map[string]any{
		{"name": "x", "kind": "cost_over_window", "threshold": "1", "window": "1h", "scope": map[string]any{"tag": map[string]string{"value": "v"}}},
		{"name": "x", "kind": "provider_down", "scope": map[string]any{"customer": "acme"}},
		{"name": "x", "kind": "cost_over_window", "threshold": "1", "window": "1h", "groupBy": []string{"tags"}},
	} {
		if e := ta.do("POST", "/api/v1/alerts/rules", editor, bad); e.status != 400 {
			t.Fatalf("rule %v: %d", bad, e.status)
		}
	}
	var view ruleView
	ta.do("GET", "/api/v1/alerts/rules/"+canary, editor, nil).decode(t, &view)
	if view.Scope.Tag == nil || view.Scope.Tag.Key != "release" || view.Scope.Tag.Value != "canary" {
		t.Fatalf("stored tag scope %+v", view.Scope)
	}

	ta.evalAt(now)
	if evs := ta.events("rule=" + perCustomer); states(evs, true) != "firing@customer=acme" || evs[0].Value.String() != "6" {
		t.Fatalf("per customer: %s", states(evs, true))
	}
	if evs := ta.events("rule=" + canary); states(evs, false) != "firing" || evs[0].Value.String() != "4.5" || evs[0].Labels["tag.release"] != "canary" {
		t.Fatalf("canary: %+v", evs)
	}
	if evs := ta.events("rule=" + team); states(evs, false) != "firing" || evs[0].Value.String() != "1.5" {
		t.Fatalf("search team: %+v", evs)
	}
	if evs := ta.events("rule=" + initech); states(evs, false) != "firing" || evs[0].Value.String() != "0.4" {
		t.Fatalf("initech errors: %+v", evs)
	}
	var releases []string
	for _, e := range ta.events("rule=" + perRelease) {
		releases = append(releases, e.Instance+"="+e.Value.String())
	}
	slices.Sort(releases)
	if strings.Join(releases, " ") != "tag.release==6.1 tag.release=canary=4.5" {
		t.Fatalf("per release: %v", releases)
	}
	// u1, u2, u3 and the calls without a user breach; beta's u4 is not
	// this tenant's. Two instances alert, the rest are one overflow.
	var got []string
	for _, e := range ta.events("rule=" + perUser) {
		got = append(got, e.Instance)
	}
	slices.Sort(got)
	if strings.Join(got, " ") != "overflow user= user=u1" {
		t.Fatalf("per user, capped at 2: %v", got)
	}
}

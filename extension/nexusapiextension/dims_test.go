package nexusapiextension

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/budgetevents"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/privacy"
)

// dimsAPI is an API over calls of customers acme and beta, users u1–u3,
// teams and a tag, on two whole UTC days and the partial day before.
func dimsAPI(t *testing.T) (*testAPI, time.Time) {
	ta := startAPI(t, freshDB("api_dims"), nil)
	d := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -5)
	prod := map[string]string{"env": "prod"}
	ta.seed(
		seedCall{At: d.Add(time.Hour), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "0.10", Customer: "acme", User: "u1", Team: "search", Feature: "answer", Tags: prod},
		seedCall{At: d.Add(2 * time.Hour), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "0.20", Customer: "acme", User: "u1", Team: "search", Status: "error"},
		seedCall{At: d.Add(25 * time.Hour), Provider: "anthropic", Model: "claude", Operation: "chat", Cost: "1.05", Customer: "beta", User: "u2", Team: "billing", Tags: prod},
		seedCall{At: d.Add(-3 * time.Hour), Provider: "openai", Model: "gpt-4o", Operation: "chat", Cost: "0.005", Customer: "acme", User: "u3", Team: "search"},
	)
	return ta, d
}

func (ta *testAPI) get(path string, q url.Values) envelope {
	ta.t.Helper()
	return ta.do("GET", path+"?"+q.Encode(), ta.admin, nil)
}

func TestAttributionFilters(t *testing.T) {
	ta, d := dimsAPI(t)
	rng := url.Values{"from": {d.Add(-12 * time.Hour).Format(time.RFC3339)}, "to": {d.Add(48 * time.Hour).Format(time.RFC3339)}}
	with := func(kv ...string) url.Values {
		q := url.Values{}
		for k, v := range rng {
			q[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	var groups []struct {
		Group string `json:"group"`
		Cost  string `json:"cost"`
		Calls uint64 `json:"calls"`
	}
	summary := func(q url.Values) map[string]string {
		t.Helper()
		e := ta.get("/api/v1/costs/summary", q)
		if e.status != 200 {
			t.Fatalf("summary %v: %d %+v", q, e.status, e.Error)
		}
		e.decode(t, &groups)
		out := map[string]string{}
		for _, g := range groups {
			out[g.Group] = g.Cost
		}
		return out
	}
	cases := []struct {
		q    url.Values
		want map[string]string
	}{
		{with("customer", "acme"), map[string]string{"openai": "0.305"}},
		{with("groupBy", "customer"), map[string]string{"acme": "0.305", "beta": "1.05"}},
		{with("groupBy", "user", "customer", "acme"), map[string]string{"u1": "0.3", "u3": "0.005"}},
		{with("groupBy", "team"), map[string]string{"search": "0.305", "billing": "1.05"}},
		{with("feature", "answer"), map[string]string{"openai": "0.1"}},
		{with("groupBy", "tag.env"), map[string]string{"prod": "1.15"}},
		{with("tag.env", "prod", "groupBy", "model"), map[string]string{"gpt-4o": "0.1", "claude": "1.05"}},
		{with("customer", "nobody"), map[string]string{}},
	}
	for _, c := range cases {
		if got := summary(c.q); !mapsEqual(got, c.want) {
			t.Errorf("summary %v: %v, want %v", c.q, got, c.want)
		}
	}

	// A series per tag value, from the tag rollup's days.
	e := ta.get("/api/v1/costs/timeseries", with("groupBy", "tag.env", "step", "1d"))
	var ts struct {
		Series []struct {
			Group  *string `json:"group"`
			Cost   string  `json:"cost"`
			Points []struct {
				Cost string `json:"cost"`
			} `json:"points"`
		} `json:"series"`
	}
	e.decode(t, &ts)
	if e.status != 200 || len(ts.Series) != 1 || *ts.Series[0].Group != "prod" || ts.Series[0].Cost != "1.15" ||
		len(ts.Series[0].Points) != 3 || ts.Series[0].Points[2].Cost != "1.05" {
		t.Errorf("series by tag: %d %+v", e.status, ts)
	}

	// Stats by user read the user rollup for the whole days.
	e = ta.get("/api/v1/calls/stats", with("groupBy", "user"))
	var st struct {
		Source string `json:"source"`
		Groups []struct {
			Group   string `json:"group"`
			Count   uint64 `json:"count"`
			CostUSD string `json:"costUsd"`
		} `json:"groups"`
	}
	e.decode(t, &st)
	if e.status != 200 || st.Source != "rollup_user_1d" || len(st.Groups) != 3 || st.Groups[0].Group != "u1" || st.Groups[0].Count != 2 || st.Groups[0].CostUSD != "0.3" {
		t.Errorf("stats by user: %d %+v", e.status, st)
	}
	// The calls list filters raw calls by any dimension.
	e = ta.get("/api/v1/calls", with("user", "u1", "tag.env", "prod"))
	var calls []map[string]any
	e.decode(t, &calls)
	if len(calls) != 1 || calls[0]["costUsd"] != "0.1" {
		t.Errorf("calls of u1 tagged prod: %v", calls)
	}

	// Hostile or unknown dimensions are named, never ignored.
	bad := []struct {
		path string
		q    url.Values
		want []string
	}{
		{"/api/v1/costs/summary", with("groupBy", "colour"), []string{"groupBy"}},
		{"/api/v1/costs/summary", with("groupBy", "tag.bad name!"), []string{"groupBy"}},
		{"/api/v1/costs/summary", with("tag.", "x"), []string{"tag."}},
		{"/api/v1/costs/summary", with("tag.a", "1", "tag.b", "2"), []string{"tag.b"}},
		{"/api/v1/costs/summary", with("tag.a", ""), []string{"tag.a"}},
		{"/api/v1/costs/summary", with("customer", strings.Repeat("x", 201)), []string{"customer"}},
		{"/api/v1/calls/stats", with("groupBy", "day"), []string{"groupBy"}},
		{"/api/v1/costs/reconciliation", with("customer", "acme"), []string{"customer"}},
		{"/api/v1/alerts/events", with("tag.env", "prod"), []string{"tag.env"}},
		{"/api/v1/stream", with("tag.env", "prod"), []string{"tag.env"}},
	}
	for _, b := range bad {
		e := ta.get(b.path, b.q)
		if got := fieldsOf(e); e.status != 400 || !slices.Equal(got, b.want) {
			t.Errorf("%s %v: %d %v, want 400 naming %v", b.path, b.q, e.status, got, b.want)
		}
	}
}

func TestMetricsResource(t *testing.T) {
	ta, d := dimsAPI(t)
	q := url.Values{"from": {d.Add(-12 * time.Hour).Format(time.RFC3339)}, "to": {d.Add(48 * time.Hour).Format(time.RFC3339)},
		"groupBy": {"customer,team"}, "metrics": {"cost,calls,error_rate"}, "top": {"1"}, "sort": {"calls"}, "step": {"1d"}}
	e := ta.get("/api/v1/metrics", q)
	var res struct {
		Source    string `json:"source"`
		Truncated bool   `json:"truncated"`
		Rows      []struct {
			Group  map[string]string `json:"group"`
			Values map[string]any    `json:"values"`
			Points []struct {
				TS     string         `json:"ts"`
				Values map[string]any `json:"values"`
			} `json:"points"`
		} `json:"rows"`
	}
	e.decode(t, &res)
	if e.status != 200 || res.Source != "api_calls_customer_1d" || !res.Truncated || len(res.Rows) != 1 {
		t.Fatalf("%d %+v %+v", e.status, res, e.Error)
	}
	r := res.Rows[0]
	if r.Group["customer"] != "acme" || r.Group["team"] != "search" || r.Values["cost"] != "0.305" || r.Values["calls"] != 3.0 ||
		r.Values["error_rate"] != 1.0/3 || len(r.Points) != 3 || r.Points[1].Values["cost"] != "0.3" {
		t.Errorf("row %+v", r)
	}
	e = ta.get("/api/v1/metrics", url.Values{"groupBy": {"a,b,c"}, "metrics": {"joy"}, "top": {"0"}})
	if got := fieldsOf(e); e.status != 400 || !slices.Equal(got, []string{"top", "metrics", "groupBy", "groupBy", "groupBy", "groupBy"}) {
		t.Errorf("bad query: %d %v", e.status, got)
	}
}

func TestPersonalData(t *testing.T) {
	ta, _ := dimsAPI(t)
	if e := ta.do("DELETE", "/api/v1/personal-data?user=u1", ta.key(roleEditor), nil); e.status != 403 {
		t.Errorf("editor deletes: %d", e.status)
	}
	for _, q := range []string{"", "?user=", "?user=u1&customer=acme"} {
		if e := ta.do("DELETE", "/api/v1/personal-data"+q, ta.admin, nil); e.status != 400 {
			t.Errorf("DELETE %q: %d", q, e.status)
		}
	}
	// Two of u1's calls the proxy warned about.
	if err := budgetevents.Write(context.Background(), ta.store, []budgetevents.Event{
		{At: time.Now().Add(-time.Hour), BudgetID: "bud_1", Action: budgetevents.Warn, Provider: "openai", User: "u1"},
		{At: time.Now().Add(-time.Minute), BudgetID: "bud_1", Action: budgetevents.Warn, Provider: "openai", User: "u1"},
	}); err != nil {
		t.Fatal(err)
	}
	e := ta.do("GET", "/api/v1/personal-data?user=u1", ta.admin, nil)
	var exp struct {
		User   string                      `json:"user"`
		Tables map[string][]map[string]any `json:"tables"`
	}
	e.decode(t, &exp)
	if e.status != 200 || exp.User != "u1" || len(exp.Tables["api_calls"]) != 2 || len(exp.Tables["api_calls_user_1h"]) != 2 ||
		len(exp.Tables["api_calls_user_1d"]) != 2 || len(exp.Tables["budget_events"]) != 2 {
		t.Fatalf("export: %d %+v", e.status, exp)
	}
	e = ta.do("DELETE", "/api/v1/personal-data?user=u1", ta.admin, nil)
	var del privacy.Deletion
	e.decode(t, &del)
	if e.status != 200 || len(del.Tables) != 5 {
		t.Fatalf("delete: %d %+v", e.status, del)
	}
	for _, tc := range del.Tables {
		if tc.Before != 2 || tc.After != 0 {
			t.Errorf("delete: %d %+v", e.status, del)
		}
	}
	e = ta.do("GET", "/api/v1/personal-data?user=u1", ta.admin, nil)
	e.decode(t, &exp)
	for _, table := range []string{"api_calls", "api_calls_by_user", "api_calls_user_1h", "api_calls_user_1d", "budget_events"} {
		if len(exp.Tables[table]) != 0 {
			t.Errorf("after deletion, %s: %+v", table, exp)
		}
	}
	// Other users' calls are still counted.
	e = ta.get("/api/v1/costs/summary", url.Values{"groupBy": {"user"}, "from": {time.Now().Add(-10 * 24 * time.Hour).Format(time.RFC3339)}})
	var groups []struct{ Group, Cost string }
	e.decode(t, &groups)
	if len(groups) != 2 {
		t.Errorf("users left: %+v", groups)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The live feed carries each call's attribution as the cost processor
// resolved it, and a stream filters on it.
func TestStreamFiltersByAttribution(t *testing.T) {
	ta := startAPI(t, freshDB("api_stream_dims"), nil)
	proc := startLiveProcessor(t, ta)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, frames := ta.openStream(ctx, "?customer=acme&team=search&kinds=call", ta.key("viewer"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("stream answered %d", resp.StatusCode)
	}
	waitSubscribed(t, ta.api.feed)
	for _, who := range [][2]string{{"beta", "search"}, {"acme", "billing"}, {"acme", "search"}} {
		td := chatSpan("openai", "gpt-4o-mini", 1000, 500)
		attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
		attrs.PutStr("nexus.customer", who[0])
		attrs.PutStr("nexus.team", who[1])
		attrs.PutStr("nexus.user", "u-"+who[0])
		if err := proc.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
	ev := nextEvent(t, frames)
	var c livefeed.Call
	if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
		t.Fatal(err)
	}
	if c.Customer != "acme" || c.Team != "search" || c.User != "u-acme" {
		t.Fatalf("event %+v", c)
	}
}

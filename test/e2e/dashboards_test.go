package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/nexus-otel/nexus/dashboards"
	"github.com/nexus-otel/nexus/internal/providers/providertest"
)

// panelColumns are the columns each panel's query returns, by dashboard
// uid and panel title: what the panel's field overrides, legends and
// transformations are written against. Every panel of every dashboard
// must be listed (a new panel declares its columns here).
var panelColumns = map[string]map[string][]string{
	"nexus-overview": {
		"Spend today":                  {"spend_usd"},
		"Month to date":                {"spend_usd"},
		"Spend by provider":            {"provider", "today_usd", "month_to_date_usd"},
		"Budget forecast (monthly)":    {"budget", "scope", "amount_usd", "month_to_date_usd", "projected_usd", "projected_ratio"},
		"Top recommendations":          {"provider", "model", "operation", "calls", "avg_output_tokens", "avg_input_tokens", "spend_usd"},
		"Calls":                        {"calls"},
		"Error rate":                   {"error_rate"},
		"p95 latency":                  {"p95_ms"},
		"Unpriced calls":               {"unpriced_calls"},
		"Anomalies":                    {"anomalies"},
		"Firing alerts":                {"firing"},
		"Calls per second by provider": {"time", "provider", "calls_per_second"},
		"Error rate by provider":       {"time", "provider", "error_rate"},
		"p95 latency by provider":      {"time", "provider", "p95_ms"},
		"Spend by provider over time":  {"time", "provider", "spend_usd"},
		"Unpriced calls by provider":   {"time", "provider", "unpriced_calls"},
		"Alerts firing now": {"rule", "severity", "instance", "provider", "model", "service", "environment",
			"value", "threshold", "since", "message", "acked"},
		"Provider health": {"provider", "last_up", "last_class", "last_http_status", "last_latency_ms", "last_check", "availability"},
	},
	"nexus-provider": {
		"Spend":                {"spend_usd"},
		"Calls":                {"calls"},
		"Cost per priced call": {"cost_per_call_usd"},
		"Error rate":           {"error_rate"},
		"p95 latency":          {"p95_ms"},
		"Unpriced calls":       {"unpriced_calls"},
		"Cost by model":        {"time", "model", "cost_usd"},
		"Calls by operation":   {"time", "operation", "calls"},
		"Cost and calls by model and operation": {"model", "operation", "calls", "errors", "unpriced", "cost_usd",
			"cost_per_call_usd", "p95_ms", "input_tokens", "output_tokens"},
		"Tokens by kind":              {"time", "input_uncached", "input_cached", "input_cache_write", "output_visible", "output_reasoning"},
		"Cost per call by model":      {"time", "model", "cost_per_call_usd"},
		"Rate-limit headroom":         {"time", "rate_limit", "headroom"},
		"Rate limits (latest)":        {"scope", "endpoint", "limit_value", "remaining", "headroom", "as_of"},
		"Balance and limits (latest)": {"name", "window", "account", "value_usd", "as_of"},
		"Balance and limits":          {"time", "gauge", "value_usd"},
		"Provider-reported usage":     {"day", "kind", "model", "line_item", "category", "value"},
		"Health history":              {"time", "up"},
		"Key check latency":           {"time", "avg_latency_ms", "max_latency_ms"},
		"Failed checks":               {"ts", "class", "http_status", "latency_ms", "message"},
	},
	"nexus-costs": {
		"Budget burn-down": {"time", "budget", "spent_usd", "amount_usd"},
		"Budgets": {"budget", "period", "scope", "amount_usd", "spent_usd", "remaining_usd", "used_ratio", "projected_usd",
			"period_start", "period_end"},
		"Daily spend":                    {"time", "provider", "spend_usd"},
		"Spend by model":                 {"provider", "model", "calls", "unpriced", "spend_usd", "share"},
		"Unpriced calls by model":        {"provider", "model", "operation", "unpriced", "calls"},
		"Billed vs computed, per day":    {"day", "provider", "billed_usd", "computed_usd", "difference_usd", "calls", "unpriced_calls"},
		"Billed vs computed by provider": {"provider", "billed_usd", "computed_usd"},
		"Top customers by spend":         {"customer", "calls", "spend_usd", "share"},
		"Top users by spend":             {"user", "calls", "spend_usd", "share"},
		"Top features by spend":          {"feature", "calls", "spend_usd", "share"},
	},
	"nexus-alerts": {
		"Alert events timeline": {"time", "alert", "state"},
		"Alert events": {"time", "rule", "kind", "instance", "state", "severity", "provider", "model", "service", "environment",
			"value", "threshold", "started_at", "message", "notify_seq", "acked_by"},
		"Alert state changes":   {"time", "state", "events"},
		"Firing now":            {"rule", "severity", "instance", "since", "value", "threshold", "message"},
		"Anomaly-flagged calls": {"time", "provider", "anomalies"},
		"Anomalous calls": {"timestamp", "provider", "model", "operation", "service", "environment", "status",
			"latency_ms", "cost_usd", "cost_status", "anomaly_score", "trace_id", "span_id"},
		"Slowest calls": {"timestamp", "provider", "model", "operation", "service", "environment", "status", "error_class",
			"latency_ms", "cost_usd", "anomaly_score", "trace_id", "span_id"},
	},
}

// emptyWithSeededData are the panels that may legitimately return no rows
// with this test's data, and why. They must still run. The alert panels
// are empty only with a binary that has no alert API to create the rule.
var emptyWithSeededData = map[string]string{
	"nexus-overview/Alerts firing now":   "no alert API in this binary, so no alert rule fires",
	"nexus-overview/Top recommendations": "the seeded spans have no short-output traffic (10+ calls) on an expensive model",
	"nexus-alerts/Alert events timeline": "no alert API in this binary, so no alert events",
	"nexus-alerts/Alert events":          "no alert API in this binary, so no alert events",
	"nexus-alerts/Alert state changes":   "no alert API in this binary, so no alert events",
	"nexus-alerts/Firing now":            "no alert API in this binary, so no alert rule fires",
}

// providerPanelRows says, for the Provider dashboard's panels that only
// some providers fill, which providers' seeded data fill them. Panels not
// listed have rows for every provider.
var providerPanelRows = map[string][]string{
	// Only OpenAI and Exa calls have a price (catalog); the others are unpriced.
	"Cost per call by model": {"openai", "exa"},
	// Rate limits: Apollo's usage stats (OpenAI's come with an API key's
	// check, and the shipped config polls with the admin key).
	"Rate-limit headroom":  {"apollo"},
	"Rate limits (latest)": {"apollo"},
	// Money gauges: OpenRouter's key and credits, Twilio's balance.
	"Balance and limits (latest)": {"openrouter", "twilio"},
	"Balance and limits":          {"openrouter", "twilio"},
	// Apollo reports no usage buckets.
	"Provider-reported usage": {"openai", "openrouter", "exa", "twilio"},
	// Apollo's key check is made to fail.
	"Failed checks": {"apollo"},
}

var fiveProviders = []string{"apollo", "exa", "openai", "openrouter", "twilio"}

// TestDashboardPanelsAgainstTheDistribution runs every query of every
// dashboard, expanded as Grafana and the ClickHouse plugin expand it,
// through clickhouse-go in HTTP mode (the plugin's client) against the
// built binary's ClickHouse interface, after filling the store the way
// production does: provider APIs polled (local fakes, one key check
// failing), spans of all five providers over OTLP (errors, unpriced calls,
// a latency spike, a day the fakes bill), budgets and an alert rule through
// the REST API. Each panel must return the columns it is written against,
// and rows unless listed as legitimately empty; a few figures are checked
// against the raw table.
func TestDashboardPanelsAgainstTheDistribution(t *testing.T) {
	const adminKey = "nxs_e2e_dashboards_key_0123456789abcdefghijklmn"
	srv := providertest.New(t)
	// One failing key check, so that health panels have a failure to show.
	srv.Fail("/apollo/api/v1/auth/health", providertest.Fault{Status: http.StatusServiceUnavailable, Body: `{"error":"maintenance"}`})
	col := newCollector(t, t.TempDir())
	col.env = []string{
		"NEXUS_ADMIN_KEY=" + adminKey,
		"OPENAI_ADMIN_KEY=sk-admin-e2e", "NEXUS_OPENAI_BASE_URL=" + srv.OpenAI(),
		"OPENROUTER_API_KEY=sk-or-v1-e2e", "OPENROUTER_MANAGEMENT_KEY=sk-or-v1-mgmt", "NEXUS_OPENROUTER_BASE_URL=" + srv.OpenRouter(),
		"EXA_API_KEY=exa-e2e", "EXA_SERVICE_KEY=exa-svc", "NEXUS_EXA_BASE_URL=" + srv.Exa(), "NEXUS_EXA_ADMIN_BASE_URL=" + srv.ExaAdmin(),
		"TWILIO_ACCOUNT_SID=AC1", "TWILIO_AUTH_TOKEN=tok", "NEXUS_TWILIO_BASE_URL=" + srv.Twilio(),
		"APOLLO_API_KEY=ap-e2e", "NEXUS_APOLLO_BASE_URL=" + srv.Apollo(),
	}
	// The first poll reaches back to the fakes' settled day, however long ago.
	lookback := max(time.Since(providertest.Day)+72*time.Hour, 7*24*time.Hour).Truncate(time.Hour)
	col.start(fmt.Sprintf("--set=receivers::apiusage::lookback=%s", lookback))
	ctx := contextTimeout(t, 3*time.Minute)

	// Spans: the usual five-provider mix now, the same mix on the fakes'
	// billed day (so billed and computed meet on a day), and a series with
	// a steady latency then a spike, which the cost processor flags.
	billedDay := providertest.Day.Add(12 * time.Hour)
	now := time.Now()
	mix, _ := sdkCalls(250)
	old, _ := sdkCalls(50)
	tracerProvider := func(service string) *sdktrace.TracerProvider {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(col.otlpHTTP), otlptracehttp.WithInsecure())
		if err != nil {
			t.Fatal(err)
		}
		return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(resource.NewSchemaless(
			attribute.String("service.name", service), attribute.String("deployment.environment.name", "prod"))))
	}
	tp := tracerProvider("checkout")
	emitSpansAt(tp, old, billedDay, time.Second, 120*time.Millisecond)
	emitSpansAt(tp, mix, now.Add(-30*time.Minute), 5*time.Second, 150*time.Millisecond)
	exa := []attribute.KeyValue{attribute.String("url.full", "https://api.exa.ai/search"), attribute.String("http.request.method", "POST"),
		attribute.Int("http.response.status_code", 200)}
	// The steady series carries attribution: two customers, one team and
	// feature, for the dimension variables and the top-N panels.
	steady := make([]call, 40)
	for i := range steady {
		customer := []string{"acme", "globex"}[i%2]
		steady[i] = call{attrs: append(slices.Clone(exa), attribute.String("customer.id", customer),
			attribute.String("enduser.id", "u-"+customer), attribute.String("team", "search"), attribute.String("feature", "web-search"))}
	}
	searchTP := tracerProvider("search")
	emitSpansAt(searchTP, steady, now.Add(-10*time.Minute), 5*time.Second, 100*time.Millisecond)
	if err := searchTP.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	// The steady series must be scored before the spike arrives.
	const sent = 250 + 50 + 40 + 1
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls WHERE service = 'search'", "40", 20*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, col.out)
	}
	emitSpansAt(searchTP, []call{{attrs: exa}}, now.Add(-time.Minute), 0, 4*time.Second)
	for _, p := range []*sdktrace.TracerProvider{tp, searchTP} {
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []struct{ sql, want string }{
		{"SELECT count() FROM nexus.api_calls", fmt.Sprint(sent)},
		{"SELECT countIf(is_anomaly) > 0 FROM nexus.api_calls WHERE service = 'search'", "1"},
		{"SELECT uniqExact(provider) FROM nexus.provider_health", "5"},
		{"SELECT uniqExact(provider) FROM nexus.provider_usage WHERE kind = 'cost_usd'", "4"},
		{"SELECT uniqExact(provider) FROM nexus.provider_gauges WHERE name = 'balance_usd'", "2"},
		{"SELECT groupUniqArray(provider) FROM nexus.provider_gauges WHERE name = 'ratelimit_remaining'", "['apollo']"},
	} {
		if _, err := col.waitForCount(w.sql, w.want, 30*time.Second); err != nil {
			t.Fatalf("%v\n%s", err, col.out)
		}
	}

	post := func(path, body string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+col.api+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(answer)
	}
	// Budgets, as an operator creates them: the whole spend monthly, and
	// OpenAI daily.
	for _, body := range []string{
		`{"name": "All APIs", "period": "monthly", "amountUsd": "50"}`,
		`{"name": "OpenAI daily", "scope": {"provider": "openai"}, "period": "daily", "amountUsd": "0.02"}`,
	} {
		if code, answer := post("/api/v1/budgets", body); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("POST /api/v1/budgets %s: HTTP %d %s", body, code, answer)
		}
	}
	// An alert rule on Apollo's failing key check, so that the alert panels
	// have events. A binary without the alert API (404) leaves them empty.
	emptyOK := maps.Clone(emptyWithSeededData)
	alerting := false
	rule := `{"name": "Apollo down", "kind": "provider_down", "scope": {"provider": "apollo"}, "threshold": "1", "severity": "critical"}`
	switch code, answer := post("/api/v1/alerts/rules", rule); {
	case code == http.StatusNotFound:
		t.Logf("this binary has no alert API: the alert panels run on an empty alert_events")
	case code != http.StatusCreated && code != http.StatusOK:
		t.Fatalf("POST /api/v1/alerts/rules %s: HTTP %d %s", rule, code, answer)
	default:
		// The Apollo rule's own event: the shipped rules over calls (unpriced
		// calls are seeded) fire as their calls are stored, before the tick
		// that evaluates a provider's health.
		if _, err := col.waitForCount("SELECT count() > 0 FROM nexus.alert_events WHERE state = 'firing' AND rule_name = 'Apollo down'", "1", 60*time.Second); err != nil {
			t.Fatalf("the Apollo rule never fired: %v\n%s", err, col.out)
		}
		alerting = true
		for key, reason := range emptyOK {
			if strings.Contains(reason, "alert") {
				delete(emptyOK, key)
			}
		}
	}

	// The plugin's client, as the plugin opens it for an HTTP data source:
	// database/sql over clickhouse-go, gzip, the default database, the
	// query timeout as max_execution_time.
	conn := clickhouse.OpenDB(&clickhouse.Options{
		Addr:        []string{col.chHTTP},
		Protocol:    clickhouse.HTTP,
		Auth:        clickhouse.Auth{Database: "nexus"},
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionGZIP},
		DialTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second,
		Settings:    clickhouse.Settings{"max_execution_time": 60},
	})
	defer conn.Close()
	if err := conn.PingContext(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}

	ds, err := dashboards.Load()
	if err != nil {
		t.Fatal(err)
	}
	if errs := dashboards.Lint(ds); errs != nil {
		t.Fatalf("dashboards fail lint: %v", errs)
	}
	from, to := billedDay.Add(-time.Hour), time.Now().Add(time.Minute)
	base := dashboards.Vars{"datasource": dashboards.Single("nexus-clickhouse"), "database": dashboards.Single("nexus"),
		"environment": dashboards.AllOf("prod"), "budget_tz": dashboards.Single("UTC"),
		"tenant": {Values: []string{"default"}, All: true}, "customer": dashboards.AllOf("acme", "globex"),
		"team": dashboards.AllOf("search"), "feature": dashboards.AllOf("web-search")}
	with := func(provider dashboards.Value) dashboards.Vars {
		v := dashboards.Vars{"provider": provider}
		for k, x := range base {
			v[k] = x
		}
		return v
	}

	// Variables list what the seeded data holds.
	for _, d := range ds {
		for _, v := range d.Templating.List {
			if v.SQL() == "" {
				continue
			}
			query, err := dashboards.Expand(v.SQL(), with(dashboards.AllOf(fiveProviders...)), from, to, time.Minute)
			if err != nil {
				t.Fatalf("%s variable %s: %v", d.UID, v.Name, err)
			}
			res := runPanelQuery(t, conn, query)
			if res.err != nil {
				t.Fatalf("%s variable %s: %v\n%s", d.UID, v.Name, res.err, query)
			}
			var got []string
			for _, r := range res.rows {
				got = append(got, fmt.Sprint(r[0]))
			}
			want := map[string][]string{"provider": fiveProviders, "environment": {"prod"}, "budget_tz": {"UTC"},
				"tenant": {"default"}, "customer": {"acme", "globex"}, "team": {"search"}, "feature": {"web-search"}}[v.Name]
			if !slices.Equal(got, want) {
				t.Errorf("%s variable %s: options %v, want %v", d.UID, v.Name, got, want)
			}
		}
	}

	seen := map[string]bool{}
	results := map[string]panelResult{} // "uid/title" → result at a minute's interval, All providers
	for _, d := range ds {
		cols, ok := panelColumns[d.UID]
		if !ok {
			t.Fatalf("dashboard %s has no expected columns", d.UID)
		}
		// The Provider dashboard one provider at a time; the others with
		// All, then with a selection (the condition kept, not dropped).
		selections := []dashboards.Value{dashboards.AllOf(fiveProviders...), dashboards.Multi("apollo", "exa", "twilio")}
		if d.UID == "nexus-provider" {
			selections = nil
			for _, p := range fiveProviders {
				selections = append(selections, dashboards.Single(p))
			}
		}
		for _, p := range d.AllPanels() {
			if p.Type == "row" {
				continue
			}
			key := d.UID + "/" + p.Title
			seen[key] = true
			want, ok := cols[p.Title]
			if !ok {
				t.Errorf("%s: panel not in panelColumns; declare the columns it returns", key)
				continue
			}
			for _, sel := range selections {
				// A minute's interval reads the minute rollup; an hour's
				// the hour rollup.
				for _, interval := range []time.Duration{time.Minute, time.Hour} {
					vars := with(sel)
					if !sel.All {
						// A picked tenant keeps every panel's rows: all
						// seeded data is the default tenant's.
						vars["tenant"] = dashboards.Single("default")
					}
					query, err := dashboards.Expand(p.Targets[0].RawSQL, vars, from, to, interval)
					if err != nil {
						t.Fatalf("%s: expand: %v", key, err)
					}
					res := runPanelQuery(t, conn, query)
					what := fmt.Sprintf("%s (provider %v, interval %s)", key, sel.Values, interval)
					if res.err != nil {
						t.Errorf("%s: %v\n%s", what, res.err, query)
						continue
					}
					if !slices.Equal(res.columns, want) {
						t.Errorf("%s: columns %v, want %v", what, res.columns, want)
					}
					if len(res.rows) == 0 && mustHaveRows(emptyOK, d.UID, p.Title, sel) {
						t.Errorf("%s: no rows\n%s", what, query)
					}
					if len(res.rows) > 0 && emptyOK[key] != "" {
						t.Logf("%s has rows although listed as empty (%s): update emptyWithSeededData", what, emptyOK[key])
					}
					if interval == time.Minute && (sel.All || d.UID == "nexus-provider") {
						t.Logf("%s: %d rows", what, len(res.rows))
					}
					if sel.All && interval == time.Minute || d.UID == "nexus-provider" && sel.Values[0] == "openai" && interval == time.Minute {
						results[key] = res
					}
				}
			}
			if reason := emptyOK[key]; reason != "" {
				t.Logf("%s: may be empty with the seeded data (%s)", key, reason)
			}
		}
	}
	for uid, cols := range panelColumns {
		for title := range cols {
			if !seen[uid+"/"+title] {
				t.Errorf("panelColumns names %s/%s, which no dashboard has", uid, title)
			}
		}
	}

	// A few figures checked against the raw table, so that the panels mean
	// what their titles say.
	value := func(key, column string, match func(row map[string]any) bool) string {
		t.Helper()
		res := results[key]
		for _, r := range res.rows {
			m := map[string]any{}
			for i, c := range res.columns {
				m[c] = r[i]
			}
			if match == nil || match(m) {
				return fmt.Sprint(m[column])
			}
		}
		t.Fatalf("%s: no matching row in %v", key, res.rows)
		return ""
	}
	raw := func(query string) string {
		t.Helper()
		out, err := col.query(query)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	decimalEq := func(what, got, want string) {
		t.Helper()
		g, err1 := decimal.NewFromString(got)
		w, err2 := decimal.NewFromString(want)
		if err1 != nil || err2 != nil || !g.Equal(w) {
			t.Errorf("%s = %s, want %s", what, got, want)
		}
	}
	if got := value("nexus-overview/Calls", "calls", nil); got != fmt.Sprint(sent) {
		t.Errorf("Overview calls = %s, want %d", got, sent)
	}
	decimalEq("Overview month to date", value("nexus-overview/Month to date", "spend_usd", nil),
		raw("SELECT sum(cost_usd) FROM nexus.api_calls WHERE timestamp >= toStartOfMonth(now())"))
	decimalEq("Overview spend today", value("nexus-overview/Spend today", "spend_usd", nil),
		raw("SELECT sum(cost_usd) FROM nexus.api_calls WHERE timestamp >= toStartOfDay(now())"))
	decimalEq("budget All APIs spent", value("nexus-costs/Budgets", "spent_usd", func(r map[string]any) bool { return r["budget"] == "All APIs" }),
		raw("SELECT sum(cost_usd) FROM nexus.api_calls WHERE timestamp >= toStartOfMonth(now())"))
	decimalEq("budget OpenAI daily spent", value("nexus-costs/Budgets", "spent_usd", func(r map[string]any) bool { return r["budget"] == "OpenAI daily" }),
		raw("SELECT sum(cost_usd) FROM nexus.api_calls WHERE provider = 'openai' AND timestamp >= toStartOfDay(now())"))
	onBilledDay := func(provider string) func(map[string]any) bool {
		return func(r map[string]any) bool {
			d, _ := r["day"].(time.Time)
			return r["provider"] == provider && d.Format(time.DateOnly) == providertest.Day.Format(time.DateOnly)
		}
	}
	decimalEq("OpenAI billed on the fakes' day", value("nexus-costs/Billed vs computed, per day", "billed_usd", onBilledDay("openai")), providertest.OpenAICostUSD)
	decimalEq("Twilio billed on the fakes' day", value("nexus-costs/Billed vs computed, per day", "billed_usd", onBilledDay("twilio")), providertest.TwilioCostUSD)
	decimalEq("OpenAI computed on the fakes' day", value("nexus-costs/Billed vs computed, per day", "computed_usd", onBilledDay("openai")),
		raw(fmt.Sprintf("SELECT sum(cost_usd) FROM nexus.api_calls WHERE provider = 'openai' AND toDate(timestamp) = '%s'", providertest.Day.Format(time.DateOnly))))
	if got := value("nexus-alerts/Anomalous calls", "service", nil); got != "search" {
		t.Errorf("the top anomalous call is of service %q, want the spike of search", got)
	}
	if got := value("nexus-alerts/Slowest calls", "latency_ms", nil); got != "4000" {
		t.Errorf("slowest call %s ms, want the 4000 ms spike", got)
	}
	if alerting {
		// configs/local.yaml's default rules may fire too (unpriced calls
		// are seeded on purpose): the test's rule must be among them.
		if got, _ := strconv.Atoi(value("nexus-overview/Firing alerts", "firing", nil)); got < 1 {
			t.Errorf("Overview firing alerts = %d, want at least Apollo down", got)
		}
		if got := value("nexus-alerts/Firing now", "rule", func(r map[string]any) bool { return r["rule"] == "Apollo down" }); got != "Apollo down" {
			t.Errorf("firing now has no Apollo down")
		}
	}
	if got := value("nexus-overview/Provider health", "last_up", func(r map[string]any) bool { return r["provider"] == "apollo" }); got != "false" {
		t.Errorf("apollo last check up = %s, want false", got)
	}

	checkDimensionPanels(t, ds, conn, from, to, with, raw, decimalEq)
}

// mustHaveRows says whether a panel must return rows for the selection.
func mustHaveRows(emptyOK map[string]string, uid, title string, sel dashboards.Value) bool {
	if emptyOK[uid+"/"+title] != "" {
		return false
	}
	if uid != "nexus-provider" {
		return true
	}
	providers, listed := providerPanelRows[title]
	return !listed || slices.Contains(providers, sel.Values[0])
}

// emitSpansAt sends calls as spans starting at start, step apart, each lasting
// duration.
func emitSpansAt(tp *sdktrace.TracerProvider, calls []call, start time.Time, step, duration time.Duration) {
	tracer := tp.Tracer("e2e-dashboards")
	for i, c := range calls {
		begin := start.Add(time.Duration(i) * step)
		_, span := tracer.Start(context.Background(), "api call", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(c.attrs...), trace.WithTimestamp(begin))
		if c.failed {
			span.SetStatus(codes.Error, "too many requests")
		}
		span.End(trace.WithTimestamp(begin.Add(duration)))
	}
}

type panelResult struct {
	columns []string
	rows    [][]any
	err     error
}

// runPanelQuery runs sql as the plugin does and reads every row. The columns
// come from DESCRIBE, so that an empty result has them too.
func runPanelQuery(t *testing.T, db *sql.DB, query string) panelResult {
	t.Helper()
	ctx := context.Background()
	var res panelResult
	desc, err := db.QueryContext(ctx, "DESCRIBE TABLE ("+query+")")
	if err != nil {
		return panelResult{err: fmt.Errorf("describe: %w", err)}
	}
	for desc.Next() {
		cols, _ := desc.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(sql.RawBytes)
		}
		if err := desc.Scan(vals...); err != nil {
			desc.Close()
			return panelResult{err: err}
		}
		res.columns = append(res.columns, string(*vals[0].(*sql.RawBytes)))
	}
	desc.Close()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return panelResult{err: err}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return panelResult{err: err}
	}
	if len(cols) > 0 && !slices.Equal(cols, res.columns) {
		return panelResult{err: fmt.Errorf("result columns %v, described %v", cols, res.columns)}
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return panelResult{err: err}
	}
	for rows.Next() {
		vals := make([]any, len(types))
		for i, ct := range types {
			vals[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(vals...); err != nil {
			return panelResult{err: err}
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = derefScanned(v)
		}
		res.rows = append(res.rows, row)
	}
	res.err = rows.Err()
	return res
}

func derefScanned(v any) any {
	r := reflect.ValueOf(v).Elem()
	for r.Kind() == reflect.Pointer {
		if r.IsNil() {
			return nil
		}
		r = r.Elem()
	}
	return r.Interface()
}

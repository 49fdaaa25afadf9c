package dashboards

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	from = time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC) // 1795604400
	to   = time.Date(2026, 11, 27, 3, 30, 15, 500e6, time.UTC)
)

func TestLoad(t *testing.T) {
	ds, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"nexus-alerts":   "alerts.json",
		"nexus-costs":    "costs.json",
		"nexus-overview": "overview.json",
		"nexus-provider": "provider.json",
	}
	if len(ds) != len(want) {
		t.Fatalf("%d dashboards, want %d", len(ds), len(want))
	}
	for _, d := range ds {
		if want[d.UID] != d.File {
			t.Errorf("%s has uid %q", d.File, d.UID)
		}
		panels := 0
		for _, p := range d.AllPanels() {
			if p.Type != "row" {
				panels++
			}
		}
		if panels < 5 {
			t.Errorf("%s: %d panels", d.File, panels)
		}
		t.Logf("%s (%s): %d panels", d.Title, d.File, panels)
	}
}

func TestDashboardsPassLint(t *testing.T) {
	ds, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range Lint(ds) {
		t.Error(err)
	}
}

// TestEveryQueryExpands: every panel and variable query of every
// dashboard expands, for every selection kind, into SQL without any
// Grafana syntax left.
func TestEveryQueryExpands(t *testing.T) {
	ds, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for i, provider := range []Value{AllOf("openai", "exa"), Multi("openai"), Single("twilio")} {
		// The tenant and dimensions: All, then selections (a hostile value
		// among them).
		tenant, dim := Value{Values: []string{"default", "acme"}, All: true}, AllOf("x", "y")
		if i > 0 {
			tenant, dim = Single("acme"), Multi("x", "o'y")
		}
		vars := Vars{"datasource": Single("ch"), "database": Single("nexus"), "provider": provider,
			"environment": AllOf("prod"), "budget_tz": Single("Europe/Paris"),
			"tenant": tenant, "customer": dim, "team": dim, "feature": dim}
		for _, d := range ds {
			var queries []string
			panels := 0
			for _, p := range d.AllPanels() {
				for _, tg := range p.Targets {
					queries = append(queries, tg.RawSQL)
					panels++
				}
			}
			for _, v := range d.Templating.List {
				if v.SQL() != "" {
					queries = append(queries, v.SQL())
				}
			}
			for n, q := range queries {
				// Every panel reads one tenant when one is picked.
				if n < panels && !tenant.All {
					if out, _ := Expand(q, vars, from, to, 5*time.Minute); !strings.Contains(out, "tenant IN ('acme'") {
						t.Errorf("%s: a panel ignores the tenant variable:\n%s", d.File, q)
					}
				}
				out, err := Expand(q, vars, from, to, 5*time.Minute)
				if err != nil {
					t.Fatalf("%s: %v\n%s", d.File, err, q)
				}
				if strings.Contains(out, "$") || strings.Contains(out, "[[") {
					t.Fatalf("%s: Grafana syntax left:\n%s", d.File, out)
				}
				if strings.Contains(q, "$__conditionalAll(provider IN") && strings.Contains(out, "provider IN (") == provider.All {
					t.Fatalf("%s: provider %+v, condition kept or dropped wrongly:\n%s", d.File, provider, out)
				}
			}
		}
	}
}

func TestExpandMacros(t *testing.T) {
	vars := Vars{
		"database": Single("nexus"),
		"provider": Multi("openai", "o'x"),
		"one":      Single("exa"),
		"all":      AllOf("a", "b"),
		"none":     Multi(),
	}
	cases := []struct {
		in       string
		interval time.Duration
		want     string
	}{
		{"$__timeFilter(ts)", time.Minute, "ts >= toDateTime(1795604400) AND ts <= toDateTime(1795750215)"},
		{"$__timeFilter_ms(ts)", time.Minute, "ts >= fromUnixTimestamp64Milli(1795604400000) AND ts <= fromUnixTimestamp64Milli(1795750215500)"},
		{"$__timeFilter_ms(a) OR $__timeFilter(b)", time.Minute,
			"a >= fromUnixTimestamp64Milli(1795604400000) AND a <= fromUnixTimestamp64Milli(1795750215500) OR b >= toDateTime(1795604400) AND b <= toDateTime(1795750215)"},
		{"$__timeFilter( toDateTime(ts, 'UTC') )", time.Minute, "toDateTime(ts, 'UTC') >= toDateTime(1795604400) AND toDateTime(ts, 'UTC') <= toDateTime(1795750215)"},
		{"$__dateFilter(day)", time.Minute, "day >= toDate('2026-11-25') AND day <= toDate('2026-11-27')"},
		{"$__dateTimeFilter(d, t)", time.Minute,
			"(d >= toDate('2026-11-25') AND d <= toDate('2026-11-27')) AND (t >= toDateTime(1795604400) AND t <= toDateTime(1795750215))"},
		{"$__timeInterval(ts)", 90 * time.Second, "toStartOfInterval(toDateTime(ts), INTERVAL 90 second)"},
		{"$__timeInterval(ts)", 500 * time.Millisecond, "toStartOfInterval(toDateTime(ts), INTERVAL 1 second)"},
		{"$__timeInterval_ms(ts)", 500 * time.Millisecond, "toStartOfInterval(toDateTime64(ts, 3), INTERVAL 500 millisecond)"},
		{"sum(calls) / $__interval_s", 2 * time.Hour, "sum(calls) / 7200"},
		{"sum(calls) / $__interval_s", 0, "sum(calls) / 1"},
		{"$__fromTime, $__toTime, $__fromTime_ms, $__toTime_ms", time.Minute,
			"toDateTime(1795604400), toDateTime(1795750215), fromUnixTimestamp64Milli(1795604400000), fromUnixTimestamp64Milli(1795750215500)"},
		// Variables.
		{"FROM ${database}.t, $database.u, [[database]].v", time.Minute, "FROM nexus.t, nexus.u, nexus.v"},
		{"p = ${one:singlequote} AND q = '$one'", time.Minute, "p = 'exa' AND q = 'exa'"},
		{"p IN (${provider:singlequote})", time.Minute, `p IN ('openai','o\'x')`},
		{"p IN (${provider:sqlstring})", time.Minute, `p IN ('openai','o''x')`},
		{"p IN ($provider)", time.Minute, `p IN ('openai','o'x')`}, // the plugin's own formatter does not escape
		{"'${provider:csv}' '${one:raw}'", time.Minute, `'openai,o'x' 'exa'`},
		{"$__interval / ${__interval_ms} / $__from", 2 * time.Minute, "2m / 120000 / 1795604400000"},
		// $__conditionalAll: the condition, or 1=1 for All or nothing.
		{"WHERE $__conditionalAll(p IN (${provider:singlequote}), $provider)", time.Minute, `WHERE p IN ('openai','o\'x')`},
		{"WHERE $__conditionalAll(p IN (${all:singlequote}), $all)", time.Minute, "WHERE 1=1"},
		{"WHERE $__conditionalAll(p IN (${all:singlequote}), ${all})", time.Minute, "WHERE 1=1"},
		{"WHERE $__conditionalAll(p IN (${none:singlequote}), $none)", time.Minute, "WHERE 1=1"},
		{"WHERE $__conditionalAll(p = ${one:singlequote}, $one) AND $__conditionalAll(q IN (${all:singlequote}), $all)", time.Minute,
			"WHERE p = 'exa' AND 1=1"},
		// An All variable outside $__conditionalAll: every option, as Grafana.
		{"p IN (${all:singlequote})", time.Minute, "p IN ('a','b')"},
	}
	for _, c := range cases {
		got, err := Expand(c.in, vars, from, to, c.interval)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

func TestExpandRefusesWhatGrafanaWouldHide(t *testing.T) {
	vars := Vars{"one": Single("exa"), "all": {All: true, Multi: true}}
	for in, want := range map[string]string{
		"$nope":                                `unknown variable "nope"`,
		"${one.field}":                         "field paths",
		"${one:json}":                          `format "json"`,
		"$__timeGroup(ts, '1m')":               "not a macro",
		"$__timeFilter(a, b)":                  "expected 1 argument(s), received 2",
		"$__timeFilter":                        "expected 1 argument(s), received 0",
		"$__timeFilter(ts":                     "missing closing parenthesis",
		"$__conditionalAll(x = 1, $nope)":      `unknown variable "nope"`,
		"$__conditionalAll(x = 1, ${one:raw})": "names no variable",
		"$__conditionalAll(x = 1)":             "got 1 arguments",
		"p IN (${all:singlequote})":            "options are not given",
		"$__conditionalAll(x = 1, $one, $one)": "got 3 arguments",
	} {
		_, err := Expand(in, vars, from, to, time.Minute)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", in, err, want)
		}
	}
}

// TestLintCatches: each rule, broken on purpose.
func TestLintCatches(t *testing.T) {
	good := func() Dashboard {
		var d Dashboard
		raw := `{"uid": "u1", "title": "T", "schemaVersion": 39, "templating": {"list": [
			{"name": "datasource", "type": "datasource", "query": "grafana-clickhouse-datasource", "pluginId": "grafana-clickhouse-datasource"},
			{"name": "database", "type": "textbox", "query": "nexus"},
			{"name": "provider", "type": "query", "includeAll": true, "multi": true,
			 "datasource": {"type": "grafana-clickhouse-datasource", "uid": "${datasource}"},
			 "query": {"editorType": "sql", "rawSql": "-- no time filter: a short list\nSELECT DISTINCT provider FROM ${database}.api_calls_1d"}}]},
			"panels": [{"id": 1, "type": "row", "title": "R"},
			{"id": 2, "type": "stat", "title": "S", "datasource": {"type": "grafana-clickhouse-datasource", "uid": "${datasource}"},
			 "targets": [{"refId": "A", "datasource": {"type": "grafana-clickhouse-datasource", "uid": "${datasource}"}, "editorType": "sql",
			   "format": 1, "queryType": "table",
			   "rawSql": "SELECT sum(calls) FROM ${database}.api_calls_1m WHERE $__timeFilter(ts) AND $__conditionalAll(provider IN (${provider:singlequote}), $provider)"}]}]}`
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatal(err)
		}
		d.File = "t.json"
		return d
	}
	if errs := Lint([]Dashboard{good()}); errs != nil {
		t.Fatalf("the good dashboard fails: %v", errs)
	}
	cases := []struct {
		name   string
		break_ func(d *Dashboard)
		want   string
	}{
		{"schema", func(d *Dashboard) { d.SchemaVersion = 27 }, "schemaVersion 27"},
		{"no datasource variable", func(d *Dashboard) { d.Templating.List = d.Templating.List[1:] }, "no `datasource` variable"},
		{"datasource of another plugin", func(d *Dashboard) { d.Templating.List[0].Query = json.RawMessage(`"prometheus"`) }, "variable datasource"},
		{"panel datasource fixed", func(d *Dashboard) { d.Panels[1].Datasource = &Ref{Type: PluginID, UID: "P1234"} }, "panel 2 \"S\": datasource"},
		{"query datasource fixed", func(d *Dashboard) { d.Panels[1].Targets[0].Datasource = nil }, "query A: datasource"},
		{"panel without query", func(d *Dashboard) { d.Panels[1].Targets = nil }, "no query"},
		{"builder query", func(d *Dashboard) { d.Panels[1].Targets[0].EditorType = "builder" }, `editorType "builder"`},
		{"format mismatch", func(d *Dashboard) { d.Panels[1].Targets[0].QueryType = "timeseries" }, "format 1 with queryType"},
		{"duplicate id", func(d *Dashboard) { d.Panels[1].ID = 1 }, "id also used"},
		{"duplicate title", func(d *Dashboard) { d.Panels = append(d.Panels, d.Panels[1]); d.Panels[2].ID = 3 }, "another panel has this title"},
		{"no time macro", func(d *Dashboard) {
			d.Panels[1].Targets[0].RawSQL = "SELECT sum(calls) FROM ${database}.api_calls_1d"
		}, "no time macro"},
		{"reason without words", func(d *Dashboard) {
			d.Panels[1].Targets[0].RawSQL = "-- no time filter:\nSELECT sum(calls) FROM ${database}.api_calls_1d"
		}, "no time macro"},
		{"fixed database", func(d *Dashboard) {
			d.Panels[1].Targets[0].RawSQL = "SELECT 1 FROM nexus.api_calls_1m WHERE $__timeFilter(ts)"
		}, "names the database"},
		{"unknown variable", func(d *Dashboard) {
			d.Panels[1].Targets[0].RawSQL += " AND model = ${model:singlequote}"
		}, `unknown variable "model"`},
		{"All variable outside conditionalAll", func(d *Dashboard) {
			d.Panels[1].Targets[0].RawSQL += " AND provider IN (${provider:singlequote})"
		}, "used outside $__conditionalAll"},
		{"variable scans usage_units", func(d *Dashboard) {
			d.Templating.List[2].Query = json.RawMessage(`{"rawSql": "SELECT DISTINCT arrayJoin(mapKeys(usage_units)) FROM ${database}.api_calls WHERE $__timeFilter(timestamp)"}`)
		}, "scans an attribute map"},
		{"variable reads a map by key", func(d *Dashboard) {
			d.Templating.List[2].Query = json.RawMessage(`{"rawSql": "SELECT DISTINCT labels['provider'] FROM ${database}.alert_events WHERE $__timeFilter(at)"}`)
		}, "scans an attribute map"},
		{"variable reads raw calls", func(d *Dashboard) {
			d.Templating.List[2].Query = json.RawMessage(`{"rawSql": "SELECT DISTINCT provider FROM ${database}.api_calls WHERE $__timeFilter(timestamp)"}`)
		}, "reads raw api_calls"},
	}
	for _, c := range cases {
		d := good()
		c.break_(&d)
		errs := Lint([]Dashboard{d})
		found := false
		for _, err := range errs {
			found = found || strings.Contains(err.Error(), c.want)
		}
		if !found {
			t.Errorf("%s: errors %v, want one containing %q", c.name, errs, c.want)
		}
	}
	// uids are unique across dashboards.
	a, b := good(), good()
	b.File = "other.json"
	if errs := Lint([]Dashboard{a, b}); len(errs) != 1 || !strings.Contains(errs[0].Error(), `uid "u1" is also t.json's`) {
		t.Errorf("duplicate uid: %v", errs)
	}
}

// TestProvisioning: the provisioning files name the plugin, the embedded
// store's read-only HTTP interface, the read-only user for a server, and
// load this folder's dashboards.
func TestProvisioning(t *testing.T) {
	root := filepath.Join("..", "grafana", "provisioning")
	for file, wants := range map[string][]string{
		"datasources/nexus-clickhouse.yaml": {"apiVersion: 1", "type: " + PluginID, "uid: nexus-clickhouse",
			"host: 127.0.0.1", "port: 8123", "protocol: http", "defaultDatabase: nexus",
			"SETTINGS readonly = 1", "GRANT SELECT ON nexus.* TO grafana"},
		"dashboards/nexus.yaml": {"apiVersion: 1", "type: file", "path: /var/lib/grafana/dashboards/nexus", "folder: Nexus"},
	} {
		raw, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wants {
			if !strings.Contains(string(raw), w) {
				t.Errorf("%s lacks %q", file, w)
			}
		}
		if strings.Contains(string(raw), "\t") {
			t.Errorf("%s has a tab (YAML indents with spaces)", file)
		}
	}
}

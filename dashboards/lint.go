package dashboards

import (
	"fmt"
	"regexp"
	"strings"
)

// NoTimeFilter is the comment that exempts a query from the time-macro
// rule; the reason follows it: "-- no time filter: budgets are settings".
const NoTimeFilter = "-- no time filter:"

// MinSchemaVersion is the oldest dashboard schema accepted (Grafana 11).
const MinSchemaVersion = 39

var (
	// attributeMaps are the Map columns (attributes by name) that no
	// variable may scan for its options.
	attributeMaps = regexp.MustCompile(`\busage_units\b|\bmap(Keys|Values|Contains\w*)\s*\(|\w\[\s*'`)
	// rawCalls is the raw calls table; variables read rollups instead.
	rawCalls = regexp.MustCompile(`\.api_calls\b(?:[^_]|$)`)
	// hardDatabase is a table named with a fixed database instead of
	// ${database}.
	hardDatabase = regexp.MustCompile(`\bnexus\.\w`)
	varRef       = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)`)
)

// Lint checks the rules every dashboard keeps and returns every breach:
//
//   - a uid, unique across dashboards, and schemaVersion ≥ 39;
//   - a `datasource` variable of type datasource for the ClickHouse
//     plugin, and a `database` variable;
//   - panels of the plugin through ${datasource}, with unique ids and
//     titles; every
//     panel but a row has a query; every query is raw SQL (editorType
//     sql) with the plugin's format and queryType, and matching ones;
//   - every query names tables as ${database}.table, uses a time macro
//     (or says why not after "-- no time filter:"), and refers only to
//     variables the dashboard defines, All-capable ones only inside
//     $__conditionalAll;
//   - query variables read through ${datasource}, never scan attribute
//     maps (usage_units or any Map column) nor the raw calls table.
func Lint(ds []Dashboard) []error {
	var errs []error
	add := func(d Dashboard, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", d.File, fmt.Sprintf(format, a...)))
	}
	uids := map[string]string{}
	for _, d := range ds {
		if d.UID == "" {
			add(d, "no uid")
		} else if other, dup := uids[d.UID]; dup {
			add(d, "uid %q is also %s's", d.UID, other)
		} else {
			uids[d.UID] = d.File
		}
		if d.SchemaVersion < MinSchemaVersion {
			add(d, "schemaVersion %d, want at least %d", d.SchemaVersion, MinSchemaVersion)
		}
		lintVariables(d, func(f string, a ...any) { add(d, f, a...) })
		lintPanels(d, func(f string, a ...any) { add(d, f, a...) })
	}
	return errs
}

func lintVariables(d Dashboard, add func(string, ...any)) {
	ds, ok := d.Variable("datasource")
	switch {
	case !ok:
		add("no `datasource` variable")
	case ds.Type != "datasource" || ds.QueryString() != PluginID || ds.PluginID != PluginID:
		add("variable datasource: want type datasource, query and pluginId %s", PluginID)
	}
	if _, ok := d.Variable("database"); !ok {
		add("no `database` variable")
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if v.Datasource == nil || v.Datasource.Type != PluginID || v.Datasource.UID != DatasourceUID {
			add("variable %s: datasource must be {type: %s, uid: %s}", v.Name, PluginID, DatasourceUID)
		}
		sql := v.SQL()
		where := "variable " + v.Name
		if sql == "" {
			add("%s: no query", where)
			continue
		}
		if attributeMaps.MatchString(sql) {
			add("%s: scans an attribute map; list options from a rollup's columns", where)
		}
		if rawCalls.MatchString(sql) {
			add("%s: reads raw api_calls; list options from a rollup", where)
		}
		lintSQL(d, where, sql, add)
	}
}

func lintPanels(d Dashboard, add func(string, ...any)) {
	ids := map[int]string{}
	titles := map[string]bool{}
	for _, p := range d.AllPanels() {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 {
			add("%s: no id", where)
		} else if other, dup := ids[p.ID]; dup {
			add("%s: id also used by %q", where, other)
		} else {
			ids[p.ID] = p.Title
		}
		if p.Title == "" {
			add("%s: no title", where)
		} else if titles[p.Title] && p.Type != "row" {
			add("%s: another panel has this title", where)
		}
		if p.Type != "row" {
			titles[p.Title] = true
		}
		if p.Type == "row" {
			continue
		}
		if !isPluginRef(p.Datasource) {
			add("%s: datasource must be {type: %s, uid: %s}", where, PluginID, DatasourceUID)
		}
		if len(p.Targets) == 0 {
			add("%s: no query", where)
		}
		for _, t := range p.Targets {
			tw := where + " query " + t.RefID
			if t.RefID == "" {
				add("%s: no refId", tw)
			}
			if !isPluginRef(t.Datasource) {
				add("%s: datasource must be {type: %s, uid: %s}", tw, PluginID, DatasourceUID)
			}
			if t.EditorType != "sql" {
				add("%s: editorType %q, want sql", tw, t.EditorType)
			}
			switch {
			case t.Format == nil:
				add("%s: no format", tw)
			case *t.Format == FormatTimeSeries && t.QueryType != "timeseries",
				*t.Format == FormatTable && t.QueryType != "table",
				*t.Format != FormatTimeSeries && *t.Format != FormatTable:
				add("%s: format %d with queryType %q; want 0/timeseries or 1/table", tw, *t.Format, t.QueryType)
			}
			if strings.TrimSpace(t.RawSQL) == "" {
				add("%s: empty rawSql", tw)
				continue
			}
			if attributeMaps.MatchString(t.RawSQL) {
				add("%s: scans an attribute map", tw)
			}
			lintSQL(d, tw, t.RawSQL, add)
		}
	}
}

func isPluginRef(r *Ref) bool {
	return r != nil && r.Type == PluginID && r.UID == DatasourceUID
}

// lintSQL checks what every query keeps: ${database}, a time macro or a
// reason, defined variables, All variables only inside $__conditionalAll.
func lintSQL(d Dashboard, where, sql string, add func(string, ...any)) {
	if hardDatabase.MatchString(sql) {
		add("%s: names the database; use ${database}.table", where)
	}
	if !strings.Contains(sql, "${database}.") {
		add("%s: reads no ${database}.table", where)
	}
	if !hasTimeMacro(sql) {
		i := strings.Index(sql, NoTimeFilter)
		if i < 0 || strings.TrimSpace(firstLine(sql[i+len(NoTimeFilter):])) == "" {
			add("%s: no time macro ($__timeFilter, $__dateFilter, $__fromTime, …) and no %q comment giving a reason", where, NoTimeFilter)
		}
	}
	outside := sql
	for {
		i := strings.Index(outside, conditionalAllMacro)
		if i < 0 {
			break
		}
		args := macroArgsJS(outside[i+len(conditionalAllMacro)-1:])
		if len(args) != 2 {
			add("%s: malformed $__conditionalAll", where)
			break
		}
		m := conditionalAllVar.FindStringSubmatch(strings.TrimSpace(args[1]))
		if m == nil {
			add("%s: $__conditionalAll(…,%s) names no variable as $var or ${var}", where, args[1])
		} else if v, ok := d.Variable(m[1] + m[2]); !ok || !v.IncludeAll {
			add("%s: $__conditionalAll on %s, which is not a variable with All", where, m[1]+m[2])
		}
		full := conditionalAllMacro + args[0] + "," + args[1] + ")"
		outside = strings.Replace(outside, full, " ", 1)
	}
	for _, m := range varRef.FindAllStringSubmatch(sql, -1) {
		name := m[1] + m[2] + m[3]
		if strings.HasPrefix(name, "__") {
			continue
		}
		if _, ok := d.Variable(name); !ok {
			add("%s: unknown variable %q", where, name)
		}
	}
	for _, m := range varRef.FindAllStringSubmatch(outside, -1) {
		if v, ok := d.Variable(m[1] + m[2] + m[3]); ok && v.IncludeAll {
			add("%s: All-capable variable %s used outside $__conditionalAll", where, v.Name)
		}
	}
}

func hasTimeMacro(sql string) bool {
	for _, name := range TimeMacros {
		if macroPatterns[name].MatchString(sql) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

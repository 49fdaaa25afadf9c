// Package dashboards holds Nexus's Grafana dashboards (the JSON files in
// this folder, for the grafana-clickhouse-datasource plugin) and what Go
// needs to check them: Load reads every dashboard, Lint checks the rules
// every dashboard keeps, and Expand turns a panel's SQL into the statement
// Grafana and the plugin would send to ClickHouse, so that tests can run it.
package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// PluginID is the ClickHouse data source plugin every panel queries through.
const PluginID = "grafana-clickhouse-datasource"

// DatasourceUID is the datasource reference every panel and query variable
// carries: the dashboard's `datasource` variable.
const DatasourceUID = "${datasource}"

//go:embed *.json
var files embed.FS

// Dashboard is the part of a Grafana dashboard the checks read.
type Dashboard struct {
	File          string     `json:"-"`
	UID           string     `json:"uid"`
	Title         string     `json:"title"`
	SchemaVersion int        `json:"schemaVersion"`
	Templating    Templating `json:"templating"`
	Panels        []Panel    `json:"panels"`
}

// Templating is the dashboard's variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Ref is a datasource reference.
type Ref struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Variable is a dashboard variable. Query is a string for most types and
// an object ({"editorType": "sql", "rawSql": …}) for a query variable of
// the ClickHouse plugin.
type Variable struct {
	Name       string          `json:"name"`
	Label      string          `json:"label"`
	Type       string          `json:"type"`
	PluginID   string          `json:"pluginId"`
	Datasource *Ref            `json:"datasource"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
}

// SQL is a query variable's SQL ("" for other variables).
func (v Variable) SQL() string {
	if v.Type != "query" || len(v.Query) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var q struct {
		RawSQL string `json:"rawSql"`
	}
	_ = json.Unmarshal(v.Query, &q)
	return q.RawSQL
}

// QueryString is the query of a non-SQL variable (a datasource variable's
// plugin id, a textbox's default).
func (v Variable) QueryString() string {
	var s string
	_ = json.Unmarshal(v.Query, &s)
	return s
}

// Panel is a panel or a row; a collapsed row holds its panels.
type Panel struct {
	ID         int      `json:"id"`
	Title      string   `json:"title"`
	Type       string   `json:"type"`
	Datasource *Ref     `json:"datasource"`
	Targets    []Target `json:"targets"`
	Panels     []Panel  `json:"panels"`
}

// Target is one query of a panel.
type Target struct {
	RefID      string `json:"refId"`
	Datasource *Ref   `json:"datasource"`
	EditorType string `json:"editorType"`
	RawSQL     string `json:"rawSql"`
	Format     *int   `json:"format"`
	QueryType  string `json:"queryType"`
}

// The plugin's formats (sqlutil.FormatQueryOption).
const (
	FormatTimeSeries = 0
	FormatTable      = 1
)

// Load reads every dashboard in this folder, sorted by file name.
func Load() ([]Dashboard, error) {
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Dashboard
	for _, name := range names {
		raw, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var d Dashboard
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		d.File = path.Base(name)
		out = append(out, d)
	}
	return out, nil
}

// AllPanels lists the dashboard's panels, those inside collapsed rows
// included, rows themselves included, in order.
func (d Dashboard) AllPanels() []Panel {
	var out []Panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// Variable returns the variable called name.
func (d Dashboard) Variable(name string) (Variable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}

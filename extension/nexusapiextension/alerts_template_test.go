package nexusapiextension

import (
	"slices"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/alertingtest"
)

// Templates that could run long are refused when the rule is written, with
// a 400 naming message, and quickly.
func TestTemplateBombRefusedAtCreation(t *testing.T) {
	ta := startAlertAPI(t, freshDB("api_tmpl_bomb"), nil)
	editor := ta.key("editor")
	base := map[string]any{"name": "bomb", "kind": "error_rate", "threshold": "0.2", "window": "5m"}
	for _, msg := range []string{
		alertingtest.ConditionalBomb,
		`{{range 100000000000}}x{{end}}`,
		`{{range $i, $x := 100000000000}}{{$i}}{{end}}`,
		`{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`,
		`{{block "b" .}}x{{end}}`,
		`{{range .Labels}}{{range $.Labels}}x{{end}}{{end}}`,
		`{{range .Rule.Name}}x{{end}}`,
		`{{with .Labels}}{{range .}}x{{end}}{{end}}`,
		`{{call .Rule.String}}`,
	} {
		body := map[string]any{"message": msg}
		for k, v := range base {
			body[k] = v
		}
		var e envelope
		alertingtest.Within(t, 5*time.Second, "POST of "+msg, func() { e = ta.do("POST", "/api/v1/alerts/rules", editor, body) })
		if e.status != 400 || !slices.Contains(fieldsOf(e), "message") {
			t.Errorf("%s: %d %+v, want 400 naming message", msg, e.status, e.Error)
		}
	}
	// What messages need is still there: fields, conditions, a range over
	// the labels, the built-in formatting functions.
	ok := `{{.Rule}} {{.State}}{{if .Link}} {{.Link}}{{end}}:{{range $k, $v := .Labels}} {{$k}}={{printf "%q" $v}}{{end}} ({{len .Labels}} labels, {{.At.Format "15:04"}})`
	body := map[string]any{"message": ok}
	for k, v := range base {
		body[k] = v
	}
	id := ta.createRule(editor, body)
	// PATCH is checked the same way.
	e := ta.do("PATCH", "/api/v1/alerts/rules/"+id, editor, map[string]any{"message": alertingtest.ConditionalBomb})
	if e.status != 400 || !slices.Contains(fieldsOf(e), "message") {
		t.Fatalf("PATCH with a bomb: %d %+v", e.status, e.Error)
	}
}

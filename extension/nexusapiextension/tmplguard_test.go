package nexusapiextension

import (
	"context"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/notify"
)

// within runs f and fails the test if it has not returned after d: a
// template bomb must fail the test, not hang it.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %s", what, d)
	}
}

// conditionalBomb passes a trial run on the sample rule and loops for ever
// on any real one.
const conditionalBomb = `{{if eq .Rule.ID "alr_sample"}}ok{{else}}{{range 1000000000000}}{{end}}{{end}}`

// Templates that could run long are refused when the rule is written, with
// a 400 naming message, and quickly.
func TestTemplateBombRefusedAtCreation(t *testing.T) {
	ta := startAlertAPI(t, freshDB("api_tmpl_bomb"), nil)
	editor := ta.key("editor")
	base := map[string]any{"name": "bomb", "kind": "error_rate", "threshold": "0.2", "window": "5m"}
	for _, msg := range []string{
		conditionalBomb,
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
		within(t, 5*time.Second, "POST of "+msg, func() { e = ta.do("POST", "/api/v1/alerts/rules", editor, body) })
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
	e := ta.do("PATCH", "/api/v1/alerts/rules/"+id, editor, map[string]any{"message": conditionalBomb})
	if e.status != 400 || !slices.Contains(fieldsOf(e), "message") {
		t.Fatalf("PATCH with a bomb: %d %+v", e.status, e.Error)
	}
}

// A bomb that got into the store (written before templates were
// restricted) or into the config cannot stop the evaluator: the stored one
// is refused at load and its events use the default message, the other
// rules go on, and shutdown is prompt; the configured one fails the
// config, naming its key.
func TestTemplateBombDoesNotBlockEvaluator(t *testing.T) {
	hook := newHookSink(t)
	ta := startAlertAPI(t, freshDB("api_tmpl_stored_bomb"), func(c *Config) {
		c.Alerting.Channels = map[string]notify.ChannelConfig{"hook": hook.channel()}
	})
	editor := ta.key("editor")
	good := ta.createRule(editor, map[string]any{"name": "good", "kind": "error_rate", "scope": map[string]string{"provider": "openai"},
		"threshold": "0.2", "window": "5m", "channels": []string{"hook"}, "message": "good {{.State}}"})
	now := time.Now().UTC().Truncate(time.Millisecond)
	bomb := &alertRule{ID: "alr_stored_bomb", Name: "stored bomb", Kind: kindErrorRate, Origin: originAPI,
		Scope: ruleScope{Provider: "openai"}, Threshold: decimal.RequireFromString("0.2"), Window: 5 * time.Minute, Severity: notify.SeverityWarning,
		Channels: []string{"hook"}, Message: conditionalBomb, Enabled: true, MinCalls: defaultMinCalls, CreatedAt: now, UpdatedAt: now}
	if err := ta.api.alerts.writeRule(context.Background(), bomb); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Minute)
	ta.errorsAt(t0.Add(-20*time.Second), "openai", 10, 5)
	within(t, 10*time.Second, "an evaluation with a stored template bomb", func() { ta.evalAt(t0) })
	got := hook.waitFor(t, 2)
	byRule := map[string]notify.WebhookPayload{}
	for _, p := range got {
		byRule[p.RuleID] = p
	}
	if byRule[good].Message != "good firing" {
		t.Fatalf("the good rule's message: %+v", byRule[good])
	}
	if m := byRule[bomb.ID].Message; m == "" || m == "ok" || !strings.Contains(m, "error rate") {
		t.Fatalf("the stored bomb's event should carry the default message: %q", m)
	}
	// The rule stays listed (it can be fixed or deleted), the evaluator
	// keeps running, and shutdown does not wait on anything.
	within(t, 10*time.Second, "a second evaluation", func() { ta.evalAt(t0.Add(time.Minute)) })
	if e := ta.do("GET", "/api/v1/alerts/rules/"+bomb.ID, ta.admin, nil); e.status != 200 {
		t.Fatalf("stored bomb rule: %d", e.status)
	}
	within(t, 5*time.Second, "shutdown", func() {
		if err := ta.api.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})

	cfg := createDefaultConfig().(*Config)
	cfg.Alerting.Rules = []AlertRuleConfig{{ID: "bomb", Name: "bomb", Kind: kindKeyInvalid, Message: conditionalBomb}}
	var err error
	within(t, 5*time.Second, "validating a configured bomb", func() { err = cfg.Validate() })
	if err == nil || !strings.Contains(err.Error(), "alerting.rules[0].message: invalid template") {
		t.Fatalf("configured bomb: %v", err)
	}
}

// A template run that overruns (only possible for one the guard never
// saw) is abandoned at its deadline, the default message stands in, and
// once every slot is held by abandoned runs new ones fail at once.
func TestTemplateRunBounded(t *testing.T) {
	slow := template.Must(template.New("m").Parse(`{{range 20000000}}{{end}}`))
	rr := &renderer{slots: make(chan struct{}, 1), timeout: 20 * time.Millisecond}
	began := time.Now()
	if _, err := rr.run(context.Background(), slow, sampleData()); err != errRenderTimeout {
		t.Fatalf("overrun: %v", err)
	}
	if took := time.Since(began); took > time.Second {
		t.Fatalf("waited %s for an overrunning template", took)
	}
	if _, err := rr.run(context.Background(), slow, sampleData()); err != errRenderBusy {
		t.Fatalf("with the only slot held: %v", err)
	}
	al := &alerting{a: &api{logger: zap.NewNop()}, render: rr}
	r := &alertRule{Kind: kindErrorRate, tmpl: slow}
	if got := al.message(context.Background(), r, &alertEvent{State: stateFiring}, "the default", ""); got != "the default" {
		t.Fatalf("message of an overrunning template: %q", got)
	}

	// Output is cut at the message limit, on a character boundary.
	long := template.Must(template.New("m").Parse(`{{range .Labels}}{{printf "%5000s" "é"}}{{end}}`))
	out, err := newRenderer().run(context.Background(), long, sampleData())
	if err != nil || len(out) > maxRuleMessage || len(out) < maxRuleMessage-3 || !strings.HasSuffix(out, " ") {
		t.Fatalf("long output: %d bytes, %v", len(out), err)
	}
}

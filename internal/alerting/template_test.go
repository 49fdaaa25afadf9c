package alerting

import (
	"context"
	"errors"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/alertingtest"
	"github.com/nexus-otel/nexus/internal/notify"
)

// A bomb that got into the store (written before templates were
// restricted) or into the config cannot stop the evaluator: the stored one
// is refused at load and its events use the default message, the other
// rules go on, and shutdown is prompt; the configured one fails the
// config, naming its key.
func TestTemplateBombDoesNotBlockEvaluator(t *testing.T) {
	hook := alertingtest.NewHookSink(t)
	te := startEngine(t, freshDB("alerting_tmpl_stored_bomb"), func(c *Config) {
		c.Channels = map[string]notify.ChannelConfig{"hook": hook.Channel()}
	})
	ctx := context.Background()
	name, kind, provider, threshold, window, message := "good", KindErrorRate, "openai", "0.2", "5m", "good {{.State}}"
	goodRule, err := te.en.CreateRule(ctx, "", RuleInput{Name: &name, Kind: &kind, Scope: &RuleScopeInput{Provider: &provider},
		Threshold: []byte(`"` + threshold + `"`), Window: &window, Channels: &[]string{"hook"}, Message: &message})
	if err != nil {
		t.Fatal(err)
	}
	good := goodRule.ID
	now := time.Now().UTC().Truncate(time.Millisecond)
	bomb := &Rule{ID: "alr_stored_bomb", Name: "stored bomb", Kind: KindErrorRate, Origin: OriginAPI,
		Scope: Scope{Provider: "openai"}, Threshold: decimal.RequireFromString("0.2"), Window: 5 * time.Minute, Severity: notify.SeverityWarning,
		Channels: []string{"hook"}, Message: alertingtest.ConditionalBomb, Enabled: true, MinCalls: defaultMinCalls, CreatedAt: now, UpdatedAt: now}
	if err := te.en.writeRule(ctx, bomb); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Minute)
	te.errorsAt(t0.Add(-20*time.Second), "openai", 10, 5)
	alertingtest.Within(t, 10*time.Second, "an evaluation with a stored template bomb", func() { te.evalAt(t0) })
	got := hook.WaitFor(t, 2)
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
	alertingtest.Within(t, 10*time.Second, "a second evaluation", func() { te.evalAt(t0.Add(time.Minute)) })
	if _, err := te.en.Rule(ctx, "", bomb.ID); err != nil {
		t.Fatalf("stored bomb rule: %v", err)
	}
	alertingtest.Within(t, 5*time.Second, "shutdown", func() {
		if err := te.en.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})

	cfg := NewDefaultConfig()
	cfg.Rules = []RuleConfig{{ID: "bomb", Name: "bomb", Kind: KindKeyInvalid, Message: alertingtest.ConditionalBomb}}
	alertingtest.Within(t, 5*time.Second, "validating a configured bomb", func() { err = cfg.ValidateUnder("alerting.") })
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
	if _, err := rr.run(context.Background(), slow, sampleData()); !errors.Is(err, errRenderTimeout) {
		t.Fatalf("overrun: %v", err)
	}
	if took := time.Since(began); took > time.Second {
		t.Fatalf("waited %s for an overrunning template", took)
	}
	if _, err := rr.run(context.Background(), slow, sampleData()); !errors.Is(err, errRenderBusy) {
		t.Fatalf("with the only slot held: %v", err)
	}
	en := &Engine{logger: zap.NewNop(), render: rr}
	r := &Rule{Kind: KindErrorRate, tmpl: slow}
	if got := en.message(context.Background(), r, &Event{State: stateFiring}, "the default", ""); got != "the default" {
		t.Fatalf("message of an overrunning template: %q", got)
	}

	// Output is cut at the message limit, on a character boundary.
	long := template.Must(template.New("m").Parse(`{{range .Labels}}{{printf "%5000s" "é"}}{{end}}`))
	out, err := newRenderer().run(context.Background(), long, sampleData())
	if err != nil || len(out) > maxRuleMessage || len(out) < maxRuleMessage-3 || !strings.HasSuffix(out, " ") {
		t.Fatalf("long output: %d bytes, %v", len(out), err)
	}
}

// FuzzMessageTemplate: whatever text is offered as a message, compiling
// it never panics or hangs, and what compiles runs bounded.
func FuzzMessageTemplate(f *testing.F) {
	for _, s := range []string{"{{.Rule}} {{.State}}", "{{range $k, $v := .Labels}}{{$k}}{{end}}", alertingtest.ConditionalBomb,
		"{{range 10}}{{end}}", "{{block \"x\" .}}{{end}}", "{{with .Labels}}{{.provider}}{{end}}", "{{call .X}}",
		"{{if}}", "{{.StartedAt.AddDate 100000 0 0}}", "{{slice .Rule.Name 0 1000}}", "{{index .Labels 1}}"} {
		f.Add(s)
	}
	rr := newRenderer()
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > maxRuleMessage {
			return
		}
		tmpl, err := rr.compile(text)
		if err != nil {
			return
		}
		out, err := rr.run(context.Background(), tmpl, sampleData())
		if errors.Is(err, errRenderTimeout) || errors.Is(err, errRenderBusy) || len(out) > maxRuleMessage {
			t.Fatalf("compiled template overran (%v, %d bytes): %q", err, len(out), text)
		}
	})
}

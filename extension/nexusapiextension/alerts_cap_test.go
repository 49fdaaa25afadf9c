package nexusapiextension

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/notify"
)

// A rule grouped by model over senders that invent model names alerts on
// at most max_instances_per_rule instances one by one; the rest is one
// overflow event that says how many, announced once, resolved when none
// are left out.
func TestAlertInstanceCap(t *testing.T) {
	hook := newHookSink(t)
	ta := startAlertAPI(t, freshDB("api_alert_cap"), func(c *Config) {
		c.Alerting.Channels = map[string]notify.ChannelConfig{"hook": hook.channel()}
		c.Alerting.MaxInstancesPerRule = 5
	})
	id := ta.createRule(ta.admin, map[string]any{"name": "spend per model", "kind": "cost_over_window", "groupBy": []string{"model"},
		"threshold": "0.001", "window": "5m", "channels": []string{"inapp", "hook"}})
	t0 := time.Now().UTC().Truncate(time.Minute)
	var calls []seedCall
	for i := range 12 {
		calls = append(calls, seedCall{At: t0.Add(-20 * time.Second), Provider: "openai", Model: fmt.Sprintf("m%02d", i), Operation: "chat", Cost: "0.01"})
	}
	ta.seed(calls...)
	ta.evalAt(t0)
	evs := ta.events("rule=" + id)
	if len(evs) != 6 {
		t.Fatalf("%d events, want 5 instances + 1 overflow: %s", len(evs), states(evs, true))
	}
	var overflow *alertEvent
	for i, e := range evs {
		if e.State != stateFiring {
			t.Fatalf("event %s is %s", e.Instance, e.State)
		}
		if e.Instance == overflowInstance {
			overflow = &evs[i]
		}
	}
	if overflow == nil || overflow.Labels["overflow"] != "true" || !strings.Contains(overflow.Message, "7 more instances") ||
		overflow.Value.String() != "7" {
		t.Fatalf("overflow event: %+v", overflow)
	}
	// The first five models in order are the ones alerted on.
	for _, e := range evs {
		if e.Instance != overflowInstance && e.Instance > "model=m04" {
			t.Fatalf("instance %s admitted past the first five", e.Instance)
		}
	}
	got := hook.waitFor(t, 6)
	n := 0
	for _, p := range got {
		if p.Labels["overflow"] == "true" {
			n++
			if p.Value != "7" {
				t.Fatalf("overflow notification value %q", p.Value)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d overflow notifications", n)
	}

	// Still breaching: nothing new, however many are left out.
	ta.evalAt(t0.Add(time.Minute))
	if evs := ta.events("rule=" + id); len(evs) != 6 {
		t.Fatalf("second evaluation: %s", states(evs, true))
	}
	hook.waitFor(t, 6)

	// Calls stop: every instance resolves, the overflow too.
	ta.evalAt(t0.Add(10 * time.Minute))
	evs = ta.events("rule=" + id + "&state=resolved")
	if len(evs) != 6 {
		t.Fatalf("resolved: %s", states(evs, true))
	}
	hook.waitFor(t, 12)
}

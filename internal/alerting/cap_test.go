package alerting

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/alertingtest"
	"github.com/nexus-otel/nexus/internal/notify"
)

// The cap admits every tracked instance and breaching new ones in key
// order up to the limit; the rest is one overflow observation that says
// how many, and stops breaching (so resolves) when none are left out.
func TestCapInstances(t *testing.T) {
	r := &Rule{Kind: KindCostOverWindow, Scope: Scope{Provider: "openai"}, GroupBy: []string{"model"}}
	var obs []observation
	for i := 11; i >= 0; i-- { // reverse order: admission must not depend on it
		obs = append(obs, observation{key: fmt.Sprintf("model=m%02d", i), breach: true, value: decimal.NewFromInt(1)})
	}
	obs = append(obs, observation{key: "model=zz", breach: false})
	got := capInstances(r, obs, map[string]*instState{}, 5)
	var keys []string
	var overflow *observation
	for i, o := range got {
		keys = append(keys, o.key)
		if o.key == OverflowInstance {
			overflow = &got[i]
		}
	}
	if want := "model=m00,model=m01,model=m02,model=m03,model=m04,model=zz,overflow"; strings.Join(keys, ",") != want {
		t.Fatalf("admitted %s, want %s", strings.Join(keys, ","), want)
	}
	if overflow == nil || !overflow.breach || overflow.value.String() != "7" || overflow.threshold.String() != "5" ||
		overflow.labels["overflow"] != "true" || overflow.labels["provider"] != "openai" ||
		!strings.Contains(overflow.summary, "7 more instances") {
		t.Fatalf("overflow: %+v", overflow)
	}

	// Tracked instances are always admitted, and a tracked overflow
	// resolves once nothing is left out.
	tracked := map[string]*instState{"model=m09": {}, OverflowInstance: {}}
	got = capInstances(r, []observation{{key: "model=m09", breach: true}, {key: "model=m10", breach: true}}, tracked, 5)
	if len(got) != 3 || got[0].key != "model=m09" || got[1].key != "model=m10" || got[2].key != OverflowInstance ||
		got[2].breach || got[2].summary != "no breaching instance is left out any more" {
		t.Fatalf("with tracked instances: %+v", got)
	}
	if eventValue(r, OverflowInstance, decimal.NewFromInt(7)) != "7" || eventValue(r, "model=m00", decimal.NewFromInt(7)) != "$7.00" {
		t.Fatal("event values")
	}
}

// A rule grouped by model over senders that invent model names alerts on
// at most max_instances_per_rule instances one by one; the rest is one
// overflow event that says how many, announced once, resolved when none
// are left out.
func TestAlertInstanceCap(t *testing.T) {
	hook := alertingtest.NewHookSink(t)
	ta := startEngine(t, freshDB("alerting_cap"), func(c *Config) {
		c.Channels = map[string]notify.ChannelConfig{"hook": hook.Channel()}
		c.MaxInstancesPerRule = 5
	})
	id := ta.createRule(map[string]any{"name": "spend per model", "kind": "cost_over_window", "groupBy": []string{"model"},
		"threshold": "0.001", "window": "5m", "channels": []string{"inapp", "hook"}})
	t0 := time.Now().UTC().Truncate(time.Minute)
	var calls []seedCall
	for i := range 12 {
		calls = append(calls, seedCall{At: t0.Add(-20 * time.Second), Provider: "openai", Model: fmt.Sprintf("m%02d", i), Operation: "chat", Cost: "0.01"})
	}
	ta.seed(calls...)
	ta.evalAt(t0)
	evs := ta.events(id, "")
	if len(evs) != 6 {
		t.Fatalf("%d events, want 5 instances + 1 overflow: %s", len(evs), states(evs, true))
	}
	var overflow *Event
	for i, e := range evs {
		if e.State != stateFiring {
			t.Fatalf("event %s is %s", e.Instance, e.State)
		}
		if e.Instance == overflowInstance {
			overflow = evs[i]
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
	got := hook.WaitFor(t, 6)
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
	if evs := ta.events(id, ""); len(evs) != 6 {
		t.Fatalf("second evaluation: %s", states(evs, true))
	}
	hook.WaitFor(t, 6)

	// Calls stop: every instance resolves, the overflow too.
	ta.evalAt(t0.Add(10 * time.Minute))
	evs = ta.events(id, "resolved")
	if len(evs) != 6 {
		t.Fatalf("resolved: %s", states(evs, true))
	}
	hook.WaitFor(t, 12)
}

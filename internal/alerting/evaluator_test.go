package alerting

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/alertingtest"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// A rule that matches nothing and one whose store query fails do not stop
// the others; a failing rule's firing alert keeps its state.
func TestAlertEvaluatorSurvivesFailures(t *testing.T) {
	db := freshDB("alerting_failures")
	te := startEngine(t, db, nil)
	nothing := te.createRule(map[string]any{"name": "nothing", "kind": "error_rate", "threshold": 0.1, "window": "5m",
		"minCalls": 1, "scope": map[string]string{"provider": "nope"}, "groupBy": []string{"model"}})
	down := te.createRule(map[string]any{"name": "down", "kind": "provider_down", "threshold": 1})
	errs := te.createRule(map[string]any{"name": "errors", "kind": "error_rate", "threshold": 0.1, "window": "5m", "minCalls": 1})

	t0 := time.Now().UTC().Truncate(time.Minute)
	te.health(t0.Add(-time.Minute), "openai", false, "timeout")
	te.evalAt(t0)
	if got := states(te.events(down, ""), false); got != "firing" {
		t.Fatalf("down: %s", got)
	}
	ctx := context.Background()
	if err := te.store.Exec(ctx, "RENAME TABLE "+db+".provider_health TO "+db+".provider_health_away", nil); err != nil {
		t.Fatal(err)
	}
	te.errorsAt(t0.Add(30*time.Second), "openai", 4, 4)
	te.evalAt(t0.Add(time.Minute))
	if got := states(te.events(errs, ""), false); got != "firing" {
		t.Fatalf("errors rule next to a failing one: %s", got)
	}
	if got := states(te.events(down, ""), false); got != "firing" {
		t.Fatalf("a failing rule's alert changed: %s", got)
	}
	if got := te.events(nothing, ""); len(got) != 0 {
		t.Fatalf("rule matching nothing: %+v", got)
	}
	if err := te.store.Exec(ctx, "RENAME TABLE "+db+".provider_health_away TO "+db+".provider_health", nil); err != nil {
		t.Fatal(err)
	}
	te.health(t0.Add(90*time.Second), "openai", true, "ok")
	te.evalAt(t0.Add(2 * time.Minute))
	if got := states(te.events(down, ""), false); got != "resolved,firing" {
		t.Fatalf("down after the store came back: %s", got)
	}
}

// A restart neither announces a firing alert again nor forgets to resolve
// it.
func TestAlertRestartRecovery(t *testing.T) {
	db := freshDB("alerting_restart")
	hook := alertingtest.NewHookSink(t)
	tweak := func(c *Config) { c.Channels = map[string]notify.ChannelConfig{"hook": hook.Channel()} }
	te := startEngine(t, db, tweak)
	id := te.createRule(map[string]any{"name": "errors", "kind": "error_rate", "threshold": 0.1, "window": "5m",
		"minCalls": 1, "channels": []string{"hook"}})
	t0 := time.Now().UTC().Truncate(time.Minute)
	te.errorsAt(t0.Add(-30*time.Second), "openai", 4, 4)
	te.evalAt(t0)
	hook.WaitFor(t, 1)
	if err := te.en.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	tb := startEngine(t, db, tweak)
	te.errorsAt(t0.Add(30*time.Second), "openai", 4, 4)
	tb.evalAt(t0.Add(time.Minute))
	hook.WaitFor(t, 1)
	if evs := tb.events(id, ""); states(evs, false) != "firing" {
		t.Fatalf("after restart: %s", states(evs, false))
	}
	tb.evalAt(t0.Add(20 * time.Minute))
	got := hook.WaitFor(t, 2)
	if got[1].State != "resolved" || *got[1].StartsAt != *got[0].StartsAt || got[1].DedupKey != DedupKey(id, "", stateResolved, t0, 0) {
		t.Fatalf("resolved after restart: %+v", got[1])
	}
}

// Deleting or disabling a rule resolves its alerts.
func TestAlertRuleRemovalResolves(t *testing.T) {
	te := startEngine(t, freshDB("alerting_removal"), nil)
	a := te.createRule(map[string]any{"name": "a", "kind": "error_rate", "threshold": 0.1, "window": "5m", "minCalls": 1})
	b := te.createRule(map[string]any{"name": "b", "kind": "error_rate", "threshold": 0.1, "window": "5m", "minCalls": 1})
	t0 := time.Now().UTC().Truncate(time.Minute)
	te.errorsAt(t0.Add(-30*time.Second), "openai", 4, 4)
	te.evalAt(t0)
	if _, err := te.en.DeleteRule(context.Background(), "", a); err != nil {
		t.Fatal(err)
	}
	te.patchRule(b, map[string]any{"enabled": false})
	te.evalAt(t0.Add(10 * time.Second))
	for _, id := range []string{a, b} {
		evs := te.events(id, "")
		if states(evs, false) != "resolved,firing" || !strings.Contains(evs[0].Message, "the rule was") {
			t.Fatalf("rule %s: %+v", id, evs)
		}
	}
}

// The evaluator runs on its own, on the real clock.
func TestAlertEvaluatorLoop(t *testing.T) {
	db := freshDB("alerting_loop")
	te := startEngine(t, db, func(c *Config) { c.Interval = 100 * time.Millisecond })
	id := te.createRule(map[string]any{"name": "spend", "kind": "cost_over_window", "threshold": "0.5", "window": "5m"})
	te.seed(seedCall{At: time.Now().UTC(), Provider: "openai", Model: "gpt-4o", Cost: "1"})
	deadline := time.Now().Add(10 * time.Second)
	for len(te.events(id, "")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the evaluator never fired on its own")
		}
		time.Sleep(50 * time.Millisecond)
	}
	storetest.Scalar(t, te.store, "SELECT toString(count()) FROM "+db+".alert_events")
}

// A collector that does not evaluate streams the events the evaluating
// one writes.
func TestAlertEventTail(t *testing.T) {
	db := freshDB("alerting_tail")
	te := startEngine(t, db, nil)
	follower := startEngine(t, db, func(c *Config) { c.Evaluate = false; c.Interval = 50 * time.Millisecond })
	if follower.en.Evaluating() {
		t.Fatal("a non-evaluating collector runs an evaluator")
	}
	sub, _ := follower.feed.Subscribe(10, nil, 0)
	defer sub.Close()
	te.createRule(map[string]any{"name": "spend", "kind": "cost_over_window", "threshold": "0.5", "window": "5m"})
	now := time.Now().UTC()
	te.seed(seedCall{At: now, Provider: "openai", Model: "gpt-4o", Cost: "1"})
	te.evalAt(now)
	select {
	case e := <-sub.C:
		if e.Kind != livefeed.KindAlert || !strings.Contains(string(e.Data), `"state":"firing"`) || e.Labels.Provider != "" {
			t.Fatalf("streamed: %s %s %+v", e.Kind, e.Data, e.Labels)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the follower never streamed the event")
	}
}

// A channel that does not answer never holds up the evaluator: the
// notification waits in the channel's queue, its delivery recorded as
// pending.
func TestAlertSlowChannelDoesNotDelay(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	te := startEngine(t, freshDB("alerting_slow"), func(c *Config) {
		ch := notify.ChannelConfig{Type: notify.TypeWebhook}
		ch.Webhook.Endpoint = slow.URL
		ch.Webhook.Timeout = time.Minute
		c.Channels = map[string]notify.ChannelConfig{"slow": ch}
	})
	id := te.createRule(map[string]any{"name": "spend", "kind": "cost_over_window", "threshold": "0.5", "window": "5m",
		"channels": []string{"slow", "inapp"}})
	t0 := time.Now().UTC()
	te.seed(seedCall{At: t0, Provider: "openai", Model: "gpt-4o", Cost: "1"})
	start := time.Now()
	te.evalAt(t0)
	te.evalAt(t0.Add(10 * time.Second))
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("two evaluations took %s behind a channel that does not answer", d)
	}
	evs := te.events(id, "")
	if len(evs) != 1 || len(evs[0].Deliveries) != 2 || evs[0].Deliveries[0].Channel != "inapp" || evs[0].Deliveries[0].Status != "sent" ||
		evs[0].Deliveries[1].Channel != "slow" || evs[0].Deliveries[1].Status != "pending" {
		t.Fatalf("events: %+v", evs)
	}
	// Shutting down does not wait for it either, past its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_ = te.en.Shutdown(ctx)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown waited %s for a channel that does not answer", d)
	}
}

// A call late in a minute is in that minute's bucket: an evaluation early in
// the next minute, with a one-minute window, still counts it.
func TestAlertWindowCountsTheBucketOfALateCall(t *testing.T) {
	te := startEngine(t, freshDB("alerting_window"), nil)
	rule := te.createRule(map[string]any{"name": "errors", "kind": "error_rate", "threshold": 0.2, "window": "1m", "minCalls": 5})
	minute := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	te.errorsAt(minute.Add(53*time.Second), "openai", 10, 10)
	te.evalAt(minute.Add(time.Minute + 3*time.Second))
	if got := states(te.events(rule, ""), false); got != "firing" {
		t.Fatalf("after a late call and an early evaluation: %q, want firing", got)
	}
	// Two minutes on, the bucket has left the window.
	te.evalAt(minute.Add(2*time.Minute + 3*time.Second))
	if got := states(te.events(rule, ""), false); got != "firing,resolved" && got != "resolved,firing" {
		t.Fatalf("after the window passed: %q, want resolved", got)
	}
}

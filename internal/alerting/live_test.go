package alerting

import (
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/alertingtest"
	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/notify"
)

// pipeline publishes calls on the feed as the cost processor does (only
// while the hub is active) and stores them after delay, as the exporter's
// batching does.
func (te *testEngine) pipeline(delay time.Duration, calls ...seedCall) time.Time {
	te.t.Helper()
	for _, c := range calls {
		if te.feed.Active() {
			status := "ok"
			if c.Status == "error" {
				status = "error"
			}
			te.feed.Publish(livefeed.CallEvent(&livefeed.Call{Tenant: "default", Provider: c.Provider, Model: c.Model,
				Service: c.Service, Status: status}))
		}
	}
	time.Sleep(delay)
	te.seed(calls...)
	return time.Now()
}

// With the interval at 60 s, failing calls arriving through the feed are
// announced within 2 s of being stored, with the store's exact figures,
// once; the rule's scope decides which rules are evaluated early.
func TestAlertLiveBreachWithinTwoSeconds(t *testing.T) {
	hook := alertingtest.NewHookSink(t)
	te := startEngine(t, freshDB("alerting_live"), func(c *Config) {
		c.Interval = time.Minute
		c.Channels = map[string]notify.ChannelConfig{"hook": hook.Channel()}
	})
	if te.feed.Active() {
		t.Fatal("the feed is active without any call rule: the cost processor would build calls for nobody")
	}
	errs := te.createRule(map[string]any{"name": "checkout errors", "kind": "error_rate", "threshold": 0.2, "window": "1m",
		"minCalls": 5, "scope": map[string]string{"service": "checkout"}, "channels": []string{"hook"}})
	other := te.createRule(map[string]any{"name": "search spend", "kind": "cost_over_window", "threshold": "0.001",
		"window": "5m", "scope": map[string]string{"service": "search"}, "channels": []string{"hook"}})
	waitFor(t, "the watcher to arm for the new rules", te.feed.Active)

	// Healthy calls first: an early evaluation, nothing to announce.
	calls := storetestCalls("checkout", 10, 0)
	te.pipeline(200*time.Millisecond, calls...)
	time.Sleep(time.Second)
	if got := hook.All(); len(got) != 0 {
		t.Fatalf("healthy calls notified: %+v", got)
	}

	waitFor(t, "the watcher to arm again", te.feed.Active)
	stored := te.pipeline(200*time.Millisecond, storetestCalls("checkout", 10, 10)...)
	for deadline := time.Now().Add(5 * time.Second); len(hook.All()) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(stored)
	got := hook.WaitFor(t, 1)
	t.Logf("breach notified %s after the failing calls were stored", took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Fatalf("notified %s after the calls were stored, want under 2 s", took)
	}
	if got[0].State != "firing" || got[0].RuleID != errs || !strings.Contains(got[0].Message, "10 of 20 calls") {
		t.Fatalf("notification: %+v", got[0])
	}
	if evs := te.events(other, ""); len(evs) != 0 {
		t.Fatalf("a rule over another scope fired: %+v", evs)
	}
	// More failing calls: still firing, announced once.
	te.pipeline(200*time.Millisecond, storetestCalls("checkout", 5, 5)...)
	time.Sleep(1500 * time.Millisecond)
	if n := len(hook.All()); n != 1 {
		t.Fatalf("%d notifications while the alert stays firing, want 1", n)
	}
	if got := states(te.events(errs, ""), false); got != "firing" {
		t.Fatalf("events: %s", got)
	}
}

// Between calls the watcher costs the publisher nothing: after it has
// seen a call it stays disarmed while sweeps run, and without call rules
// it is never armed.
func TestAlertLiveWatcherDisarms(t *testing.T) {
	te := startEngine(t, freshDB("alerting_live_arm"), nil)
	id := te.createRule(map[string]any{"name": "errors", "kind": "error_rate", "threshold": 0.2, "window": "1m", "minCalls": 1})
	waitFor(t, "the watcher to arm", te.feed.Active)
	te.feed.Publish(livefeed.CallEvent(&livefeed.Call{Tenant: "default", Provider: "openai", Status: "ok"}))
	if te.feed.Active() {
		t.Fatal("still active right after one call")
	}
	te.patchRule(id, map[string]any{"enabled": false})
	time.Sleep(3 * time.Second) // the sweeps run out
	if te.feed.Active() {
		t.Fatal("armed with no enabled call rule")
	}
	te.patchRule(id, map[string]any{"enabled": true})
	waitFor(t, "the watcher to arm for the enabled rule", te.feed.Active)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// storetestCalls are n calls of service now, bad of them failed.
func storetestCalls(service string, n, bad int) []seedCall {
	now := time.Now().UTC()
	out := make([]seedCall, n)
	for i := range out {
		out[i] = seedCall{At: now.Add(time.Duration(i) * time.Millisecond), Provider: "openai", Model: "gpt-4o", Operation: "chat",
			Service: service, Cost: "0.01"}
		if i < bad {
			out[i].Status, out[i].ErrorClass = "error", "server_error"
		}
	}
	return out
}

package nexusapiextension

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"k8s.io/client-go/kubernetes/fake"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/nexus-otel/nexus/internal/alerting"
	"github.com/nexus-otel/nexus/internal/alertingtest"
	"github.com/nexus-otel/nexus/internal/leader"
	"github.com/nexus-otel/nexus/internal/notify"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// startCandidateAPI starts the real extension over s as one candidate of
// an election held on client.
func startCandidateAPI(t *testing.T, s store.Store, host storetest.Host, client coordinationv1.CoordinationV1Interface, tweak func(*Config)) *api {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NetAddr.Endpoint = l.Addr().String()
	l.Close()
	tweak(cfg)
	t.Setenv(AdminKeyEnv, "nxs_test_admin_key_0123456789abcdefghijklmnop")
	t.Setenv(AdminPasswordEnv, testAdminPassword)
	a := newAPI(cfg, extensiontest.NewNopSettings(componentType))
	a.leading = &alertLeadership{client: client}
	if err := a.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a
}

func waitUntil(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// announced is the providers of the notifications received, in order.
func announced(hook *alertingtest.HookSink) []string {
	var out []string
	for _, p := range hook.All() {
		out = append(out, p.State+"@"+p.Labels["provider"])
	}
	return out
}

// Two collectors elect one evaluator; alerts fire before, during and after
// the leader hands over, and each is announced exactly once.
func TestAlertLeaderHandover(t *testing.T) {
	s, host := storetest.Start(t, freshDB("api_alert_leader"))
	client := fake.NewClientset().CoordinationV1()
	hook := alertingtest.NewHookSink(t)
	candidate := func(id string) func(*Config) {
		return func(c *Config) {
			c.Alerting.Interval = time.Second
			c.Alerting.Channels = map[string]notify.ChannelConfig{"hook": hook.Channel()}
			c.Alerting.Rules = []AlertRuleConfig{{ID: "keys", Name: "Key refused", Kind: kindKeyInvalid, Channels: []string{"hook"}}}
			le := &c.Alerting.LeaderElection
			le.Mode, le.Namespace, le.Identity = leader.ModeKubernetes, "nexus", id
			le.LeaseDuration, le.RenewDeadline, le.RetryPeriod = 3*time.Second, 1200*time.Millisecond, 200*time.Millisecond
		}
	}
	a := startCandidateAPI(t, s, host, client, candidate("collector-a"))
	b := startCandidateAPI(t, s, host, client, candidate("collector-b"))
	// Neither serving engine evaluates on its own.
	if a.alerts.Evaluating() || b.alerts.Evaluating() {
		t.Fatal("a serving engine evaluates under an election")
	}
	waitUntil(t, 5*time.Second, "a leader", func() bool { return a.leaderEngine() != nil || b.leaderEngine() != nil })
	first, second := a, b
	if b.leaderEngine() != nil {
		first, second = b, a
	}
	time.Sleep(time.Second)
	if second.leaderEngine() != nil {
		t.Fatal("both collectors lead")
	}
	bad := func(p string) { storetest.SeedHealth(t, s, time.Now(), p, false, providers.ClassAuthFailed) }

	// Before: the first leader announces.
	bad("openai")
	waitUntil(t, 5*time.Second, "openai announced", func() bool { return len(hook.All()) == 1 })

	// During: exa starts failing as the leader steps down. Whichever
	// leader sees it first announces it; the other must not.
	bad("exa")
	time.Sleep(700 * time.Millisecond)
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, time.Second, "takeover within the lease duration", func() bool { return second.leaderEngine() != nil })

	// After: the new leader announces what is new.
	bad("twilio")
	got := hook.WaitFor(t, 3)
	// A few more intervals: the new leader recovered openai (and exa if
	// the first leader announced it) and announces neither again.
	time.Sleep(3 * time.Second)
	all := announced(hook)
	want := []string{"firing@exa", "firing@openai", "firing@twilio"}
	sorted := slices.Sorted(slices.Values(all))
	if !slices.Equal(sorted, want) || all[0] != "firing@openai" || all[2] != "firing@twilio" {
		t.Fatalf("announcements across the handover: %v, want each of %v once", all, want)
	}
	keys := map[string]bool{}
	for _, p := range got {
		if keys[p.DedupKey] {
			t.Fatalf("dedup key %s announced twice", p.DedupKey)
		}
		keys[p.DedupKey] = true
	}
	// The store says the same: one firing event per provider.
	now := time.Now().UTC()
	list, _, err := second.alerts.ListEvents(context.Background(),
		alerting.EventQuery{From: now.Add(-time.Hour), To: now.Add(time.Hour), RuleID: "keys", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	firing := map[string]int{}
	for _, e := range list {
		if e.State == "firing" {
			firing[e.Labels["provider"]]++
		}
	}
	if firing["openai"] != 1 || firing["exa"] != 1 || firing["twilio"] != 1 || len(firing) != 3 {
		t.Fatalf("stored firing events per provider: %v", firing)
	}
}

func TestAlertLeaderConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	if le := cfg.Alerting.LeaderElection; le.Mode != leader.ModeNone || le.LeaseDuration != 15*time.Second ||
		le.RenewDeadline != 10*time.Second || le.RetryPeriod != 2*time.Second {
		t.Fatalf("default leader_election: %+v", le)
	}
	// The engine's keys stay where they were, beside leader_election.
	cm := confmap.NewFromStringMap(map[string]any{"alerting": map[string]any{"evaluate": true, "interval": "5s",
		"leader_election": map[string]any{"mode": "kubernetes", "lease_name": "nexus-eval", "lease_duration": "20s"}}})
	if err := cm.Unmarshal(cfg); err != nil {
		t.Fatal(err)
	}
	al := cfg.Alerting
	if !al.Evaluate || al.Interval != 5*time.Second || al.LeaderElection.Mode != leader.ModeKubernetes ||
		al.LeaderElection.LeaseName != "nexus-eval" || al.LeaderElection.LeaseDuration != 20*time.Second ||
		al.LeaderElection.RenewDeadline != 10*time.Second {
		t.Fatalf("unmarshalled: %+v", al)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	cfg.Alerting.LeaderElection.RenewDeadline = time.Minute
	if err := cfg.Alerting.LeaderElection.Validate(); err == nil || !strings.Contains(err.Error(), "renew_deadline") {
		t.Fatalf("renew_deadline past lease_duration: %v", err)
	}
	cfg.Alerting.LeaderElection = leader.NewDefaultConfig()
	cfg.Alerting.LeaderElection.Mode = leader.ModeKubernetes
	// Evaluating alone or electing: never both, and evaluate: false opts out.
	a := &api{cfg: cfg}
	if !a.elects() || a.evaluatesAlone() {
		t.Fatal("kubernetes mode with evaluate: true must campaign")
	}
	cfg.Alerting.Evaluate = false
	if a.elects() || a.evaluatesAlone() {
		t.Fatal("evaluate: false must neither campaign nor evaluate")
	}
	cfg.Alerting.LeaderElection.Mode, cfg.Alerting.Evaluate = leader.ModeNone, true
	if a.elects() || !a.evaluatesAlone() {
		t.Fatal("mode none with evaluate: true must evaluate alone")
	}
}

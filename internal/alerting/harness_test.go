package alerting

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var dbRuns atomic.Int64

// freshDB names a database no earlier run in this process used, so that
// go test -count=N starts every run from empty tables.
func freshDB(name string) string { return fmt.Sprintf("%s_%d", name, dbRuns.Add(1)) }

// testEngine is a started engine over a real embedded store.
type testEngine struct {
	t     testing.TB
	en    *Engine
	store store.Store
	feed  *livefeed.Hub
}

// startEngine starts an evaluating engine on database db whose evaluator
// never ticks on its own (tests step it with EvaluateAt); tweak adjusts
// the config.
func startEngine(t testing.TB, db string, tweak func(*Config)) *testEngine {
	t.Helper()
	s, host := storetest.Start(t, db)
	cfg := NewDefaultConfig()
	cfg.Interval = time.Hour
	if tweak != nil {
		tweak(&cfg)
	}
	feed := livefeed.NewHub(100)
	en, err := New(Settings{Config: cfg, Store: s, Logger: zap.NewNop(), Telemetry: componenttest.NewNopTelemetrySettings(),
		Host: host, Feed: feed})
	if err != nil {
		t.Fatal(err)
	}
	if err := en.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = en.Shutdown(context.Background()) })
	return &testEngine{t: t, en: en, store: s, feed: feed}
}

// evalAt runs one evaluation as at now.
func (te *testEngine) evalAt(now time.Time) {
	te.t.Helper()
	if err := te.en.EvaluateAt(context.Background(), now); err != nil {
		te.t.Fatal(err)
	}
}

// ruleInput is body (the API's JSON) as the API decodes it, and its JSON.
func (te *testEngine) ruleInput(body map[string]any) (RuleInput, []byte) {
	te.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		te.t.Fatal(err)
	}
	var in RuleInput
	if err := decodeAs(raw, &in); err != nil {
		te.t.Fatalf("rule %s: %v", raw, err)
	}
	return in, raw
}

// createRule creates the rule body describes (the API's JSON) and returns
// its id.
func (te *testEngine) createRule(body map[string]any) string {
	te.t.Helper()
	in, raw := te.ruleInput(body)
	r, err := te.en.CreateRule(context.Background(), "", in)
	if err != nil {
		te.t.Fatalf("create rule %s: %v", raw, err)
	}
	return r.ID
}

// patchRule changes the fields body sends of rule id.
func (te *testEngine) patchRule(id string, body map[string]any) {
	te.t.Helper()
	in, _ := te.ruleInput(body)
	if _, err := te.en.PatchRule(context.Background(), "", id, in); err != nil {
		te.t.Fatalf("patch rule %s: %v", id, err)
	}
}

// events lists the events of rule (all rules when ""), newest first, in
// states (a comma-separated list; all when ""), over two months around
// now, since the tests' clocks run ahead of the real one.
func (te *testEngine) events(rule, states string) []*Event {
	te.t.Helper()
	now := time.Now().UTC()
	q := EventQuery{From: now.AddDate(0, 0, -60), To: now.AddDate(0, 0, 60), RuleID: rule, Limit: 1000}
	if states != "" {
		q.States = strings.Split(states, ",")
	}
	evs, _, err := te.en.ListEvents(context.Background(), q)
	if err != nil {
		te.t.Fatal(err)
	}
	return evs
}

// states lists the events' states, newest first, as "state" or
// "state@instance".
func states(evs []*Event, withInstance bool) string {
	parts := make([]string, len(evs))
	for i, e := range evs {
		parts[i] = e.State
		if withInstance {
			parts[i] += "@" + e.Instance
		}
	}
	return strings.Join(parts, ",")
}

// health stores a provider check.
func (te *testEngine) health(at time.Time, prov string, up bool, class string) {
	te.t.Helper()
	storetest.SeedHealth(te.t, te.store, at, prov, up, class)
}

// errorsAt seeds n calls of provider at t, bad of them errors.
func (te *testEngine) errorsAt(t time.Time, provider string, n, bad int) {
	te.t.Helper()
	te.seed(storetest.ErrorCalls(t, provider, n, bad)...)
}

// seedCall is one stored call; zero fields get sensible values.
type seedCall = storetest.Call

// seed stores calls into api_calls the way the exporter does (same table,
// same materialized views feeding the rollups).
func (te *testEngine) seed(calls ...seedCall) {
	te.t.Helper()
	storetest.SeedCalls(te.t, te.store, calls...)
}

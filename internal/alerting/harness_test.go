package alerting

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/livefeed"
	"github.com/nexus-otel/nexus/internal/notify"
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

// createRule creates the rule body describes (the API's JSON) and returns
// its id.
func (te *testEngine) createRule(body map[string]any) string {
	te.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		te.t.Fatal(err)
	}
	var in RuleInput
	if err := decodeAs(raw, &in); err != nil {
		te.t.Fatalf("rule %s: %v", raw, err)
	}
	r, err := te.en.CreateRule(context.Background(), in)
	if err != nil {
		te.t.Fatalf("create rule %s: %v", raw, err)
	}
	return r.ID
}

// patchRule changes the fields body sends of rule id.
func (te *testEngine) patchRule(id string, body map[string]any) {
	te.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		te.t.Fatal(err)
	}
	var in RuleInput
	if err := decodeAs(raw, &in); err != nil {
		te.t.Fatal(err)
	}
	if _, err := te.en.PatchRule(context.Background(), id, in); err != nil {
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
	ctx := context.Background()
	b, err := te.store.PrepareBatch(ctx, "provider_health", store.ProviderHealthColumns)
	if err != nil {
		te.t.Fatal(err)
	}
	if err := b.Append(at.UTC(), prov, up, class, uint16(401), 12.5, "check "+class); err != nil {
		te.t.Fatal(err)
	}
	if err := b.Send(ctx); err != nil {
		te.t.Fatal(err)
	}
}

// errorsAt seeds n calls of provider at t, bad of them errors.
func (te *testEngine) errorsAt(t time.Time, provider string, n, bad int) {
	te.t.Helper()
	calls := make([]seedCall, n)
	for i := range calls {
		calls[i] = seedCall{At: t.Add(time.Duration(i) * time.Millisecond), Provider: provider, Model: "gpt-4o", Operation: "chat", Cost: "0.01"}
		if i < bad {
			calls[i].Status, calls[i].ErrorClass = "error", "server_error"
		}
	}
	te.seed(calls...)
}

// seedCall is one stored call; zero fields get sensible values.
type seedCall struct {
	At                time.Time
	Provider, Model   string
	Operation, Status string // Status: "ok" (default) or "error"
	ErrorClass        string
	Cost              string // a decimal string; "" stores it unpriced
}

// seed stores calls into api_calls the way the exporter does (same table,
// same materialized views feeding the rollups).
func (te *testEngine) seed(calls ...seedCall) {
	te.t.Helper()
	ctx := context.Background()
	b, err := te.store.PrepareBatch(ctx, "api_calls", []string{
		"timestamp", "duration_ns", "service", "environment", "provider", "operation", "model",
		"request_model", "span_name", "http_status", "status", "error_class",
		"input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens",
		"cost_usd", "cost_status", "unpriced_reason", "pricing_version", "anomaly_score", "is_anomaly",
		"trace_id", "span_id",
	})
	if err != nil {
		te.t.Fatal(err)
	}
	for i, c := range calls {
		code := uint16(200)
		if c.Status == "" {
			c.Status = "ok"
		}
		if c.Status == "error" {
			code = 500
		}
		var cost any
		status, reason := "unpriced", "no catalog price"
		if c.Cost != "" {
			d := decimal.RequireFromString(c.Cost)
			cost, status, reason = &d, "computed", ""
		}
		id := fmt.Sprintf("%016x", c.At.UnixNano()+int64(i))
		if err := b.Append(c.At.UTC(), uint64(100*time.Millisecond), "", "", c.Provider, c.Operation, c.Model,
			c.Model, c.Operation+" "+c.Model, code, c.Status, c.ErrorClass, uint64(0), uint64(0), uint64(0), uint64(0),
			cost, status, reason, "test", float32(0), false, hex.EncodeToString([]byte(id)), id); err != nil {
			te.t.Fatal(err)
		}
	}
	if err := b.Send(ctx); err != nil {
		te.t.Fatal(err)
	}
}

// hookSink is a webhook receiver: every notification it was sent.
type hookSink struct {
	mu  sync.Mutex
	got []notify.WebhookPayload
	ids []string
	srv *httptest.Server
}

func newHookSink(t *testing.T) *hookSink {
	h := &hookSink{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p notify.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("webhook body: %v: %s", err, body)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.got = append(h.got, p)
		h.ids = append(h.ids, r.Header.Get(notify.HeaderWebhookID))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookSink) channel() notify.ChannelConfig {
	c := notify.ChannelConfig{Type: notify.TypeWebhook}
	c.Webhook.Endpoint = h.srv.URL
	return c
}

func (h *hookSink) all() []notify.WebhookPayload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]notify.WebhookPayload(nil), h.got...)
}

// waitFor waits until n notifications arrived, then a little longer to
// catch any that should not have.
func (h *hookSink) waitFor(t *testing.T, n int) []notify.WebhookPayload {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.all()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond)
	got := h.all()
	if len(got) != n {
		t.Fatalf("webhook got %d notifications, want %d: %+v", len(got), n, got)
	}
	return got
}

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

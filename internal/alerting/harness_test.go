package alerting

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
	en, err := New(Settings{Config: cfg, Store: s, Logger: zap.NewNop(), Telemetry: componenttest.NewNopTelemetrySettings(),
		Host: host, Feed: livefeed.NewHub(100)})
	if err != nil {
		t.Fatal(err)
	}
	if err := en.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = en.Shutdown(context.Background()) })
	return &testEngine{t: t, en: en, store: s}
}

// evalAt runs one evaluation as at now.
func (te *testEngine) evalAt(now time.Time) {
	te.t.Helper()
	if err := te.en.EvaluateAt(context.Background(), now); err != nil {
		te.t.Fatal(err)
	}
}

// errorsAt stores n calls of provider at t, bad of them errors, the way
// the exporter does (same table, same views feeding the rollups).
func (te *testEngine) errorsAt(at time.Time, provider string, n, bad int) {
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
	cost := decimal.RequireFromString("0.01")
	for i := range n {
		status, class, code := "ok", "", uint16(200)
		if i < bad {
			status, class, code = "error", "server_error", 500
		}
		ts := at.Add(time.Duration(i) * time.Millisecond).UTC()
		id := fmt.Sprintf("%016x", ts.UnixNano()+int64(i))
		if err := b.Append(ts, uint64(100*time.Millisecond), "", "", provider, "chat", "gpt-4o", "gpt-4o", "chat gpt-4o",
			code, status, class, uint64(0), uint64(0), uint64(0), uint64(0), &cost, "computed", "", "test", float32(0), false,
			hex.EncodeToString([]byte(id)), id); err != nil {
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

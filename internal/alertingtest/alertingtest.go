// Package alertingtest is test support for the alert engine and the API that
// serves it: a webhook receiver that records every notification it is sent,
// a guard that fails a test instead of letting a template hang it, and the
// rule bodies both packages fuzz from.
package alertingtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/notify"
)

// HookSink is a webhook receiver: every notification it was sent.
type HookSink struct {
	mu  sync.Mutex
	got []notify.WebhookPayload
	ids []string
	srv *httptest.Server
}

// NewHookSink starts the receiver; it stops with the test. A body that is
// not a webhook payload is a test error.
func NewHookSink(t testing.TB) *HookSink {
	h := &HookSink{}
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

// Channel is a webhook channel that sends to the receiver.
func (h *HookSink) Channel() notify.ChannelConfig {
	c := notify.ChannelConfig{Type: notify.TypeWebhook}
	c.Webhook.Endpoint = h.srv.URL
	return c
}

// All is every notification received so far, in order.
func (h *HookSink) All() []notify.WebhookPayload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]notify.WebhookPayload(nil), h.got...)
}

// IDs is the webhook id header of every notification received so far, in
// order.
func (h *HookSink) IDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ids...)
}

// WaitFor waits until n notifications arrived, then a little longer to
// catch any that should not have; it fails the test unless exactly n came.
func (h *HookSink) WaitFor(t testing.TB, n int) []notify.WebhookPayload {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.All()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond)
	got := h.All()
	if len(got) != n {
		t.Fatalf("webhook got %d notifications, want %d: %+v", len(got), n, got)
	}
	return got
}

// Within runs f and fails the test if it has not returned after d: a
// template bomb must fail the test, not hang it.
func Within(t testing.TB, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %s", what, d)
	}
}

// ConditionalBomb is a message template that passes a trial run on the
// sample rule and loops for ever on any real one.
const ConditionalBomb = `{{if eq .Rule.ID "alr_sample"}}ok{{else}}{{range 1000000000000}}{{end}}{{end}}`

// RuleBodies is the seed corpus of the rule-body fuzz tests: documented
// bodies of every kind, out-of-range figures, template bombs and bodies
// that are not rules at all.
func RuleBodies() []string {
	return []string{
		`{"name":"OpenAI errors","kind":"error_rate","scope":{"provider":"openai"},"groupBy":["model"],"threshold":0.05,` +
			`"window":"5m","for":"2m","minCalls":20,"severity":"critical","channels":["inapp"],` +
			`"message":"{{.Rule}} {{.State}}: {{.Value}} on {{.Labels.model}}"}`,
		`{"name":"spend","kind":"cost_over_window","threshold":"50","window":"1h","groupBy":["provider","model","model"]}`,
		`{"name":"b","kind":"budget_threshold","budgetId":"bud_1","threshold":80}`,
		`{"name":"q","kind":"quota","source":"errors","window":"25h","threshold":1}`,
		`{"name":"a","kind":"anomaly","mode":"spend","window":"2h","threshold":"1.000000000001"}`,
		`{"name":"k","kind":"key_invalid","threshold":2,"window":"1m","minCalls":0}`,
		`{"name":"t","kind":"error_rate","threshold":"1e10000","window":"9999999h"}`,
		`{"name":"t","kind":"latency_p95","threshold":"-1e-10000","window":"-5m","for":"abc"}`,
		`{"name":"t","kind":"error_rate","threshold":0.5,"window":"5m","message":"{{if eq .Rule.ID \"alr_sample\"}}ok{{else}}{{range 1000000000000}}{{end}}{{end}}"}`,
		`{"name":"t","kind":"error_rate","threshold":0.5,"window":"5m","message":"{{range 100000000000}}x{{end}}"}`,
		`{"name":"t","kind":"error_rate","threshold":0.5,"window":"5m","message":"{{define \"a\"}}{{template \"a\"}}{{end}}"}`,
		`{"name":"t","kind":"error_rate","threshold":0.5,"window":"5m","message":"{{range .Labels}}{{printf \"%1000000d\" 1}}{{end}}"}`,
		`{"name":"t","kind":"error_rate","threshold":0.5,"window":"5m","message":"{{.Nope}}{{"}`,
		`{"name":"t","kind":"error_rate","threshold":0.5,"window":"5m","channels":["nope","inapp","inapp"]}`,
		`{"kind":"storms","severity":"loud","groupBy":["tenant"],"scope":{"model":"\u0007"}}`,
		`{"threshold":[1]}`, `{"enabled":"yes"}`, `{"minCalls":1e99}`, `{}`, `null`, `x`,
	}
}

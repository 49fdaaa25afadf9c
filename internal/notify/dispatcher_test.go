package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.uber.org/zap"
)

// fast retries, so that the tests take milliseconds.
var fast = Options{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

type funcChannel func(ctx context.Context, n Notification) error

func (f funcChannel) Send(ctx context.Context, n Notification) error { return f(ctx, n) }

func shutdown(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// statusServer answers the i-th request (1-based) with statuses[i-1], the
// last one repeated.
func statusServer(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(hits.Add(1))
		w.WriteHeader(statuses[min(i, len(statuses))-1])
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestDispatcherRetriesUntilDelivered(t *testing.T) {
	srv, hits := statusServer(t, 500, 500, 200)
	rec := newRecorder()
	d := NewDispatcherWithOptions(map[string]Channel{"slack": build(t, slackConfig(srv.URL))}, rec.record, zap.NewNop(), fast)
	defer shutdown(t, d)
	d.Notify(sample(), []string{"slack"})
	rec.waitFinal(t, "slack", "ev-0001", 5*time.Second)
	got := rec.of("slack")
	want := []step{{DeliveryPending, 0, false}, {DeliveryPending, 1, true}, {DeliveryPending, 2, true}, {DeliverySent, 3, false}}
	if !reflect.DeepEqual(steps(got), want) {
		t.Fatalf("deliveries %+v", got)
	}
	for _, dl := range got {
		if dl.EventID != "ev-0001" || dl.Channel != "slack" || dl.At.IsZero() {
			t.Errorf("delivery %+v", dl)
		}
	}
	if got[1].Error != "send slack notification: HTTP 500" {
		t.Errorf("error %q", got[1].Error)
	}
	if hits.Load() != 3 {
		t.Errorf("%d requests, want 3", hits.Load())
	}
}

func TestDispatcherPermanentFailureIsNotRetried(t *testing.T) {
	srv, hits := statusServer(t, 400, 200)
	rec := newRecorder()
	d := NewDispatcherWithOptions(map[string]Channel{"hook": build(t, webhookConfig(srv.URL, ""))}, rec.record, nil, fast)
	defer shutdown(t, d)
	d.Notify(sample(), []string{"hook"})
	final := rec.waitFinal(t, "hook", "ev-0001", 5*time.Second)
	want := []step{{DeliveryPending, 0, false}, {DeliveryFailed, 1, true}}
	if !reflect.DeepEqual(steps(rec.of("hook")), want) || final.Error != "send webhook notification: HTTP 400" {
		t.Fatalf("deliveries %+v", rec.of("hook"))
	}
	time.Sleep(20 * time.Millisecond) // a wrongly scheduled retry would land by now
	if hits.Load() != 1 {
		t.Fatalf("%d requests, want 1", hits.Load())
	}
}

func TestDispatcherGivesUpAfterMaxAttempts(t *testing.T) {
	srv, hits := statusServer(t, 503)
	rec := newRecorder()
	opts := fast
	opts.MaxAttempts = 3
	d := NewDispatcherWithOptions(map[string]Channel{"hook": build(t, webhookConfig(srv.URL, ""))}, rec.record, nil, opts)
	defer shutdown(t, d)
	d.Notify(sample(), []string{"hook"})
	rec.waitFinal(t, "hook", "ev-0001", 5*time.Second)
	want := []step{{DeliveryPending, 0, false}, {DeliveryPending, 1, true}, {DeliveryPending, 2, true}, {DeliveryFailed, 3, true}}
	if !reflect.DeepEqual(steps(rec.of("hook")), want) || hits.Load() != 3 {
		t.Fatalf("deliveries %+v, %d requests", rec.of("hook"), hits.Load())
	}
}

func TestDispatcherSlowChannelDelaysNoOther(t *testing.T) {
	inSlow := make(chan struct{}, 10)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.ReadAll(r.Body)
		inSlow <- struct{}{}
		select { // hangs for 5 s, unless the client gives up first
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	fastSrv, _ := statusServer(t, 200)
	rec := newRecorder()
	d := NewDispatcherWithOptions(map[string]Channel{
		"slow": build(t, webhookConfig(slow.URL, "")),
		"fast": build(t, slackConfig(fastSrv.URL)),
	}, rec.record, nil, fast)

	start := time.Now()
	for i := range 3 {
		n := sample()
		n.EventID = fmt.Sprintf("ev-%d", i)
		d.Notify(n, []string{"slow", "fast"})
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Fatalf("Notify took %s", took)
	}
	for i := range 3 {
		rec.waitFinal(t, "fast", fmt.Sprintf("ev-%d", i), time.Second)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the fast channel took %s", took)
	}
	for _, dl := range rec.of("slow") {
		if dl.Status != DeliveryPending || dl.Attempts != 0 {
			t.Fatalf("the slow channel already reported %+v", dl)
		}
	}

	// Shutdown gives the hanging attempt until its context ends, then
	// reports it, and what still waits behind it, as failed.
	<-inSlow
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := d.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v", err)
	}
	for i := range 3 {
		final := rec.waitFinal(t, "slow", fmt.Sprintf("ev-%d", i), 2*time.Second)
		if final.Status != DeliveryFailed || !strings.Contains(final.Error, "shutting down") {
			t.Errorf("slow ev-%d: %+v", i, final)
		}
	}
}

func TestDispatcherUnknownChannel(t *testing.T) {
	rec := newRecorder()
	d := NewDispatcher(map[string]Channel{}, rec.record, nil)
	defer shutdown(t, d)
	d.Notify(sample(), []string{"nope", "nope"})
	got := rec.all()
	if len(got) != 1 || got[0].Status != DeliveryFailed || got[0].Attempts != 0 || got[0].Channel != "nope" ||
		got[0].Error != `unknown notification channel "nope"` {
		t.Fatalf("deliveries %+v", got)
	}
}

func TestDispatcherQueueFull(t *testing.T) {
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	blocked := funcChannel(func(ctx context.Context, n Notification) error {
		started <- struct{}{}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	rec := newRecorder()
	opts := fast
	opts.QueueSize = 2
	d := NewDispatcherWithOptions(map[string]Channel{"b": blocked}, rec.record, nil, opts)
	defer shutdown(t, d)
	notify := func(id string) {
		n := sample()
		n.EventID = id
		d.Notify(n, []string{"b"})
	}
	notify("ev-1")
	<-started // ev-1 is in flight; two more fit in the queue
	notify("ev-2")
	notify("ev-3")
	notify("ev-4")
	final := rec.waitFinal(t, "b", "ev-4", time.Second)
	if final.Status != DeliveryFailed || !strings.Contains(final.Error, "queue is full") {
		t.Fatalf("ev-4: %+v", final)
	}
	close(release)
	for _, id := range []string{"ev-1", "ev-2", "ev-3"} {
		if final := rec.waitFinal(t, "b", id, 5*time.Second); final.Status != DeliverySent {
			t.Errorf("%s: %+v", id, final)
		}
	}
}

func TestDispatcherAfterShutdown(t *testing.T) {
	rec := newRecorder()
	d := NewDispatcher(map[string]Channel{"c": funcChannel(func(context.Context, Notification) error { return nil })}, rec.record, nil)
	shutdown(t, d)
	d.Notify(sample(), []string{"c"})
	final := rec.waitFinal(t, "c", "ev-0001", time.Second)
	if final.Status != DeliveryFailed || !strings.Contains(final.Error, "shut down") {
		t.Fatalf("after shutdown: %+v", final)
	}
	shutdown(t, d) // a second Shutdown is harmless
}

func TestDispatcherShutdownStopsRetries(t *testing.T) {
	rec := newRecorder()
	failing := funcChannel(func(context.Context, Notification) error { return errors.New("connection refused") })
	d := NewDispatcherWithOptions(map[string]Channel{"c": failing}, rec.record, nil, Options{InitialBackoff: time.Hour})
	d.Notify(sample(), []string{"c"})
	deadline := time.Now().Add(time.Second)
	for len(rec.of("c")) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	shutdown(t, d)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("shutdown waited %s for an hour's backoff", took)
	}
	final := rec.waitFinal(t, "c", "ev-0001", time.Second)
	if final.Status != DeliveryFailed || final.Attempts != 1 ||
		final.Error != "connection refused (not retried: the collector is shutting down)" {
		t.Fatalf("final %+v", final)
	}
}

func TestDispatcherPanickingChannel(t *testing.T) {
	rec := newRecorder()
	opts := fast
	opts.MaxAttempts = 2
	d := NewDispatcherWithOptions(map[string]Channel{
		"p": funcChannel(func(context.Context, Notification) error { panic("boom") }),
	}, rec.record, nil, opts)
	defer shutdown(t, d)
	d.Notify(sample(), []string{"p"})
	final := rec.waitFinal(t, "p", "ev-0001", time.Second)
	if final.Status != DeliveryFailed || final.Attempts != 2 || !strings.Contains(final.Error, "panicked: boom") {
		t.Fatalf("final %+v", final)
	}
	// The worker survived.
	n := sample()
	n.EventID = "ev-2"
	d.Notify(n, []string{"p"})
	rec.waitFinal(t, "p", "ev-2", time.Second)
}

func TestDispatcherAttemptTimeout(t *testing.T) {
	rec := newRecorder()
	opts := fast
	opts.MaxAttempts, opts.AttemptTimeout = 1, 20*time.Millisecond
	hang := funcChannel(func(ctx context.Context, _ Notification) error { <-ctx.Done(); return ctx.Err() })
	d := NewDispatcherWithOptions(map[string]Channel{"h": hang}, rec.record, nil, opts)
	defer shutdown(t, d)
	d.Notify(sample(), []string{"h"})
	final := rec.waitFinal(t, "h", "ev-0001", time.Second)
	if final.Status != DeliveryFailed || final.Error != "attempt timed out after 20ms: context deadline exceeded" {
		t.Fatalf("final %+v", final)
	}
}

func TestBackoff(t *testing.T) {
	d := &Dispatcher{opts: Options{}.withDefaults(), jitter: func() float64 { return 0.5 }}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second,
		8: 128 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 60: 5 * time.Minute} {
		if got := d.backoff(attempt, 0); got != want {
			t.Errorf("attempt %d: %s, want %s", attempt, got, want)
		}
	}
	// The destination's word wins over the schedule, within the cap.
	if got := d.backoff(5, 7*time.Second); got != 7*time.Second {
		t.Errorf("retry after 7s: %s", got)
	}
	if got := d.backoff(1, time.Hour); got != 5*time.Minute {
		t.Errorf("retry after 1h: %s", got)
	}
	d.jitter = func() float64 { return 0 }
	if got := d.backoff(2, 0); got != 1600*time.Millisecond {
		t.Errorf("low jitter: %s", got)
	}
	d.jitter = func() float64 { return 0.999999 }
	if got := d.backoff(2, 0); got < 2399*time.Millisecond || got > 2400*time.Millisecond {
		t.Errorf("high jitter: %s", got)
	}
}

func TestDispatcherHonoursRetryAfter(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"message": "You are being rate limited.", "retry_after": 0.05, "global": false}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	rec := newRecorder()
	// The schedule alone would wait a minute; Discord asked for 50 ms.
	d := NewDispatcherWithOptions(map[string]Channel{"d": build(t, discordConfig(srv.URL, "1"))}, rec.record, nil,
		Options{InitialBackoff: time.Minute})
	defer shutdown(t, d)
	start := time.Now()
	d.Notify(sample(), []string{"d"})
	final := rec.waitFinal(t, "d", "ev-0001", 2*time.Second)
	if final.Status != DeliverySent || final.Attempts != 2 || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("final %+v after %s", final, time.Since(start))
	}
}

// TestNoSecretInDeliveries runs every channel against a server that refuses
// it and quotes the credentials it was sent, and reads every Delivery.
func TestNoSecretInDeliveries(t *testing.T) {
	const hookSecret = "whsec_SECRETSECRETSECRETSECRETSECRET0="
	const hookToken = "HOOKSECRETquerytoken"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		quoted := fmt.Sprintf("%s user=%s pass=%s", r.URL.String(), user, pass)
		if r.URL.Path == "/hook" { // only the webhook knows its secret
			quoted += " secret=" + hookSecret + " key=" + strings.TrimPrefix(hookSecret, "whsec_")
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/2010-04-01/"):
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprintf(w, `{"code": 20003, "message": %q, "status": 401}`, quoted)
		case strings.HasPrefix(r.URL.Path, "/api/webhooks/"):
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprintf(w, `{"code": 50027, "message": %q}`, quoted)
		default:
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "invalid_token "+quoted)
		}
	}))
	defer echo.Close()
	cert, caPEM := selfSigned(t)
	smtpPort := startSMTP(t, &smtpFake{password: "another"}, &cert, false)

	hook := webhookConfig(echo.URL+"/hook?token="+hookToken, hookSecret)
	cfgs := map[string]ChannelConfig{
		"slack":   slackConfig(echo.URL),
		"discord": discordConfig(echo.URL, "42"),
		"twilio":  twilioConfig(echo.URL, "+15551230001"),
		"webhook": hook,
		"email":   emailConfig(smtpPort, caPEM),
	}
	tw := cfgs["twilio"]
	tw.Twilio.APIKeySID, tw.Twilio.APIKeySecret = "SK1", configopaque.String(twilioKeySecret)
	cfgs["twilio"] = tw

	chs := map[string]Channel{}
	for name, c := range cfgs {
		chs[name] = build(t, c)
	}
	rec := newRecorder()
	opts := fast
	opts.MaxAttempts = 2
	d := NewDispatcherWithOptions(chs, rec.record, nil, opts)
	defer shutdown(t, d)
	d.Notify(sample(), []string{"slack", "discord", "twilio", "webhook", "email"})
	secrets := []string{slackToken, discordToken, twilioToken, twilioKeySecret, hookSecret, hookToken, smtpPassword,
		strings.TrimPrefix(hookSecret, "whsec_")}
	for name := range cfgs {
		final := rec.waitFinal(t, name, "ev-0001", 5*time.Second)
		if final.Status != DeliveryFailed || final.Error == "" {
			t.Errorf("%s: %+v", name, final)
		}
	}
	for _, dl := range rec.all() {
		assertNoSecret(t, dl.Channel, dl.Error, secrets...)
		if dl.Status == DeliveryFailed && !strings.Contains(dl.Error, "[redacted]") {
			t.Errorf("%s: %q, want the echoed secrets redacted", dl.Channel, dl.Error)
		}
	}
}

func TestDispatcherChannels(t *testing.T) {
	nop := funcChannel(func(context.Context, Notification) error { return nil })
	d := NewDispatcher(map[string]Channel{"b": nop, "a": nop}, nil, nil)
	defer shutdown(t, d)
	if got := d.Channels(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("channels %v", got)
	}
}

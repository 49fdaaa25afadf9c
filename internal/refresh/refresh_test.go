package refresh

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type step struct {
	replaced bool
	err      error
}

// A failing streak is logged once however long it lasts, and its end once;
// changed hears only the refreshes that replaced the copy, never a failed
// one; each refresh gets its own deadline of at least 5s; an error when ctx
// ends stops the loop without a word.
func TestLoop(t *testing.T) {
	down := errors.New("store down")
	script := []step{
		{err: down}, {replaced: true, err: down}, {err: down}, // one streak, one warning
		{}, {replaced: true}, {},
		{err: down}, {replaced: true}, // a second streak, then a replacing recovery
	}
	core, logs := observer.New(zapcore.InfoLevel)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var (
		mu        sync.Mutex
		calls     int
		deadlines []time.Duration
	)
	refresh := func(rctx context.Context) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		d, ok := rctx.Deadline()
		if !ok {
			t.Error("refresh without a deadline")
		}
		deadlines = append(deadlines, time.Until(d))
		if calls == len(script) {
			cancel()
			return false, rctx.Err()
		}
		s := script[calls]
		calls++
		return s.replaced, s.err
	}
	changed := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Loop(ctx, time.Millisecond, "widgets", zap.New(core), refresh, func() { changed++ })
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Loop did not return after ctx ended")
	}

	if calls != len(script) {
		t.Fatalf("%d refreshes, want %d", calls, len(script))
	}
	if changed != 2 {
		t.Errorf("changed called %d times, want 2 (the successful replacing refreshes)", changed)
	}
	for _, d := range deadlines {
		if d < 4*time.Second || d > 5*time.Second {
			t.Errorf("refresh deadline %v away, want about 5s", d)
		}
	}
	var got []string
	for _, e := range logs.All() {
		got = append(got, e.Level.String()+": "+e.Message)
		if e.Level == zapcore.WarnLevel && e.ContextMap()["error"] != down.Error() {
			t.Errorf("warning without the error: %v", e.ContextMap())
		}
	}
	want := []string{
		"warn: cannot read widgets again; the widgets as last read stay in force",
		"info: widgets are read again",
		"warn: cannot read widgets again; the widgets as last read stay in force",
		"info: widgets are read again",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A loop waiting for its next tick returns as soon as ctx ends, without
// refreshing; a nil changed is allowed.
func TestLoopReturnsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	refreshed := false
	go func() {
		defer close(done)
		Loop(ctx, time.Hour, "widgets", zap.NewNop(), func(context.Context) (bool, error) {
			refreshed = true
			return true, nil
		}, nil)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Loop did not return after ctx ended")
	}
	if refreshed {
		t.Error("refreshed before the first tick")
	}
}

// Scalar answers the one value of the real store's answer, "" when there
// is no row, and names what it read in its errors.
func TestScalar(t *testing.T) {
	s, _ := storetest.Start(t, "refresh_scalar")
	ctx := t.Context()
	v, err := Scalar(ctx, s, "SELECT toString({n:UInt32} + 1)", store.Params{"n": "41"}, "the answer")
	if err != nil || v != "42" {
		t.Fatalf("Scalar = %q, %v; want 42", v, err)
	}
	v, err = Scalar(ctx, s, "SELECT 'x' WHERE 0", nil, "nothing")
	if err != nil || v != "" {
		t.Fatalf("no row: %q, %v; want \"\"", v, err)
	}
	_, err = Scalar(ctx, s, "SELECT toString(count()) FROM no_such_table_here", nil, "widgets' versions")
	if err == nil || !strings.HasPrefix(err.Error(), "read widgets' versions: ") {
		t.Fatalf("missing table: %v", err)
	}
	// A row of two values does not scan into one string.
	_, err = Scalar(ctx, s, "SELECT 'a', 'b'", nil, "a pair")
	if err == nil || !strings.HasPrefix(err.Error(), "read a pair: ") {
		t.Fatalf("two values scanned as one: %v", err)
	}
}

package nexusapiextension

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// stuckStore is the real store, except that queries containing match do
// not answer until their context ends or the test releases one: a read as
// slow as a store can be.
type stuckStore struct {
	store.Store
	match   string
	entered chan string
	release chan struct{}
}

func (s *stuckStore) Query(ctx context.Context, q string, params store.Params) (store.Rows, error) {
	if strings.Contains(q, s.match) {
		s.entered <- q
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.release:
		}
	}
	return s.Store.Query(ctx, q, params)
}

// storeProvider offers a store under the chstore id, as the extension does.
type storeProvider struct {
	component.Component
	s store.Store
}

func (p storeProvider) Store() store.Store { return p.s }

// One viewer's heavy reads cannot take the API's whole read budget: a key
// gets at most reads.max_per_key at once (429 after reads.max_wait), the
// API at most reads.max_concurrent (503 after reads.max_wait), and every
// read ends at request_timeout (503) instead of holding its slot for ever.
// A request that finds a slot freed while it waits is served.
func TestReadsBoundedAndDeadline(t *testing.T) {
	real, host := storetest.Start(t, freshDB("api_read_budget"))
	stuck := &stuckStore{Store: real, match: "quantiles", entered: make(chan string, 10), release: make(chan struct{})}
	exts := map[component.ID]component.Component{}
	for id, ext := range host.Extensions {
		exts[id] = ext
	}
	exts[storetest.ID] = storeProvider{Component: host.Extensions[storetest.ID], s: stuck}
	host.Extensions = exts
	ta := startAPIOn(t, real, host, func(c *Config) {
		c.RequestTimeout = time.Second
		c.Reads = ReadsConfig{MaxConcurrent: 2, MaxPerKey: 1, MaxWait: 300 * time.Millisecond}
	})
	a, b, c := ta.key("viewer"), ta.key("viewer"), ta.key("viewer")
	const stats = "/api/v1/calls/stats"

	type answer struct {
		e    envelope
		took time.Duration
	}
	heavy := func(key string) <-chan answer {
		out := make(chan answer, 1)
		go func() {
			began := time.Now()
			e := ta.do("GET", stats, key, nil)
			out <- answer{e, time.Since(began)}
		}()
		select {
		case <-stuck.entered:
		case <-time.After(5 * time.Second):
			t.Fatal("the stats read never reached the store")
		}
		return out
	}
	fromA := heavy(a)
	// The same viewer again: it waits for its own share, then 429.
	began := time.Now()
	e := ta.do("GET", stats, a, nil)
	if waited := time.Since(began); e.status != 429 || e.header.Get("Retry-After") == "" ||
		waited < 250*time.Millisecond || waited > 900*time.Millisecond {
		t.Fatalf("second read of one key: %d %+v after %s", e.status, e.Error, waited)
	}
	fromB := heavy(b)
	// Both slots held: a third viewer waits max_wait, then 503.
	began = time.Now()
	e = ta.do("GET", "/api/v1/budgets", c, nil)
	if waited := time.Since(began); e.status != 503 || e.Error.Code != "BUSY" || e.header.Get("Retry-After") == "" ||
		waited < 250*time.Millisecond || waited > 900*time.Millisecond {
		t.Fatalf("read with the budget used up: %d %+v after %s", e.status, e.Error, waited)
	}
	// The stuck reads end at request_timeout, not never.
	for _, ch := range []<-chan answer{fromA, fromB} {
		select {
		case got := <-ch:
			if got.e.status != 503 || got.e.Error.Code != "TIMEOUT" || got.took > 3*time.Second {
				t.Fatalf("stuck read: %d %+v after %s", got.e.status, got.e.Error, got.took)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a read stuck in the store outlived request_timeout")
		}
	}
	// Their slots are free again.
	if e := ta.do("GET", "/api/v1/budgets", c, nil); e.status != 200 {
		t.Fatalf("after the stuck reads ended: %d %+v", e.status, e.Error)
	}
	// Waiting is served when a slot frees in time: a page's parallel
	// requests queue rather than fail.
	held := heavy(a)
	go func() { time.Sleep(100 * time.Millisecond); stuck.release <- struct{}{} }()
	began = time.Now()
	if e := ta.do("GET", "/api/v1/budgets", a, nil); e.status != 200 || time.Since(began) < 100*time.Millisecond {
		t.Fatalf("queued behind its own key's read: %d %+v after %s", e.status, e.Error, time.Since(began))
	}
	if got := <-held; got.e.status != 200 {
		t.Fatalf("the released read: %d %+v", got.e.status, got.e.Error)
	}
	// Writes are not queued behind reads.
	if e := ta.do("POST", "/api/v1/keys", ta.admin, map[string]string{"name": "w", "role": "viewer"}); e.status != 201 {
		t.Fatalf("write: %d", e.status)
	}
}

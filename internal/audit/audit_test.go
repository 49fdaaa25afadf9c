package audit

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func entry(tenant, action, resource string) Entry {
	return Entry{Tenant: tenant, ActorType: ActorKey, ActorID: "key_1", Via: "key", Action: action,
		ResourceType: "budget", ResourceID: resource, RequestID: "req", ClientAddr: "10.0.0.1", Outcome: OutcomeSuccess}
}

func mustAppend(t *testing.T, l *Log, e Entry) Entry {
	t.Helper()
	got, err := l.Append(t.Context(), e)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Each tenant's chain numbers from 1 and links to its own previous entry;
// the installation's ("") is a chain of its own. A second Log over the
// same table continues every chain where the first left it, and the
// stored entries verify.
func TestAppendChainsPerTenantAndReload(t *testing.T) {
	s, _ := storetest.Start(t, "audit_chain")
	l := New(s, nil)
	want := map[string][]Entry{}
	for i, tenant := range []string{"acme", "", "acme", "globex", "", "acme"} {
		e := mustAppend(t, l, entry(tenant, "budget.create", "bud_"+string(rune('a'+i))))
		want[tenant] = append(want[tenant], e)
	}
	for tenant, es := range want {
		for i, e := range es {
			if e.Seq != uint64(i+1) {
				t.Fatalf("%q entry %d has seq %d", tenant, i, e.Seq)
			}
			prev := ""
			if i > 0 {
				prev = es[i-1].Hash
			}
			if e.PrevHash != prev || e.Hash != Hash(e) || len(e.Hash) != 64 {
				t.Fatalf("%q seq %d: prev %q (want %q), hash %q", tenant, e.Seq, e.PrevHash, prev, e.Hash)
			}
			if e.At.Location() != time.UTC || !e.At.Equal(e.At.Truncate(time.Microsecond)) {
				t.Fatalf("at %v is not UTC microseconds", e.At)
			}
		}
	}

	other := New(s, nil)
	next := mustAppend(t, other, entry("acme", "key.revoke", "key_9"))
	if last := want["acme"][2]; next.Seq != 4 || next.PrevHash != last.Hash || next.At.Before(last.At) {
		t.Fatalf("reloaded chain: %+v after %+v", next, last)
	}
	if first := mustAppend(t, other, entry("initech", "tenant.create", "initech")); first.Seq != 1 || first.PrevHash != "" {
		t.Fatalf("new tenant's chain: %+v", first)
	}
	vs, err := other.VerifyAll(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, v := range vs {
		if !v.OK {
			t.Fatalf("chain broken: %+v", v)
		}
		got[v.Tenant] = v.Entries
	}
	if len(got) != 4 || got["acme"] != 4 || got[""] != 2 || got["globex"] != 1 || got["initech"] != 1 {
		t.Fatalf("verified %v", got)
	}
}

// What Append stores is what comes back, and hashes alike: secrets in
// before/after are masked, invalid UTF-8 is replaced, oversized text is
// cut; an entry without an action is refused. The JSON of an entry has the
// API's names and leaves out absent before/after.
func TestAppendNormalisesHostileInput(t *testing.T) {
	s, _ := storetest.Start(t, "audit_hostile")
	l := New(s, nil)
	if _, err := l.Append(t.Context(), Entry{Tenant: "acme"}); err == nil {
		t.Fatal("accepted an entry without an action")
	} else if inv, ok := domainerr.AsInvalid(err); !ok || inv.Fields[0].Field != "action" {
		t.Fatalf("no action: %v", err)
	}
	e := entry("acme", "user.update", "usr_1")
	e.Before = json.RawMessage(`{"email":"a@b.c","password":"hunter2"}`)
	e.After = Mask(map[string]any{"email": "x@b.c", "token": "t0k"})
	e.Detail = strings.Repeat("é", maxDetail) // twice the bound in bytes
	e.ClientAddr = "bad\xffutf8"
	e.At = time.Unix(0, 0) // Append's to set
	got := mustAppend(t, l, e)
	if strings.Contains(string(got.Before), "hunter2") || !strings.Contains(string(got.Before), `"password":"***"`) {
		t.Fatalf("before not masked: %s", got.Before)
	}
	if len(got.Detail) > maxDetail || len(got.Detail) < maxDetail-1 || !strings.HasPrefix(got.Detail, "é") || got.ClientAddr != "bad\uFFFDutf8" {
		t.Fatalf("detail %d bytes, client %q", len(got.Detail), got.ClientAddr)
	}
	if time.Since(got.At) > time.Minute {
		t.Fatalf("at %v is not Append's", got.At)
	}
	plain := mustAppend(t, l, entry("acme", "budget.delete", "bud_1"))

	stored, _, err := l.List(t.Context(), Filter{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Fatalf("stored %d entries", len(stored))
	}
	sj, _ := json.Marshal(stored[1])
	gj, _ := json.Marshal(got)
	if string(sj) != string(gj) {
		t.Fatalf("stored\n%s\nappended\n%s", sj, gj)
	}
	if v, err := l.Verify(t.Context(), "acme"); err != nil || !v.OK || v.Entries != 2 {
		t.Fatalf("verify %+v %v", v, err)
	}

	var fields map[string]any
	pj, _ := json.Marshal(plain)
	if err := json.Unmarshal(pj, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tenant", "seq", "at", "actor_type", "actor_id", "via", "action", "resource_type",
		"resource_id", "request_id", "client_addr", "outcome", "detail", "prev_hash", "hash"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("JSON lacks %s: %s", k, pj)
		}
	}
	if _, ok := fields["before"]; ok || len(fields) != 15 {
		t.Errorf("JSON of an entry without before/after: %s", pj)
	}
	if at, err := time.Parse(time.RFC3339Nano, fields["at"].(string)); err != nil || !at.Equal(plain.At) {
		t.Errorf("at %v: %v", fields["at"], err)
	}
}

// failing fails the batches it is told to, as a store that is down.
type failing struct {
	store.Store
	mu   sync.Mutex
	fail bool
}

func (f *failing) PrepareBatch(ctx context.Context, table string, columns []string) (store.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errors.New("store down")
	}
	return f.Store.PrepareBatch(ctx, table, columns)
}

// An Append that fails to write leaves the chain as it was: the next one
// takes the seq and prev_hash the failed one would have.
func TestFailedAppendLeavesHead(t *testing.T) {
	s, _ := storetest.Start(t, "audit_failed")
	fs := &failing{Store: s}
	l := New(fs, nil)
	first := mustAppend(t, l, entry("acme", "a.one", "1"))
	fs.fail = true
	if _, err := l.Append(t.Context(), entry("acme", "a.two", "2")); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("append on a failing store: %v", err)
	}
	fs.fail = false
	second := mustAppend(t, l, entry("acme", "a.three", "3"))
	if second.Seq != 2 || second.PrevHash != first.Hash {
		t.Fatalf("after a failed write: %+v", second)
	}
	if v, err := l.Verify(t.Context(), "acme"); err != nil || !v.OK || v.Entries != 2 {
		t.Fatalf("verify %+v %v", v, err)
	}
}

// Concurrent appends to one tenant (and another) are serialised: seqs are
// contiguous and the chain verifies.
func TestConcurrentAppends(t *testing.T) {
	s, _ := storetest.Start(t, "audit_concurrent")
	l := New(s, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 60 {
		tenant := "acme"
		if i >= 50 {
			tenant = "globex"
		}
		wg.Go(func() {
			if _, err := l.Append(context.Background(), entry(tenant, "key.create", "k")); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seqs := map[uint64]bool{}
	all, _, err := l.List(t.Context(), Filter{Tenant: "acme", Limit: MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		seqs[e.Seq] = true
	}
	for i := uint64(1); i <= 50; i++ {
		if !seqs[i] {
			t.Fatalf("seq %d missing among %d entries", i, len(all))
		}
	}
	if len(all) != 50 {
		t.Fatalf("%d entries", len(all))
	}
	for _, tenant := range []string{"acme", "globex"} {
		if v, err := l.Verify(t.Context(), tenant); err != nil || !v.OK {
			t.Fatalf("verify %s: %+v %v", tenant, v, err)
		}
	}
}

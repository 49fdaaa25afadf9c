package insights

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// A read of the last 30 days is reused for RecentFor, per scope and kinds:
// the idle-key advice about exa outlives exa's first call until the
// answer is a minute old, while a read with a range sees the call at once.
// An answer past RecentFor is still served, once, while a new one is
// computed; past staleFor the read waits for a new one.
func TestRecentRecommendationsReusedForRecentFor(t *testing.T) {
	s, _ := storetest.Start(t, "insights_recent")
	cfg := DefaultConfig()
	svc := New(s, &cfg, func(p string) bool { return p == "exa" })
	t.Cleanup(svc.Close)
	clock := time.Now().UTC()
	var mu sync.Mutex
	svc.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	month := func() schema.Filter {
		now := svc.now()
		return schema.Filter{From: now.Add(-30 * 24 * time.Hour), To: now}
	}
	idle := func(r Recommendations) bool {
		for _, rec := range r.Recommendations {
			if rec.ID == kindIdleKey+":exa" {
				return true
			}
		}
		return false
	}
	read := func(what string, kinds map[string]bool) Recommendations {
		t.Helper()
		r, err := svc.RecentRecommendations(t.Context(), month(), kinds)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return r
	}

	first := read("first", nil)
	if !idle(first) || first.To != clock.Format(time.RFC3339Nano) {
		t.Fatalf("exa configured, no calls: %+v", first)
	}
	storetest.SeedCalls(t, s, storetest.Call{At: clock.Add(-time.Hour), Provider: "exa", Operation: "search", Cost: "0.005"})
	advance(59 * time.Second)

	if again := read("within recent_for", nil); !idle(again) || again.To != first.To {
		t.Fatalf("within recent_for: the same answer (to %s) expected, got to %s, idle %v", first.To, again.To, idle(again))
	}
	if fresh, err := svc.Recommendations(t.Context(), month(), nil); err != nil || idle(fresh) {
		t.Fatalf("a read with a range is computed: idle %v %v", idle(fresh), err)
	}
	// Another scope or kinds is another answer, computed now.
	if other := read("other kinds", map[string]bool{kindIdleKey: true}); idle(other) || other.To == first.To {
		t.Fatalf("other kinds: idle %v to %s", idle(other), other.To)
	}
	f := month()
	f.Tenant = "other"
	if r, err := svc.RecentRecommendations(t.Context(), f, nil); err != nil || r.To == first.To {
		t.Fatalf("another tenant shares an answer: %+v %v", r, err)
	}

	// Past recent_for: the old answer once more, a new one computed
	// meanwhile, then served.
	advance(time.Second)
	if stale := read("past recent_for", nil); !idle(stale) || stale.To != first.To {
		t.Fatalf("past recent_for: the old answer while a new one is computed, got idle %v to %s", idle(stale), stale.To)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := read("after the refresh", nil)
		if !idle(r) && r.To == clock.Format(time.RFC3339Nano) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new answer after recent_for: idle %v to %s", idle(r), r.To)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Past staleFor the read waits for a new answer.
	storetest.SeedCalls(t, s, storetest.Call{At: clock.Add(-time.Minute), Provider: "exa", Operation: "search", Cost: "0.005"})
	advance(staleFor)
	if r := read("past staleFor", nil); idle(r) || r.To != clock.Format(time.RFC3339Nano) {
		t.Fatalf("past staleFor: a new answer expected, got idle %v to %s", idle(r), r.To)
	}

	// 0 computes every read.
	cfg.RecentFor = 0
	a := read("recent_for 0", nil)
	advance(time.Millisecond)
	if b := read("recent_for 0 again", nil); a.To == b.To {
		t.Fatal("recent_for 0 reused an answer")
	}
}

// A read that gives up does not stop the computation others wait for, and
// Close ends background work.
func TestRecentRecommendationsCallerGivesUp(t *testing.T) {
	s, _ := storetest.Start(t, "insights_recent_cancel")
	cfg := DefaultConfig()
	svc := New(s, &cfg, func(string) bool { return false })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	now := time.Now().UTC()
	f := schema.Filter{From: now.Add(-30 * 24 * time.Hour), To: now}
	if _, err := svc.RecentRecommendations(ctx, f, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled read: %v", err)
	}
	if _, err := svc.RecentRecommendations(t.Context(), f, nil); err != nil {
		t.Fatalf("the next read: %v", err)
	}
	svc.Close()
	svc.refresh("k", f, nil) // after Close: nothing starts
	if svc.recent.refreshing.Load() {
		t.Fatal("a refresh started after Close")
	}
}

// The memo holds at most maxRecentEntries answers, however many scopes are
// asked.
func TestRecentRecommendationsBounded(t *testing.T) {
	var m recentMemo
	now := time.Now()
	for i := range maxRecentEntries * 3 {
		m.put(fmt.Sprint(i), recentEntry{at: now.Add(time.Duration(i) * time.Millisecond)})
	}
	if len(m.entries) != maxRecentEntries {
		t.Fatalf("%d entries", len(m.entries))
	}
	if _, ok := m.get(fmt.Sprint(maxRecentEntries*3-1), now.Add(time.Second), staleFor); !ok {
		t.Fatal("the newest entry was dropped")
	}
	if _, ok := m.get("0", now.Add(time.Second), staleFor); ok {
		t.Fatal("the oldest entry was kept")
	}
	// Entries past staleFor go first: one put after it leaves one entry.
	m.put("new", recentEntry{at: now.Add(2 * staleFor)})
	if len(m.entries) != 1 {
		t.Fatalf("%d entries after the others expired", len(m.entries))
	}
}

package insights

import (
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
func TestRecentRecommendationsReusedForRecentFor(t *testing.T) {
	s, _ := storetest.Start(t, "insights_recent")
	cfg := DefaultConfig()
	svc := New(s, &cfg, func(p string) bool { return p == "exa" })
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

	first, err := svc.RecentRecommendations(t.Context(), month(), nil)
	if err != nil || !idle(first) {
		t.Fatalf("exa configured, no calls: %+v %v", first, err)
	}
	storetest.SeedCalls(t, s, storetest.Call{At: clock.Add(-time.Hour), Provider: "exa", Operation: "search", Cost: "0.005"})
	advance(59 * time.Second)

	again, err := svc.RecentRecommendations(t.Context(), month(), nil)
	if err != nil || !idle(again) || again.To != first.To {
		t.Fatalf("within recent_for: the same answer (to %s) expected, got to %s, idle %v, %v", first.To, again.To, idle(again), err)
	}
	if fresh, err := svc.Recommendations(t.Context(), month(), nil); err != nil || idle(fresh) {
		t.Fatalf("a read with a range is computed: idle %v %v", idle(fresh), err)
	}
	// Another scope or kinds is another answer, computed now.
	other, err := svc.RecentRecommendations(t.Context(), month(), map[string]bool{kindIdleKey: true})
	if err != nil || idle(other) || other.To == first.To {
		t.Fatalf("other kinds: idle %v to %s, %v", idle(other), other.To, err)
	}
	f := month()
	f.Tenant = "other"
	if r, err := svc.RecentRecommendations(t.Context(), f, nil); err != nil || r.To == first.To {
		t.Fatalf("another tenant shares an answer: %+v %v", r, err)
	}

	advance(time.Second)
	later, err := svc.RecentRecommendations(t.Context(), month(), nil)
	if err != nil || idle(later) || later.To == first.To {
		t.Fatalf("after recent_for: a new answer expected, got idle %v to %s, %v", idle(later), later.To, err)
	}

	// 0 computes every read.
	cfg.RecentFor = 0
	storetest.SeedCalls(t, s, storetest.Call{At: clock.Add(-time.Minute), Provider: "exa", Operation: "search", Cost: "0.005"})
	a, _ := svc.RecentRecommendations(t.Context(), month(), nil)
	advance(time.Millisecond)
	b, _ := svc.RecentRecommendations(t.Context(), month(), nil)
	if a.To == b.To {
		t.Fatal("recent_for 0 reused an answer")
	}
}

// The memo holds at most maxRecentEntries answers, however many scopes are
// asked.
func TestRecentRecommendationsBounded(t *testing.T) {
	var m recentMemo
	now := time.Now()
	for i := range maxRecentEntries * 3 {
		m.put(fmt.Sprint(i), recentEntry{at: now.Add(time.Duration(i) * time.Millisecond)}, time.Minute)
	}
	if len(m.entries) != maxRecentEntries {
		t.Fatalf("%d entries", len(m.entries))
	}
	if _, ok := m.get(fmt.Sprint(maxRecentEntries*3-1), now.Add(time.Second), time.Minute); !ok {
		t.Fatal("the newest entry was dropped")
	}
	if _, ok := m.get("0", now.Add(time.Second), time.Minute); ok {
		t.Fatal("the oldest entry was kept")
	}
	// Expired entries go first: one put after a minute leaves one entry.
	m.put("new", recentEntry{at: now.Add(time.Hour)}, time.Minute)
	if len(m.entries) != 1 {
		t.Fatalf("%d entries after the others expired", len(m.entries))
	}
}

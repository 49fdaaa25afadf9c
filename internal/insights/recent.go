package insights

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/nexus-otel/nexus/internal/schema"
)

// The recommendations of "the last 30 days" rest on every raw call of the
// month: at 10 million calls one read costs a few hundred milliseconds of
// both cores, and a console page asks it on every visit, beside the
// page's other reads. A month of calls does not change its advice in a
// minute, so the answer of a read without a range is reused for
// Config.RecentFor: each caller gets a window ending at most that long
// ago, and says so (the answer's from and to are the window computed).
// Reads with an explicit range are always computed.

// maxRecentEntries bounds the memo: one entry per (tenant, scope, kinds,
// window length) asked within RecentFor. A hostile key sending endless
// distinct scopes evicts others' entries, never grows the memory.
const maxRecentEntries = 256

// recentMemo holds recent answers by key, with the time each was computed.
type recentMemo struct {
	mu      sync.Mutex
	entries map[string]recentEntry
	flight  singleflight.Group
}

type recentEntry struct {
	at   time.Time
	recs Recommendations
}

// RecentRecommendations is Recommendations over a window of f's length
// ending now, answered from a computation at most Config.RecentFor old
// when one exists for the same tenant, scope, kinds and window length;
// concurrent reads of one key share one computation. f.To must be now
// (the caller's default range): the answer's From and To are those of
// the window actually computed, which may end up to RecentFor earlier.
func (s *Service) RecentRecommendations(ctx context.Context, f schema.Filter, kinds map[string]bool) (Recommendations, error) {
	ttl := s.cfg.RecentFor
	if ttl <= 0 {
		return s.Recommendations(ctx, f, kinds)
	}
	key := recentKey(f, kinds)
	if recs, ok := s.recent.get(key, s.now(), ttl); ok {
		return recs, nil
	}
	// The computation outlives a caller that gives up, so that the
	// others waiting on it still get it; it keeps the caller's values.
	v, err, _ := s.recent.flight.Do(key, func() (any, error) {
		if recs, ok := s.recent.get(key, s.now(), ttl); ok {
			return recs, nil
		}
		at := s.now()
		recs, err := s.Recommendations(context.WithoutCancel(ctx), f, kinds)
		if err != nil {
			return nil, err
		}
		s.recent.put(key, recentEntry{at: at, recs: recs}, ttl)
		return recs, nil
	})
	if err != nil {
		return Recommendations{}, err
	}
	return v.(Recommendations), nil
}

// recentKey names what a recent answer depends on besides the time: the
// scope (tenant included), the kinds asked and the window's length.
func recentKey(f schema.Filter, kinds map[string]bool) string {
	ks := make([]string, 0, len(kinds))
	for k, on := range kinds {
		if on {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	// %#v spells every field of the scope, maps in key order.
	return fmt.Sprintf("%#v|%s|%d", f.Scope, strings.Join(ks, ","), f.To.Sub(f.From))
}

func (m *recentMemo) get(key string, now time.Time, ttl time.Duration) (Recommendations, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || now.Sub(e.at) >= ttl || now.Before(e.at) {
		return Recommendations{}, false
	}
	return e.recs, true
}

// put stores e, first dropping expired entries and then, when still full,
// the oldest.
func (m *recentMemo) put(key string, e recentEntry, ttl time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[string]recentEntry{}
	}
	if _, ok := m.entries[key]; !ok && len(m.entries) >= maxRecentEntries {
		oldest := ""
		for k, o := range m.entries {
			if e.at.Sub(o.at) >= ttl {
				delete(m.entries, k)
				continue
			}
			if oldest == "" || o.at.Before(m.entries[oldest].at) {
				oldest = k
			}
		}
		if len(m.entries) >= maxRecentEntries {
			delete(m.entries, oldest)
		}
	}
	m.entries[key] = e
}

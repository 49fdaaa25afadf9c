package insights

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/nexus-otel/nexus/internal/schema"
)

// The recommendations of "the last 30 days" rest on every raw call of the
// month: at 10 million calls one read costs a few hundred milliseconds of
// both cores, and a console page asks it on every visit, beside the
// page's other reads. A month of calls does not change its advice in a
// minute, so the answer of a read without a range is reused: for
// Config.RecentFor as it is, then, up to staleFor, served at once while a
// new one is computed in the background (one at a time), so that a visit
// rarely waits for the month to be read. Each answer says which window
// it was computed for (its from and to). Reads with an explicit range
// are always computed.

// maxRecentEntries bounds the memo: one entry per (tenant, scope, kinds,
// window length) asked within staleFor. A hostile key sending endless
// distinct scopes evicts others' entries, never grows the memory.
const maxRecentEntries = 256

// staleFor is the oldest answer served while a new one is computed; an
// older one is computed before answering.
const staleFor = time.Hour

// computeTimeout bounds one computation, which no caller's cancellation
// stops (others may be waiting for it).
const computeTimeout = time.Minute

// recentMemo holds recent answers by key, with the time each was computed.
type recentMemo struct {
	mu      sync.Mutex
	entries map[string]recentEntry
	flight  singleflight.Group
	// refreshing allows one background computation at a time: stale
	// answers of other keys are served meanwhile without starting theirs.
	refreshing atomic.Bool
	bg         sync.WaitGroup
	bgCtx      context.Context
	stop       context.CancelFunc
}

type recentEntry struct {
	at   time.Time
	recs Recommendations
}

// RecentRecommendations is Recommendations over a window of f's length
// ending now, answered from an earlier computation for the same tenant,
// scope, kinds and window length when one is at most Config.RecentFor
// old, or at most staleFor old (a new one then starts in the
// background); concurrent reads of one key share one computation. f.To
// must be now (the caller's default range): the answer's From and To are
// those of the window actually computed.
func (s *Service) RecentRecommendations(ctx context.Context, f schema.Filter, kinds map[string]bool) (Recommendations, error) {
	ttl := s.cfg.RecentFor
	if ttl <= 0 {
		return s.Recommendations(ctx, f, kinds)
	}
	key := recentKey(f, kinds)
	now := s.now()
	if e, ok := s.recent.get(key, now, staleFor); ok {
		if now.Sub(e.at) >= ttl {
			s.refresh(key, f, kinds)
		}
		return e.recs, nil
	}
	ch := s.recent.flight.DoChan(key, func() (any, error) { return s.compute(key, f, kinds) })
	select {
	case <-ctx.Done():
		return Recommendations{}, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return Recommendations{}, r.Err
		}
		return r.Val.(Recommendations), nil
	}
}

// compute reads the recommendations of f and keeps them under key. It
// runs on the service's own context, which Close ends.
func (s *Service) compute(key string, f schema.Filter, kinds map[string]bool) (Recommendations, error) {
	ctx, cancel := context.WithTimeout(s.recent.bgCtx, computeTimeout)
	defer cancel()
	// The window ends when the computation starts: a background refresh
	// moves it to now.
	at := s.now()
	f.From, f.To = at.Add(-f.To.Sub(f.From)), at
	recs, err := s.Recommendations(ctx, f, kinds)
	if err != nil {
		return Recommendations{}, err
	}
	s.recent.put(key, recentEntry{at: at, recs: recs})
	return recs, nil
}

// refresh computes key's answer anew in the background, unless another
// background computation runs.
func (s *Service) refresh(key string, f schema.Filter, kinds map[string]bool) {
	m := &s.recent
	if m.bgCtx.Err() != nil || !m.refreshing.CompareAndSwap(false, true) {
		return
	}
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		defer m.refreshing.Store(false)
		_, _, _ = m.flight.Do(key, func() (any, error) { return s.compute(key, f, kinds) })
	}()
}

// Close stops the background computations and waits for them.
func (s *Service) Close() {
	s.recent.stop()
	s.recent.bg.Wait()
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

func (m *recentMemo) get(key string, now time.Time, maxAge time.Duration) (recentEntry, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || now.Sub(e.at) >= maxAge || now.Before(e.at) {
		return recentEntry{}, false
	}
	return e, true
}

// put stores e, first dropping entries past staleFor and then, when
// still full, the oldest.
func (m *recentMemo) put(key string, e recentEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[string]recentEntry{}
	}
	if _, ok := m.entries[key]; !ok && len(m.entries) >= maxRecentEntries {
		oldest := ""
		for k, o := range m.entries {
			if e.at.Sub(o.at) >= staleFor {
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

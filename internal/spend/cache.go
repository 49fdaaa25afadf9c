package spend

import (
	"container/list"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Closed days. A cost read spends 3–6 ms of fixed engine work per table it
// touches however few rows it finds, so fifty distinct reads of a month
// queue on two cores (p95 316 ms at 10 M calls). The whole UTC days before
// today hardly ever change: their day and hour buckets are answered from
// memory, filled once per (read shape, grain, day), and the engine is asked
// only for what is left — today, and the minutes and raw calls at a
// range's edges. A closed day still changes by late data (a call stored
// now with an old timestamp) and by re-pricing (corrections folded into
// every rollup): each entry carries the fingerprint of its day read before
// it was filled, and is used only while a fingerprint read after the
// request arrived still matches (fingerprint.go).

// maxCachedRows bounds the cache: at most this many grouped rows (one
// group's sums in one bucket, ~150 bytes with its key) are held over all
// entries, least recently used dropped first — about 15 MiB. A day whose
// rows alone exceed maxEntryRows (a grouping by customer over 100,000
// customers) is answered but not kept: it would evict everything else.
const (
	maxCachedRows = 100_000
	maxEntryRows  = 10_000
)

// dayCache holds the per-bucket sums of closed days, bounded by rows.
type dayCache struct {
	mu    sync.Mutex
	lru   *list.List // of *dayEntry, most recent first
	byKey map[string]*list.Element
	rows  int
	fills singleflight.Group
	// limit is maxCachedRows unless a test lowers it; off answers
	// everything from the engine (benchmarks compare).
	limit int
	off   bool

	hits, misses atomic.Uint64
}

// dayEntry is one (read shape, grain, UTC day): its rows per bucket start
// (Unix seconds), and the fingerprint of the day they were read under.
type dayEntry struct {
	key     string
	fp      string
	buckets map[int64][]costRow
	rows    int
}

// CacheStats are the closed-day cache's counters since the service began:
// day entries answered from memory and those read from the store.
type CacheStats struct {
	Hits, Misses uint64
	Rows         int
}

// CacheStats reports the closed-day cache's counters.
func (s *Service) CacheStats() CacheStats {
	c := &s.days
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Rows: c.rows}
}

func (c *dayCache) get(key, fp string) (*dayEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*dayEntry)
	if e.fp != fp {
		// The day changed since: the entry can never be right again.
		c.remove(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e, true
}

func (c *dayCache) put(e *dayEntry) {
	// An empty day still costs its key and map: it counts as a row, so
	// that empty entries are bounded too.
	e.rows = max(e.rows, 1)
	if e.rows > maxEntryRows || (c.limit > 0 && e.rows > c.limit) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey, c.lru = map[string]*list.Element{}, list.New()
	}
	if el, ok := c.byKey[e.key]; ok {
		c.remove(el)
	}
	c.byKey[e.key] = c.lru.PushFront(e)
	c.rows += e.rows
	limit := c.limit
	if limit <= 0 {
		limit = maxCachedRows
	}
	for c.rows > limit && c.lru.Len() > 0 {
		c.remove(c.lru.Back())
	}
}

func (c *dayCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*dayEntry)
	delete(c.byKey, e.key)
	c.rows -= e.rows
}

// cacheable tells whether seg is answered from closed days: whole day or
// hour buckets of a rollup, all before closed.
func cacheable(seg schema.Segment, closed time.Time) bool {
	return (seg.Grain == schema.GrainDay || seg.Grain == schema.GrainHour) &&
		seg.Family.Table(seg.Grain) != "" && !seg.To.After(closed)
}

// cachedCosts is costsIn's read without members: the closed days' buckets
// of segs from the cache (filled as needed), the rest from the engine,
// summed per key exactly.
func (s *Service) cachedCosts(ctx context.Context, scope schema.Scope, segs []schema.Segment, at time.Time,
	keys []string, opts schema.SourceOpts, tz string) ([]costRow, error) {
	open, closedSegs := splitClosed(segs)
	if len(closedSegs) == 0 || s.days.off {
		return s.engineCosts(ctx, scope, segs, at, keys, opts, store.Params{"tz": tz})
	}
	// The open part does not wait for the closed one's fingerprints.
	openCh := s.goRead(len(open) > 0, func() ([]costRow, error) {
		return s.engineCosts(ctx, scope, open, at, keys, opts, store.Params{"tz": tz})
	})
	// What the entries of this read are: every input of its SQL but the
	// time range (the grain and day are added per entry).
	shape := fmt.Sprintf("%q\x00%q\x00%q\x00%q", keys, scope, opts.GroupTag, tz)
	first, last := closedSegs[0].From, closedSegs[0].To
	for _, seg := range closedSegs {
		first, last = minTime(first, seg.From), maxTime(last, seg.To)
	}
	fps, err := s.prints.read(ctx, s, scope.Tenant, first.Truncate(24*time.Hour), last)
	if err != nil {
		return nil, err
	}
	sum := newRowSum()
	for _, seg := range closedSegs {
		if err := s.addClosed(ctx, sum, scope, seg, shape, keys, opts, tz, fps); err != nil {
			return nil, err
		}
	}
	if openCh != nil {
		res := <-openCh
		if res.err != nil {
			return nil, res.err
		}
		for _, r := range res.rows {
			sum.add(r)
		}
	}
	return sum.rows(), nil
}

type readResult struct {
	rows []costRow
	err  error
}

// goRead runs read in its own goroutine when do, its answer on the
// channel returned (nil when not do). The channel is buffered: a caller
// that returns early on an error leaks nothing.
func (s *Service) goRead(do bool, read func() ([]costRow, error)) chan readResult {
	if !do {
		return nil
	}
	ch := make(chan readResult, 1)
	go func() {
		rows, err := read()
		ch <- readResult{rows, err}
	}()
	return ch
}

// addClosed adds the buckets of seg, a closed segment, to sum, filling the
// entries of its days that are missing or stale in one read.
func (s *Service) addClosed(ctx context.Context, sum *rowSum, scope schema.Scope, seg schema.Segment, shape string,
	keys []string, opts schema.SourceOpts, tz string, fps map[int64]string) error {
	entries := map[int64]*dayEntry{}
	var missing []time.Time
	for d := seg.From.Truncate(24 * time.Hour); d.Before(seg.To); d = d.Add(24 * time.Hour) {
		key := shape + "\x00" + strconv.Itoa(seg.Grain) + "\x00" + strconv.Itoa(int(seg.Family)) + "\x00" + strconv.FormatInt(d.Unix(), 10)
		if e, ok := s.days.get(key, fps[d.Unix()]); ok {
			s.days.hits.Add(1)
			entries[d.Unix()] = e
			continue
		}
		s.days.misses.Add(1)
		missing = append(missing, d)
	}
	if len(missing) > 0 {
		filled, err := s.fillDays(ctx, scope, seg, shape, missing, keys, opts, tz, fps)
		if err != nil {
			return err
		}
		for d, e := range filled {
			entries[d] = e
		}
	}
	for _, e := range entries {
		for b, rows := range e.buckets {
			if t := time.Unix(b, 0); t.Before(seg.From) || !t.Before(seg.To) {
				continue
			}
			for _, r := range rows {
				sum.add(r)
			}
		}
	}
	return nil
}

// fillDays reads the whole days of seg's grain and family, each bucket
// apart, and keeps each day under the fingerprint read before it.
// Concurrent requests missing the same days under the same fingerprints
// share one read.
func (s *Service) fillDays(ctx context.Context, scope schema.Scope, seg schema.Segment, shape string, days []time.Time,
	keys []string, opts schema.SourceOpts, tz string, fps map[int64]string) (map[int64]*dayEntry, error) {
	var segs []schema.Segment
	var id strings.Builder
	id.WriteString(shape + "\x00" + strconv.Itoa(seg.Grain) + "\x00" + strconv.Itoa(int(seg.Family)))
	for _, d := range days {
		id.WriteString("\x00" + strconv.FormatInt(d.Unix(), 10) + "=" + fps[d.Unix()])
		if n := len(segs); n > 0 && segs[n-1].To.Equal(d) {
			segs[n-1].To = d.Add(24 * time.Hour)
			continue
		}
		segs = append(segs, schema.Segment{Grain: seg.Grain, From: d, To: d.Add(24 * time.Hour), Family: seg.Family})
	}
	ch := s.days.fills.DoChan(id.String(), func() (any, error) {
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.readTimeout)
		defer cancel()
		rows, err := s.engineCostsDirect(qctx, scope, segs, days[0], append(keys[:len(keys):len(keys)], "toString(toUnixTimestamp(ts))"),
			opts, store.Params{"tz": tz})
		if err != nil {
			return nil, err
		}
		out := make(map[int64]*dayEntry, len(days))
		for _, d := range days {
			e := &dayEntry{fp: fps[d.Unix()], buckets: map[int64][]costRow{}}
			e.key = shape + "\x00" + strconv.Itoa(seg.Grain) + "\x00" + strconv.Itoa(int(seg.Family)) + "\x00" + strconv.FormatInt(d.Unix(), 10)
			out[d.Unix()] = e
		}
		for _, r := range rows {
			b, err := strconv.ParseInt(r.keys[len(r.keys)-1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("read closed days: bucket %q: %w", r.keys[len(r.keys)-1], err)
			}
			e := out[time.Unix(b, 0).UTC().Truncate(24*time.Hour).Unix()]
			if e == nil {
				return nil, fmt.Errorf("read closed days: bucket %d outside the days read", b)
			}
			r.keys = r.keys[:len(r.keys)-1]
			e.buckets[b] = append(e.buckets[b], r)
			e.rows++
		}
		for _, e := range out {
			s.days.put(e)
		}
		return out, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(map[int64]*dayEntry), nil
	}
}

// rowSum adds rows by their keys, exactly.
type rowSum struct {
	byKey map[string]*costRow
	order []string
}

func newRowSum() *rowSum { return &rowSum{byKey: map[string]*costRow{}} }

func (s *rowSum) add(r costRow) {
	k := strings.Join(r.keys, "\x00")
	acc, ok := s.byKey[k]
	if !ok {
		c := costRow{keys: r.keys, CostAgg: r.CostAgg}
		s.byKey[k] = &c
		s.order = append(s.order, k)
		return
	}
	acc.Cost = acc.Cost.Add(r.Cost)
	acc.Calls += r.Calls
	acc.Errors += r.Errors
	acc.Unpriced += r.Unpriced
	acc.InputTokens += r.InputTokens
	acc.OutputTokens += r.OutputTokens
}

func (s *rowSum) rows() []costRow {
	out := make([]costRow, len(s.order))
	for i, k := range s.order {
		out[i] = *s.byKey[k]
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// splitClosed parts segs into those the cache may answer (whole UTC days
// before today) and the rest.
func splitClosed(segs []schema.Segment) (open, closed []schema.Segment) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for _, seg := range segs {
		if cacheable(seg, today) {
			closed = append(closed, seg)
		} else {
			open = append(open, seg)
		}
	}
	return open, closed
}

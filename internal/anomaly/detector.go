// Package anomaly scores API calls as they stream past: per series (provider,
// model, operation, service) it keeps a robust baseline of latency and of
// cost per call and says how unusually high a new call is. It is called once
// per span in the cost processor's hot path: an observation of a known
// series takes tens of nanoseconds and allocates nothing.
//
// See estimator.go for the statistics and why they were chosen.
package anomaly

import (
	"fmt"
	"math"
	"strings"
	"sync"
)

// Key names a series. The Detector copies the strings when it adds a series,
// so they may point into short-lived buffers.
type Key struct {
	Provider, Model, Operation, Service string
}

// Result is the detail of one observation.
type Result struct {
	// Score is the larger of LatencyScore and CostScore.
	Score float64
	// LatencyScore and CostScore are the high-side robust z-scores of the
	// call's latency and cost on log scale: how many (robust) standard
	// deviations above the series' usual level. 0 while the metric warms
	// up, when it is absent, and when the value is at or below the level.
	LatencyScore, CostScore float64
	// Anomalous is Score >= Threshold.
	Anomalous bool
	// Scored is whether any metric was past its warm-up.
	Scored bool
}

// Baseline is what a Detector has learnt about a series, for diagnostics.
type Baseline struct {
	// LatencyNanos and CostPico are the typical (geometric center) latency
	// and cost per call; 0 when nothing was learnt yet.
	LatencyNanos, CostPico float64
	// LatencySpread and CostSpread are the scales on log scale, floored as
	// used for scoring: ≈ relative standard deviations.
	LatencySpread, CostSpread float64
	// LatencyCount and CostCount are the observations learnt from.
	LatencyCount, CostCount uint32
}

// Detector scores observations per series. It is safe for concurrent use.
// Results depend only on the sequence of observations (and, with several
// goroutines, on the order in which they take the lock): no randomness, no
// clock.
type Detector struct {
	p         params
	threshold float64
	shards    []shard
}

const nilIdx = -1

// entry is one series: its key, its place in the recency list, its metrics.
type entry struct {
	key        Key
	prev, next int32 // towards head (most recent) / tail (least recent)
	lat, cost  metric
}

// shard holds a bounded set of series in a map and a doubly linked recency
// list threaded through a slab, so lookup, touch and eviction are O(1).
type shard struct {
	mu         sync.Mutex
	index      map[Key]int32
	entries    []entry
	head, tail int32
	limit      int
	_          [64]byte // keep neighbouring shards' locks off this cache line
}

// New returns a Detector. Zero fields of cfg take their DefaultConfig
// values; New panics if cfg is otherwise invalid, so Validate user
// configuration first.
func New(cfg Config) *Detector {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("anomaly: invalid config: %v", err))
	}
	d := &Detector{
		p:         newParams(cfg),
		threshold: cfg.Threshold,
		shards:    make([]shard, cfg.Shards),
	}
	per, extra := cfg.MaxSeries/cfg.Shards, cfg.MaxSeries%cfg.Shards
	for i := range d.shards {
		s := &d.shards[i]
		s.limit = per
		if i < extra {
			s.limit++
		}
		s.index = make(map[Key]int32, min(s.limit, 1024))
		s.head, s.tail = nilIdx, nilIdx
	}
	return d
}

// Observe scores a call against its series' baseline before learning from
// it, then updates the baseline. latencyNanos <= 0 and costPico <= 0 mean
// "unknown" (an unpriced call) and that metric is neither scored nor learnt.
// A call with neither is ignored and does not create a series.
func (d *Detector) Observe(k Key, latencyNanos int64, costPico int64) (score float64, anomalous bool) {
	lz, cz, _ := d.observe(&k, latencyNanos, costPico)
	score = max(lz, cz)
	return score, score >= d.threshold
}

// ObserveResult is Observe with the detail of the score.
func (d *Detector) ObserveResult(k Key, latencyNanos int64, costPico int64) Result {
	lz, cz, scored := d.observe(&k, latencyNanos, costPico)
	score := max(lz, cz)
	return Result{
		Score:        score,
		LatencyScore: lz,
		CostScore:    cz,
		Anomalous:    score >= d.threshold,
		Scored:       scored,
	}
}

func (d *Detector) observe(k *Key, latencyNanos int64, costPico int64) (latZ, costZ float64, scored bool) {
	hasLat, hasCost := latencyNanos > 0, costPico > 0
	if !hasLat && !hasCost {
		return 0, 0, false
	}
	// Logarithms outside the lock.
	var ly, lc float64
	if hasLat {
		ly = math.Log(float64(latencyNanos))
	}
	if hasCost {
		lc = math.Log(float64(costPico))
	}
	s := d.shard(k)
	s.mu.Lock()
	e := s.lookup(k)
	if e == nil {
		s.mu.Unlock()
		owned := cloneKey(*k) // the allocation, outside the lock
		s.mu.Lock()
		e = s.insert(&owned)
	}
	var ok bool
	if hasLat {
		latZ, scored = e.lat.observe(ly, &d.p)
	}
	if hasCost {
		costZ, ok = e.cost.observe(lc, &d.p)
		scored = scored || ok
	}
	s.mu.Unlock()
	return latZ, costZ, scored
}

// Baseline returns what the Detector has learnt about a series, without
// touching its recency.
func (d *Detector) Baseline(k Key) (Baseline, bool) {
	s := d.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index[k]
	if !ok {
		return Baseline{}, false
	}
	e := &s.entries[i]
	var b Baseline
	b.LatencyNanos, b.LatencySpread, b.LatencyCount = e.lat.summary(&d.p)
	b.CostPico, b.CostSpread, b.CostCount = e.cost.summary(&d.p)
	return b, true
}

func (m *metric) summary(p *params) (level, spread float64, n uint32) {
	n = m.n
	switch {
	case n == 0:
		return 0, 0, 0
	case n < p.seedN: // still seeding: report the seed's median
		var v [seedMax]float32
		copy(v[:], m.seed[:n])
		c, s := medianMAD(v[:n])
		return math.Exp(c), max(s, p.minScale), n
	}
	return math.Exp(m.center), max(m.scale, p.minScale), n
}

// Len returns the number of series held.
func (d *Detector) Len() int {
	n := 0
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		n += len(s.index)
		s.mu.Unlock()
	}
	return n
}

// Threshold returns the score at or above which a call is anomalous.
func (d *Detector) Threshold() float64 { return d.threshold }

// shard picks the shard of a key with a fixed (seedless) hash, so that
// placement, and with it eviction, is the same on every run.
func (d *Detector) shard(k *Key) *shard {
	if len(d.shards) == 1 {
		return &d.shards[0]
	}
	h := hashString(0x9e3779b97f4a7c15, k.Provider)
	h = hashString(h, k.Model)
	h = hashString(h, k.Operation)
	h = hashString(h, k.Service)
	// Multiply-shift range reduction on the well-mixed high half.
	return &d.shards[((h>>32)*uint64(len(d.shards)))>>32]
}

// hashString mixes s into h eight bytes at a time (a byte-at-a-time FNV
// costs as much as the rest of Observe). Not for adversarial input: it only
// spreads series over shards.
func hashString(h uint64, s string) uint64 {
	const m = 0xff51afd7ed558ccd
	h ^= uint64(len(s)) // separates ("ab","c") from ("a","bc")
	for len(s) >= 8 {
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ v) * m
		h ^= h >> 29
		s = s[8:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		v |= uint64(s[i]) << (8 * i)
	}
	h = (h ^ v) * m
	return h ^ h>>32
}

// cloneKey copies the four strings into one new allocation, so the
// Detector never pins the caller's buffers.
func cloneKey(k Key) Key {
	var b strings.Builder
	b.Grow(len(k.Provider) + len(k.Model) + len(k.Operation) + len(k.Service))
	b.WriteString(k.Provider)
	b.WriteString(k.Model)
	b.WriteString(k.Operation)
	b.WriteString(k.Service)
	all := b.String()
	i := 0
	cut := func(n int) string {
		s := all[i : i+n]
		i += n
		return s
	}
	return Key{
		Provider:  cut(len(k.Provider)),
		Model:     cut(len(k.Model)),
		Operation: cut(len(k.Operation)),
		Service:   cut(len(k.Service)),
	}
}

// lookup finds a series and marks it most recently seen; nil if absent.
func (s *shard) lookup(k *Key) *entry {
	i, ok := s.index[*k]
	if !ok {
		return nil
	}
	s.moveToFront(i)
	return &s.entries[i]
}

// insert adds a series (or finds it, if another goroutine added it
// meanwhile), evicting the least recently seen one if the shard is full.
func (s *shard) insert(k *Key) *entry {
	if e := s.lookup(k); e != nil {
		return e
	}
	var i int32
	if len(s.entries) < s.limit {
		s.entries = append(s.entries, entry{})
		i = int32(len(s.entries) - 1)
	} else {
		i = s.tail
		s.unlink(i)
		delete(s.index, s.entries[i].key)
	}
	s.entries[i] = entry{key: *k, prev: nilIdx, next: nilIdx}
	s.index[*k] = i
	s.pushFront(i)
	return &s.entries[i]
}

func (s *shard) moveToFront(i int32) {
	if s.head == i {
		return
	}
	s.unlink(i)
	s.pushFront(i)
}

func (s *shard) unlink(i int32) {
	e := &s.entries[i]
	if e.prev != nilIdx {
		s.entries[e.prev].next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nilIdx {
		s.entries[e.next].prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nilIdx, nilIdx
}

func (s *shard) pushFront(i int32) {
	e := &s.entries[i]
	e.prev, e.next = nilIdx, s.head
	if s.head != nilIdx {
		s.entries[s.head].prev = i
	} else {
		s.tail = i
	}
	s.head = i
}

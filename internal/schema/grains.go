package schema

import "time"

// Grain is one rollup table of the calls and the width of its buckets.
// Buckets are aligned on UTC (the tables' time zone), so a bucket starts
// where time.Truncate(Width) puts it.
type Grain struct {
	Width time.Duration
	Table string
}

// Grains, finest first; an index into it names a grain, GrainRaw the raw
// calls.
var Grains = []Grain{
	{time.Minute, TableCalls1m},
	{time.Hour, TableCalls1h},
	{24 * time.Hour, TableCalls1d},
}

// Grain indexes.
const (
	GrainRaw    = -1
	GrainMinute = 0
	GrainHour   = 1
	GrainDay    = 2
)

// Segment is a piece of a time range read from one table: grain Grain of
// Family (GrainRaw: raw calls, the family's recent ones when it keeps
// them, else api_calls under FamilyRaw).
type Segment struct {
	Grain    int
	From, To time.Time
	Family   Family
}

// Table is the table the segment reads.
func (s Segment) Table() string {
	if t := s.Family.Table(s.Grain); t != "" {
		return t
	}
	return TableCalls
}

func aligned(t time.Time, d time.Duration) bool { return t.Truncate(d).Equal(t) }

func ceilTo(t time.Time, d time.Duration) time.Time {
	if f := t.Truncate(d); !f.Equal(t) {
		return f.Add(d)
	}
	return t
}

// Cover is the range planner: it splits [from, to) into segments, each
// read from the coarsest rollup (up to maxGrain) whose whole buckets lie
// inside it, with finer tables — down to the raw calls — for the edges. A
// range from 10:30 thus reads 10:30–11:00 from minutes and never the 10:00
// hour bucket, and long ranges still read mostly day rows. A table is used
// only from its retention horizon on, since older rows may be gone: the
// part before it goes to a finer table that keeps longer, or, when none
// does, Cover answers false: no exact answer exists any more.
func Cover(from, to time.Time, maxGrain int, horizon Horizons) ([]Segment, bool) {
	return CoverFamily(FamilyCalls, from, to, maxGrain, horizon)
}

// CoverFamily is Cover over the rollups of fam (see FamilyOf): grains the
// family lacks are skipped, so a customer's month reads day rows of the
// customer rollup and raw calls for its partial days; the raw family reads
// only raw calls.
func CoverFamily(fam Family, from, to time.Time, maxGrain int, horizon Horizons) ([]Segment, bool) {
	if !from.Before(to) {
		return nil, true
	}
	for g := maxGrain; g >= 0; g-- {
		table := fam.Table(g)
		if table == "" {
			continue
		}
		w := Grains[g].Width
		lo, hi := ceilTo(from, w), to.Truncate(w)
		if h := ceilTo(horizon.OfTable(table), w); h.After(lo) {
			lo = h
		}
		if lo.Before(hi) {
			left, okL := edgeOf(fam, from, lo, g, horizon)
			right, okR := edgeOf(fam, hi, to, g, horizon)
			out := append(left, Segment{Grain: g, From: lo, To: hi, Family: fam})
			return append(out, right...), okL && okR
		}
	}
	// Raw calls: the family's recent ones from their horizon on, api_calls
	// before it.
	older, out := fam, []Segment(nil)
	if recent := fam.Table(GrainRaw); recent != "" {
		h := horizon.OfTable(recent)
		if !h.After(from) {
			return []Segment{{Grain: GrainRaw, From: from, To: to, Family: fam}}, true
		}
		if h.Before(to) {
			out = []Segment{{Grain: GrainRaw, From: h, To: to, Family: fam}}
			to = h
		}
		older = FamilyRaw
	}
	if from.Before(horizon.Of(GrainRaw)) {
		return nil, false
	}
	return append([]Segment{{Grain: GrainRaw, From: from, To: to, Family: older}}, out...), true
}

// CoverMembers is CoverFamily for a read of one of the family's values
// (one customer's month, batched with other customers'): when the family's
// recent raw calls reach back to from, the whole range is one read of
// them. There one customer's month is one range of the key, a few
// granules for all but the busiest customers, while every further table
// a read touches costs fixed work (planning, index analysis of each part)
// that a day rollup plus its edges would pay three times. A read of every
// value (a group by customer) still takes the rollups: there the raw
// calls are the whole table.
func CoverMembers(fam Family, from, to time.Time, maxGrain int, horizon Horizons) ([]Segment, bool) {
	if recent := fam.Table(GrainRaw); recent != "" && from.Before(to) && !horizon.OfTable(recent).After(from) {
		return []Segment{{Grain: GrainRaw, From: from, To: to, Family: fam}}, true
	}
	return CoverFamily(fam, from, to, maxGrain, horizon)
}

// edgeOf covers [from, to), an edge of a segment of grain g. The partial
// days at the ends of a customer's or user's range are read from the
// family's recent raw calls in one piece when those reach back that far:
// there one customer's day is a range of the key and a few rows, and every
// table a read touches costs fixed work (planning, index analysis) that an
// hour segment would add twice per range.
func edgeOf(fam Family, from, to time.Time, g int, horizon Horizons) ([]Segment, bool) {
	if recent := fam.Table(GrainRaw); g == GrainDay && recent != "" && from.Before(to) && !horizon.OfTable(recent).After(from) {
		return []Segment{{Grain: GrainRaw, From: from, To: to, Family: fam}}, true
	}
	return CoverFamily(fam, from, to, g-1, horizon)
}

// MaxGrainFor is the coarsest grain whose buckets never straddle one of
// cuts, the boundaries the answer groups by (days in a time zone, say): a
// bucket across a cut would put its whole sum on one side.
func MaxGrainFor(cuts []time.Time) int {
	g := GrainDay
	for _, c := range cuts {
		for g >= 0 && !aligned(c, Grains[g].Width) {
			g--
		}
	}
	return g
}

// LocalMidnights are the starts of the calendar days in loc strictly
// inside (from, to): the cuts of a daily grouping.
func LocalMidnights(from, to time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	y, m, d := from.In(loc).Date()
	for i := 1; ; i++ {
		t := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		if !t.Before(to) {
			return out
		}
		if t.After(from) {
			out = append(out, t)
		}
	}
}

// NotKeptError is a range whose edges (or day boundaries) fall where only
// coarser rollups still hold the data: no exact answer exists any more.
// Input, when set, names the input that reached that far back.
type NotKeptError struct{ Input string }

func (*NotKeptError) Error() string {
	return "the detail this range needs is older than the store keeps"
}

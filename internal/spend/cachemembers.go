package spend

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Per-customer (and per-user) reads. A rolling month of one customer is
// the customer rollup's whole days and the raw calls of the two partial
// days; of a batch of 50 customers the 29 days take 40 ms of a 51 ms
// query, the edges 18 ms. The closed part of such a read — the same days
// for every request of the day — is kept per value as one entry (the sums
// over the closed days, not per day: a month is then one entry of a few
// rows per customer), valid while the fingerprints of all its days are
// unchanged. A request whose value is kept reads only the open edges; the
// values missing from memory are read together, as before, in a batch of
// their own alongside the edges' batch.

// batchedCosts is costsBy for a read scoped to one value of dim (see
// batchedRead), its closed days from memory where kept.
func (s *Service) batchedCosts(ctx context.Context, scope schema.Scope, segs []schema.Segment, at time.Time,
	keys []string, opts schema.SourceOpts, params store.Params, dim, value string) ([]costRow, error) {
	open, closedSegs := splitClosed(segs)
	if len(closedSegs) == 0 || s.days.off {
		return s.batchedRead(ctx, scope, segs, at, keys, opts, params, dim, value, "")
	}
	first, last := closedSegs[0].From, closedSegs[0].To
	for _, seg := range closedSegs {
		first, last = minTime(first, seg.From), maxTime(last, seg.To)
	}
	// The entry's key is the closed read itself (its SQL and parameters,
	// the value aside) and the value.
	cparams := maps.Clone(params)
	cscope := scope
	*cscope.Field(dim) = ""
	copts := opts
	copts.Members = dim
	var key strings.Builder
	key.WriteString(s.costQuery(cscope, closedSegs, at, append([]string{dim}, keys...), copts, cparams))
	for _, k := range slices.Sorted(maps.Keys(cparams)) {
		key.WriteString("\x00" + k + "=" + cparams[k])
	}
	key.WriteString("\x00" + dim + "=" + value)

	// A value kept (under any fingerprint) is most likely still valid: its
	// open edges are read at once, not after the fingerprints.
	var openCh chan readResult
	if s.days.has(key.String()) {
		openCh = s.goRead(len(open) > 0, func() ([]costRow, error) {
			return s.batchedRead(ctx, scope, open, at, keys, opts, maps.Clone(params), dim, value, "")
		})
	}
	fps, err := s.prints.read(ctx, s, scope.Tenant, first.Truncate(24*time.Hour), last)
	if err != nil {
		return nil, err
	}
	var fp strings.Builder
	for d := first.Truncate(24 * time.Hour); d.Before(last); d = d.Add(24 * time.Hour) {
		fp.WriteString(fps[d.Unix()] + ";")
	}

	var closedRows []costRow
	if e, ok := s.days.get(key.String(), fp.String()); ok {
		s.days.hits.Add(1)
		closedRows = e.buckets[0]
	} else {
		s.days.misses.Add(1)
		if openCh == nil && len(open) > 0 {
			// Not kept: one read of the whole range, as without the
			// cache, its rows told closed or open by a key of their own
			// (every segment lies wholly on one side of [first, last)).
			return s.combinedRead(ctx, scope, segs, at, keys, opts, params, dim, value, key.String(), fp.String(), first, last)
		}
		closedRows, err = s.batchedRead(ctx, scope, closedSegs, at, keys, opts, maps.Clone(params), dim, value, fp.String())
		if err != nil {
			return nil, err
		}
		s.keep(key.String(), fp.String(), closedRows)
	}
	if openCh == nil {
		if len(open) == 0 {
			return slices.Clone(closedRows), nil
		}
		openCh = s.goRead(true, func() ([]costRow, error) {
			return s.batchedRead(ctx, scope, open, at, keys, opts, maps.Clone(params), dim, value, "")
		})
	}
	res := <-openCh
	if res.err != nil {
		return nil, res.err
	}
	sum := newRowSum()
	for _, r := range closedRows {
		sum.add(r)
	}
	for _, r := range res.rows {
		sum.add(r)
	}
	return sum.rows(), nil
}

// keep holds rows, the closed part of a value's read, under fp. A value
// with no calls is kept too (as no rows, counted as one).
func (s *Service) keep(key, fp string, rows []costRow) {
	s.days.put(&dayEntry{key: key, fp: fp, buckets: map[int64][]costRow{0: rows}, rows: max(1, len(rows))})
}

// combinedRead is batchedRead of every segment, its closed part — the
// rows of [first, last) — kept under fp.
func (s *Service) combinedRead(ctx context.Context, scope schema.Scope, segs []schema.Segment, at time.Time,
	keys []string, opts schema.SourceOpts, params store.Params, dim, value, key, fp string, first, last time.Time) ([]costRow, error) {
	p := maps.Clone(params)
	p["c_first"], p["c_last"] = first.UTC().Format(time.DateTime), last.UTC().Format(time.DateTime)
	split := "toString(ts >= {c_first:DateTime('UTC')} AND ts < {c_last:DateTime('UTC')})"
	rows, err := s.batchedRead(ctx, scope, segs, at, append(keys[:len(keys):len(keys)], split), opts, p, dim, value, fp)
	if err != nil {
		return nil, err
	}
	closed := []costRow{}
	sum := newRowSum()
	for _, r := range rows {
		in := r.keys[len(r.keys)-1] == "1"
		r.keys = r.keys[:len(r.keys)-1]
		if in {
			closed = append(closed, r)
		}
		sum.add(r)
	}
	s.keep(key, fp, closed)
	return sum.rows(), nil
}

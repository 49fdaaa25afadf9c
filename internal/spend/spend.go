// Package spend is what Nexus knows about money spent: cost summaries and
// time series read exactly from the rollups, the reconciliation of what
// providers billed against what Nexus computed, month-end forecasts, and
// budgets — their definitions and where each stands in its period. It
// reads and writes the store through internal/schema and returns domain
// errors (internal/domainerr, schema.NotKeptError), never transport ones.
package spend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/sync/singleflight"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Service answers the spend questions over one store.
type Service struct {
	store store.Store
	// loc is the zone of calendar days, weeks and months where a request
	// names none (the API's time_zone).
	loc *time.Location
	// readTimeout bounds a shared read (see costsBy) like the request that
	// started it.
	readTimeout time.Duration
	reads       singleflight.Group // identical cost reads in flight share one query
	batches     batcher            // reads differing only by customer (or user) share one too
	days        dayCache           // closed days' buckets (cache.go)
	prints      printer            // their fingerprints, shared by requests at most printFresh apart (fingerprint.go)
	// budgetWrites serialises the read-check-write of budget changes: the
	// table cannot enforce unique names, so two concurrent creates must not
	// both pass the check.
	budgetWrites sync.Mutex
}

// New is a Service over s; loc is the default time zone, readTimeout the
// longest a cost read may take.
func New(s store.Store, loc *time.Location, readTimeout time.Duration) *Service {
	return &Service{store: s, loc: loc, readTimeout: readTimeout}
}

// Location is the default time zone.
func (s *Service) Location() *time.Location { return s.loc }

// Money renders an exact amount as a JSON string, without trailing zeros.
func Money(d decimal.Decimal) string { return d.String() }

// CostAgg is what the cost resources report for a set of calls.
type CostAgg struct {
	Cost         decimal.Decimal
	Calls        uint64
	Errors       uint64
	Unpriced     uint64
	InputTokens  uint64
	OutputTokens uint64
}

type costRow struct {
	keys []string
	CostAgg
}

// costsBy sums the scoped calls of [f.From, f.To) by keys (SQL expressions
// over schema.CostSource's columns from a fixed set, never request text),
// reading rollups no coarser than maxGrain of the family that holds f's
// dimensions and those of group (a dimension the keys group by: a column,
// customer, user or tag.<name>, "" for none); tz is the zone schema.KeyDay
// uses. A range the store can no longer answer exactly is a
// *schema.NotKeptError.
func (s *Service) costsBy(ctx context.Context, f schema.Filter, keys []string, group string, maxGrain int, tz string) ([]costRow, error) {
	return s.costsIn(ctx, f, keys, group, maxGrain, tz, nil)
}

// costsIn is costsBy over the calls whose group value (a customer or a
// user) is one of members; nil members: every call.
func (s *Service) costsIn(ctx context.Context, f schema.Filter, keys []string, group string, maxGrain int, tz string, members []string) ([]costRow, error) {
	horizon := schema.RetentionOf(s.store).Horizons(time.Now())
	// One customer's (or user's) month is a few rows of the recent raw
	// calls; a page of members is usually the biggest spenders, whose raw
	// calls are most of the table: that read keeps the rollups.
	cover := schema.CoverFamily
	if dim, _ := batchDim(f.Scope, group); dim != "" && members == nil {
		cover = schema.CoverMembers
	}
	segs, ok := cover(schema.FamilyOf(f.Scope, group), f.From, f.To, maxGrain, horizon)
	if !ok {
		return nil, &schema.NotKeptError{}
	}
	params := store.Params{"tz": tz}
	var opts schema.SourceOpts
	if tag, ok := schema.IsTagGroup(group); ok {
		opts.GroupTag = tag
	}
	if members != nil {
		opts.Members, params["members"] = group, schema.StringArrayParam(members)
		return s.engineCosts(ctx, f.Scope, segs, f.From, keys, opts, params)
	}
	if dim, value := batchDim(f.Scope, group); dim != "" {
		return s.batchedCosts(ctx, f.Scope, segs, f.From, keys, opts, params, dim, value)
	}
	return s.cachedCosts(ctx, f.Scope, segs, f.From, keys, opts, tz)
}

// costQuery renders the read of segs within scope grouped by keys.
func (s *Service) costQuery(scope schema.Scope, segs []schema.Segment, at time.Time, keys []string, opts schema.SourceOpts, params store.Params) string {
	src := schema.CostSource(s.store, scope, segs, at, opts, params)
	sel := make([]string, 0, len(keys)+len(schema.CostSums))
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = "k" + strconv.Itoa(i)
		sel = append(sel, k+" AS "+names[i])
	}
	sel = append(sel, schema.CostSums...)
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + src
	if len(keys) > 0 {
		q += " GROUP BY " + strings.Join(names, ", ")
	}
	return q
}

// engineCostsDirect reads segs from the engine, unshared.
func (s *Service) engineCostsDirect(ctx context.Context, scope schema.Scope, segs []schema.Segment, at time.Time,
	keys []string, opts schema.SourceOpts, params store.Params) ([]costRow, error) {
	return s.queryCosts(ctx, s.costQuery(scope, segs, at, keys, opts, params), params, len(keys))
}

// engineCosts reads segs from the engine, shared with identical reads in
// flight.
func (s *Service) engineCosts(ctx context.Context, scope schema.Scope, segs []schema.Segment, at time.Time,
	keys []string, opts schema.SourceOpts, params store.Params) ([]costRow, error) {
	q := s.costQuery(scope, segs, at, keys, opts, params)
	// Identical reads in flight at once — a dashboard open on many
	// screens, a burst of clients — share one query: the engine spends
	// ~2 ms planning even a tiny aggregation, so fifty copies would queue
	// behind each other. A caller may get an answer computed from a query
	// started a few milliseconds before its request, never an older one.
	var key strings.Builder
	key.WriteString(q)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		key.WriteString("\x00" + k + "=" + params[k])
	}
	ch := s.reads.DoChan(key.String(), func() (any, error) {
		// Detached from the first caller: the others still wait for it.
		// Bounded like any request.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.readTimeout)
		defer cancel()
		return s.queryCosts(qctx, q, params, len(keys))
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		// Callers sort their copy; the rows themselves are not changed.
		return slices.Clone(res.Val.([]costRow)), nil
	}
}

func (s *Service) queryCosts(ctx context.Context, q string, params store.Params, nkeys int) ([]costRow, error) {
	rows, err := s.store.Query(ctx, q, params)
	if err != nil {
		return nil, fmt.Errorf("read costs: %w", err)
	}
	defer rows.Close()
	var out []costRow
	for rows.Next() {
		row := costRow{keys: make([]string, nkeys)}
		dest := make([]any, 0, nkeys+6)
		for i := range row.keys {
			dest = append(dest, &row.keys[i])
		}
		dest = append(dest, &row.Cost, &row.Calls, &row.Errors, &row.Unpriced, &row.InputTokens, &row.OutputTokens)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read costs: %w", err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read costs: %w", err)
	}
	return out, nil
}

// DailyCosts sums the scoped calls of [from, to) per calendar day in loc,
// keyed by date ("2006-01-02").
func (s *Service) DailyCosts(ctx context.Context, scope schema.Scope, from, to time.Time, loc *time.Location) (map[string]CostAgg, error) {
	f := schema.Filter{Scope: scope, From: from, To: to}
	rows, err := s.costsBy(ctx, f, []string{schema.KeyDay}, "", schema.MaxGrainFor(schema.LocalMidnights(from, to, loc)), loc.String())
	if err != nil {
		return nil, err
	}
	out := make(map[string]CostAgg, len(rows))
	for _, r := range rows {
		out[r.keys[0]] = r.CostAgg
	}
	return out, nil
}

// notKeptInput names input as what reached too far back when err is a
// range the store no longer answers exactly; other errors pass as they are.
func notKeptInput(err error, input string) error {
	var nk *schema.NotKeptError
	if errors.As(err, &nk) {
		return &schema.NotKeptError{Input: input}
	}
	return err
}

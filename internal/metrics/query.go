package metrics

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// agg is one group's or bucket's sums as read.
type agg struct {
	calls, errors, in, out uint64
	cost                   decimal.Decimal
	lat                    []float64 // p50, p95, p99; nil when not read
}

func (a agg) values(metrics []string) Values {
	v := make(Values, len(metrics))
	for _, m := range metrics {
		switch m {
		case "calls":
			v[m] = a.calls
		case "errors":
			v[m] = a.errors
		case "error_rate":
			r := 0.0
			if a.calls > 0 {
				r = float64(a.errors) / float64(a.calls)
			}
			v[m] = r
		case "latency_p50", "latency_p95", "latency_p99":
			i := map[string]int{"latency_p50": 0, "latency_p95": 1, "latency_p99": 2}[m]
			if a.calls == 0 || len(a.lat) != 3 || math.IsNaN(a.lat[i]) {
				v[m] = nil
			} else {
				v[m] = a.lat[i]
			}
		case "tokens":
			v[m] = a.in + a.out
		case "input_tokens":
			v[m] = a.in
		case "output_tokens":
			v[m] = a.out
		case "cost":
			v[m] = a.cost.String()
		}
	}
	return v
}

// plan is a query's read: its source, group keys and what it sums.
type plan struct {
	src     string
	params  store.Params
	keys    []string // k0, k1: expressions over the source
	latency bool
	family  schema.Family
}

func (p plan) sums() string {
	s := "sum(calls) AS n, sum(errors) AS e, sum(input_tokens) AS ti, sum(output_tokens) AS tout, sum(cost_usd) AS c"
	if p.latency {
		s += ", arrayMap(x -> round(toFloat64(x), 3), quantilesTDigestMerge(0.5, 0.95, 0.99)(latency)) AS q"
	}
	return s
}

func (p plan) keyNames() []string {
	out := make([]string, len(p.keys))
	for i := range p.keys {
		out[i] = "k" + strconv.Itoa(i)
	}
	return out
}

// Run answers q: the groups by q.Sort descending (ties by their values),
// at most q.Top of them. A range the store can no longer answer exactly is
// a *schema.NotKeptError naming from.
func (s *Service) Run(ctx context.Context, q Query) (Result, error) {
	if bad := q.Check(); bad != nil {
		return Result{}, domainerr.Invalid("invalid metrics query", bad...)
	}
	if q.Metrics == nil {
		q.Metrics = Names
	}
	if q.Sort == "" {
		q.Sort = "cost"
	}
	if q.Top == 0 {
		q.Top = DefaultTop
	}
	p, err := s.plan(q)
	if err != nil {
		return Result{}, err
	}
	res := Result{From: q.From.Format(time.RFC3339Nano), To: q.To.Format(time.RFC3339Nano), Step: q.Step,
		GroupBy: q.GroupBy, Metrics: q.Metrics, Sort: q.Sort, Source: p.family.String(), Rows: []Row{}}

	// The groups and their totals, best first, one more than kept to tell
	// whether there were more.
	names := p.keyNames()
	sel := make([]string, 0, len(names)+1)
	for i, k := range p.keys {
		sel = append(sel, k+" AS "+names[i])
	}
	sel = append(sel, p.sums())
	aggQ := "SELECT " + strings.Join(sel, ", ") + " FROM " + p.src
	order := " ORDER BY " + sortExpr[q.Sort] + " DESC"
	if len(names) > 0 {
		aggQ += " GROUP BY " + strings.Join(names, ", ")
		order += ", " + strings.Join(names, ", ")
	}
	p.params["top"] = strconv.Itoa(q.Top + 1)
	aggQ += order + " LIMIT {top:UInt32}"
	groups, err := s.read(ctx, aggQ, p.params, len(names), false, p.latency)
	if err != nil {
		return Result{}, err
	}
	if len(groups) > q.Top {
		groups, res.Truncated = groups[:q.Top], true
	}
	index := map[string]int{}
	for _, g := range groups {
		row := Row{Values: g.agg.values(q.Metrics)}
		if len(q.GroupBy) > 0 {
			row.Group = map[string]string{}
			for i, name := range q.GroupBy {
				row.Group[name] = g.keys[i]
			}
		}
		index[strings.Join(g.keys, "\x00")] = len(res.Rows)
		res.Rows = append(res.Rows, row)
	}
	if q.Step == "" {
		return res, nil
	}

	// The series of the kept groups, every bucket filled.
	w := stepWidth[q.Step]
	var starts []time.Time
	for t := q.From.Truncate(w); t.Before(q.To); t = t.Add(w) {
		starts = append(starts, t)
	}
	for i := range res.Rows {
		res.Rows[i].Points = make([]Point, len(starts))
		for j, t := range starts {
			res.Rows[i].Points[j] = Point{TS: t.Format(time.RFC3339), Values: agg{}.values(q.Metrics)}
		}
	}
	if len(res.Rows) == 0 {
		return res, nil
	}
	p.params["step_s"] = strconv.Itoa(int(w / time.Second))
	serQ := "SELECT " + strings.Join(append(sel[:len(names):len(names)], "toStartOfInterval(ts, toIntervalSecond({step_s:UInt32})) AS b"), ", ") +
		", " + p.sums() + " FROM " + p.src + " GROUP BY " + strings.Join(append(slices.Clone(names), "b"), ", ")
	if res.Truncated && len(names) > 0 {
		tuple := "(" + strings.Join(names, ", ") + ")"
		serQ += " HAVING " + tuple + " IN (SELECT " + strings.Join(names, ", ") + " FROM (" + aggQ + "))"
	}
	points, err := s.read(ctx, serQ, p.params, len(names)+1, true, p.latency)
	if err != nil {
		return Result{}, err
	}
	first := q.From.Truncate(w)
	for _, pt := range points {
		i, ok := index[strings.Join(pt.keys[:len(names)], "\x00")]
		if !ok {
			continue
		}
		t, err := time.Parse(time.DateTime, pt.keys[len(names)])
		if err != nil {
			return Result{}, fmt.Errorf("read metrics: bucket %q: %w", pt.keys[len(names)], err)
		}
		j := int(t.Sub(first) / w)
		if j < 0 || j >= len(starts) {
			continue
		}
		res.Rows[i].Points[j].Values = pt.agg.values(q.Metrics)
	}
	return res, nil
}

// plan picks the family holding q's dimensions and covers the range with
// its rollups no coarser than the step.
func (s *Service) plan(q Query) (plan, error) {
	fam := schema.FamilyOf(q.Scope, q.GroupBy...)
	maxGrain := schema.GrainDay
	switch q.Step {
	case "1m":
		maxGrain = schema.GrainMinute
	case "1h":
		maxGrain = schema.GrainHour
	}
	horizon := schema.RetentionOf(s.store).Horizons(time.Now())
	segs, ok := schema.CoverFamily(fam, q.From, q.To, maxGrain, horizon)
	if !ok {
		return plan{}, &schema.NotKeptError{Input: "from"}
	}
	p := plan{params: store.Params{}, family: fam}
	for _, m := range append(slices.Clone(q.Metrics), q.Sort) {
		if strings.HasPrefix(m, "latency_") {
			p.latency = true
		}
	}
	opts := schema.SourceOpts{Latency: p.latency}
	for _, g := range q.GroupBy {
		if tag, ok := schema.IsTagGroup(g); ok {
			opts.GroupTag = tag
			p.keys = append(p.keys, "tag")
		} else {
			p.keys = append(p.keys, g)
		}
	}
	p.src = schema.CostSource(s.store, q.Scope, segs, q.From, opts, p.params)
	return p, nil
}

type readRow struct {
	keys []string
	agg  agg
}

// read runs a query whose columns are nkeys keys — strings, the last a
// DateTime when bucketed — and then the sums of plan.sums.
func (s *Service) read(ctx context.Context, q string, params store.Params, nkeys int, bucketed, latency bool) ([]readRow, error) {
	rows, err := s.store.Query(ctx, q, params)
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	defer rows.Close()
	var out []readRow
	for rows.Next() {
		r := readRow{keys: make([]string, nkeys)}
		dest := make([]any, 0, nkeys+6)
		var bucket time.Time
		for i := range r.keys {
			if bucketed && i == nkeys-1 {
				dest = append(dest, &bucket)
				continue
			}
			dest = append(dest, &r.keys[i])
		}
		dest = append(dest, &r.agg.calls, &r.agg.errors, &r.agg.in, &r.agg.out, &r.agg.cost)
		if latency {
			dest = append(dest, &r.agg.lat)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read metrics: %w", err)
		}
		if !bucket.IsZero() {
			r.keys[nkeys-1] = bucket.UTC().Format(time.DateTime)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}

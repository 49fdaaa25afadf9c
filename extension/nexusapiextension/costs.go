package nexusapiextension

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/store"
)

func (a *api) costRoutes() {
	a.route("GET /api/v1/costs/summary", roleViewer, a.costSummary)
	a.route("GET /api/v1/costs/timeseries", roleViewer, a.costTimeseries)
	a.route("GET /api/v1/costs/forecast", roleViewer, a.costForecast)
	a.route("GET /api/v1/costs/reconciliation", roleViewer, a.costReconciliation)
}

// --- reading the rollups exactly ---

// grain is one rollup table and the width of its buckets. Buckets are
// aligned on UTC (the tables' time zone), so a bucket starts where
// time.Truncate(width) puts it.
type grain struct {
	width time.Duration
	table string
}

// grains, finest first; an index into it names a grain, -1 the raw calls.
var grains = []grain{
	{time.Minute, "api_calls_1m"},
	{time.Hour, "api_calls_1h"},
	{24 * time.Hour, "api_calls_1d"},
}

const (
	grainRaw    = -1
	grainMinute = 0
	grainHour   = 1
	grainDay    = 2
)

// segment is a piece of a time range read from one table.
type segment struct {
	grain    int
	from, to time.Time
}

func aligned(t time.Time, d time.Duration) bool { return t.Truncate(d).Equal(t) }

func ceilTo(t time.Time, d time.Duration) time.Time {
	if f := t.Truncate(d); !f.Equal(t) {
		return f.Add(d)
	}
	return t
}

// cover splits [from, to) into segments, each read from the coarsest
// rollup (up to maxGrain) whose whole buckets lie inside it, with finer
// tables — down to the raw calls — for the edges. A range from 10:30 thus
// reads 10:30–11:00 from minutes and never the 10:00 hour bucket, and long
// ranges still read mostly day rows. A table is used only from its
// retention horizon on (horizon[g+1]; zero time: kept forever), since
// older rows may be gone: the part before it goes to a finer table that
// keeps longer, or, when none does, cover answers false.
func cover(from, to time.Time, maxGrain int, horizon [4]time.Time) ([]segment, bool) {
	if !from.Before(to) {
		return nil, true
	}
	for g := maxGrain; g >= 0; g-- {
		w := grains[g].width
		lo, hi := ceilTo(from, w), to.Truncate(w)
		if h := ceilTo(horizon[g+1], w); h.After(lo) {
			lo = h
		}
		if lo.Before(hi) {
			left, okL := cover(from, lo, g-1, horizon)
			right, okR := cover(hi, to, g-1, horizon)
			out := append(left, segment{grain: g, from: lo, to: hi})
			return append(out, right...), okL && okR
		}
	}
	if from.Before(horizon[0]) {
		return nil, false
	}
	return []segment{{grain: grainRaw, from: from, to: to}}, true
}

// notKeptError is a range whose edges (or day boundaries) fall where only
// coarser rollups still hold the data: no exact answer exists any more.
type notKeptError struct{}

func (*notKeptError) Error() string {
	return "the detail this range needs is older than the store keeps"
}

// costError answers a failed cost read. A range the store can no longer
// answer exactly is the client's to change, so it is a 400 naming field
// rather than an answer that silently counts a whole bucket or none of it.
func (a *api) costError(r *http.Request, what, field string, err error) *APIError {
	var nk *notKeptError
	if errors.As(err, &nk) {
		return badRequest("range needs detail the store no longer keeps", FieldError{Field: field,
			Message: "data this old is kept only in hourly or daily rollups: align from and to to whole UTC hours or days"})
	}
	return a.storeError(r, what, err)
}

// ttlInterval reads a TTL as chstore writes it (column + toIntervalSecond(n)).
var ttlInterval = regexp.MustCompile(`toInterval(Second|Minute|Hour|Day|Week)\((\d+)\)`)

var ttlUnits = map[string]time.Duration{"Second": time.Second, "Minute": time.Minute, "Hour": time.Hour, "Day": 24 * time.Hour, "Week": 7 * 24 * time.Hour}

// horizons reads, from the tables' TTLs, the time before which each calls
// table (raw, then each grain) may have dropped rows; zero when it keeps
// them forever. Retention is the chstore extension's setting, so the
// tables are the only place that says it.
func (a *api) horizons(ctx context.Context, now time.Time) ([4]time.Time, error) {
	var out [4]time.Time
	keep, err := a.retention.get(ctx, a.readRetention)
	if err != nil {
		return out, err
	}
	for i, d := range keep {
		if d > 0 {
			out[i] = now.Add(-d)
		}
	}
	return out, nil
}

// readRetention reads how long each of the raw calls and the rollups keeps
// rows (zero: forever) from the tables' TTLs.
func (a *api) readRetention(ctx context.Context) ([4]time.Duration, error) {
	var out [4]time.Duration
	rows, err := a.store.Query(ctx, "SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND "+
		"name IN ('api_calls', 'api_calls_1m', 'api_calls_1h', 'api_calls_1d')", store.Params{"db": a.store.Database()})
	if err != nil {
		return out, err
	}
	defer rows.Close()
	index := map[string]int{"api_calls": 0}
	for g, gr := range grains {
		index[gr.table] = g + 1
	}
	for rows.Next() {
		var name, engine string
		if err := rows.Scan(&name, &engine); err != nil {
			return out, err
		}
		_, ttl, ok := strings.Cut(engine, " TTL ")
		if !ok {
			continue
		}
		if m := ttlInterval.FindStringSubmatch(ttl); m != nil {
			n, _ := strconv.ParseInt(m[2], 10, 64)
			out[index[name]] = time.Duration(n) * ttlUnits[m[1]]
		}
	}
	return out, rows.Err()
}

// retentionCache keeps the tables' retention for a minute: it changes only
// when a collector restarts with new settings, and every cost read needs it.
type retentionCache struct {
	mu      sync.Mutex
	keep    [4]time.Duration
	fetched time.Time
}

func (c *retentionCache) get(ctx context.Context, read func(context.Context) ([4]time.Duration, error)) ([4]time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.fetched) < time.Minute {
		return c.keep, nil
	}
	keep, err := read(ctx)
	if err != nil {
		return keep, err
	}
	c.keep, c.fetched = keep, time.Now()
	return keep, nil
}

// maxGrainFor is the coarsest grain whose buckets never straddle one of
// cuts, the boundaries the answer groups by (days in a time zone, say):
// a bucket across a cut would put its whole sum on one side.
func maxGrainFor(cuts []time.Time) int {
	g := grainDay
	for _, c := range cuts {
		for g >= 0 && !aligned(c, grains[g].width) {
			g--
		}
	}
	return g
}

// localMidnights are the starts of the calendar days in loc strictly
// inside (from, to): the cuts of a daily grouping.
func localMidnights(from, to time.Time, loc *time.Location) []time.Time {
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

// Key expressions over costSource's columns. Every key is a String so
// that rows scan alike; the day key is the calendar date in {tz}, which
// is how Go names the same day (no instant arithmetic around DST).
const (
	keyDay    = "toString(toDate(ts, {tz:String}))"
	keyHour   = "toString(toUnixTimestamp(toStartOfHour(ts)))"
	keyMinute = "toString(toUnixTimestamp(toStartOfMinute(ts)))"
)

// costSource renders the scoped calls of segs as one UNION ALL (see
// cover), with the same columns whatever the table, and adds its
// parameters to params. Values only ever travel as parameters.
func (a *api) costSource(f filters, segs []segment, params store.Params) string {
	db := a.store.Database()
	scope := ""
	for _, name := range scopeFields {
		if v := *f.field(name); v != "" {
			scope += " AND " + name + " = {" + name + ":String}"
			params[name] = v
		}
	}
	if len(segs) == 0 {
		// An empty range still needs a well-typed source with no rows.
		segs = []segment{{grain: grainRaw, from: f.From, to: f.From}}
	}
	parts := make([]string, 0, len(segs))
	for i, s := range segs {
		p := "s" + strconv.Itoa(i)
		if s.grain == grainRaw {
			params[p+"_from"] = s.from.UTC().Format("2006-01-02 15:04:05.000000000")
			params[p+"_to"] = s.to.UTC().Format("2006-01-02 15:04:05.000000000")
			parts = append(parts, "SELECT toDateTime(timestamp, 'UTC') AS ts, provider, model, operation, service, environment, "+
				"toUInt64(1) AS calls, toUInt64(status = 'error') AS errors, toUInt64(cost_status = 'unpriced') AS unpriced, "+
				"input_tokens, output_tokens, CAST(ifNull(cost_usd, toDecimal64(0, 12)) AS Decimal(38, 12)) AS cost_usd "+
				"FROM "+db+".api_calls WHERE timestamp >= {"+p+"_from:DateTime64(9, 'UTC')} AND timestamp < {"+p+"_to:DateTime64(9, 'UTC')}"+scope)
			continue
		}
		params[p+"_from"] = s.from.UTC().Format(time.DateTime)
		params[p+"_to"] = s.to.UTC().Format(time.DateTime)
		parts = append(parts, "SELECT ts, provider, model, operation, service, environment, "+
			"toUInt64(calls) AS calls, toUInt64(errors) AS errors, toUInt64(unpriced) AS unpriced, "+
			"toUInt64(input_tokens) AS input_tokens, toUInt64(output_tokens) AS output_tokens, CAST(cost_usd AS Decimal(38, 12)) AS cost_usd "+
			"FROM "+db+"."+grains[s.grain].table+" WHERE ts >= {"+p+"_from:DateTime('UTC')} AND ts < {"+p+"_to:DateTime('UTC')}"+scope)
	}
	return "(" + strings.Join(parts, " UNION ALL ") + ")"
}

// costAgg is what the cost resources report for a set of calls.
type costAgg struct {
	Cost         decimal.Decimal
	Calls        uint64
	Errors       uint64
	Unpriced     uint64
	InputTokens  uint64
	OutputTokens uint64
}

type costRow struct {
	keys []string
	costAgg
}

// costsBy sums the scoped calls of [f.From, f.To) by keys (SQL expressions
// over costSource's columns from a fixed set, never request text), reading
// rollups no coarser than maxGrain; tz is the zone keyDay uses.
func (a *api) costsBy(ctx context.Context, f filters, keys []string, maxGrain int, tz string) ([]costRow, error) {
	horizon, err := a.horizons(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	segs, ok := cover(f.From, f.To, maxGrain, horizon)
	if !ok {
		return nil, &notKeptError{}
	}
	params := store.Params{"tz": tz}
	src := a.costSource(f, segs, params)
	sel := make([]string, 0, len(keys)+6)
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = "k" + strconv.Itoa(i)
		sel = append(sel, k+" AS "+names[i])
	}
	sel = append(sel, "sum(cost_usd)", "sum(calls)", "sum(errors)", "sum(unpriced)", "sum(input_tokens)", "sum(output_tokens)")
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + src
	if len(keys) > 0 {
		q += " GROUP BY " + strings.Join(names, ", ")
	}
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
	ch := a.reads.DoChan(key.String(), func() (any, error) {
		// Detached from the first caller: the others still wait for it.
		// Bounded like any request: request_timeout.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.RequestTimeout)
		defer cancel()
		return a.queryCosts(qctx, q, params, len(keys))
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

func (a *api) queryCosts(ctx context.Context, q string, params store.Params, nkeys int) ([]costRow, error) {
	rows, err := a.store.Query(ctx, q, params)
	if err != nil {
		return nil, err
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
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// dailyCosts sums the scoped calls of [from, to) per calendar day in loc,
// keyed by date ("2006-01-02").
func (a *api) dailyCosts(ctx context.Context, scope filters, from, to time.Time, loc *time.Location) (map[string]costAgg, error) {
	scope.From, scope.To = from, to
	rows, err := a.costsBy(ctx, scope, []string{keyDay}, maxGrainFor(localMidnights(from, to, loc)), loc.String())
	if err != nil {
		return nil, err
	}
	out := make(map[string]costAgg, len(rows))
	for _, r := range rows {
		out[r.keys[0]] = r.costAgg
	}
	return out, nil
}

// money renders an exact amount as a JSON string, without trailing zeros.
func money(d decimal.Decimal) string { return d.String() }

// --- summary ---

// summaryGroups are the groupBy values of /costs/summary: the dimension
// columns, and day (calendar days in the configured time zone).
var summaryGroups = []string{"provider", "model", "operation", "service", "environment", "day"}

type costGroup struct {
	Group        string `json:"group"`
	Cost         string `json:"cost"`
	Calls        uint64 `json:"calls"`
	Errors       uint64 `json:"errors"`
	Unpriced     uint64 `json:"unpriced"`
	Tokens       uint64 `json:"tokens"`
	InputTokens  uint64 `json:"inputTokens"`
	OutputTokens uint64 `json:"outputTokens"`
}

// joinErrors answers one 400 with the details of every failed check.
func joinErrors(errs ...*APIError) *APIError {
	var details []FieldError
	for _, e := range errs {
		if e == nil {
			continue
		}
		if e.Status != http.StatusBadRequest {
			return e
		}
		details = append(details, e.Details...)
	}
	if details == nil {
		return nil
	}
	return badRequest("invalid query", details...)
}

func oneOf(field, v string, allowed []string) *APIError {
	for _, s := range allowed {
		if v == s {
			return nil
		}
	}
	return badRequest("invalid "+field, FieldError{Field: field, Message: "must be one of " + strings.Join(allowed, ", ")})
}

func (a *api) costSummary(w http.ResponseWriter, r *http.Request) *APIError {
	f, fErr := a.parseFilters(r, 30*24*time.Hour)
	pg, pErr := parsePage(r)
	groupBy := r.URL.Query().Get("groupBy")
	if groupBy == "" {
		groupBy = "provider"
	}
	if err := joinErrors(fErr, pErr, oneOf("groupBy", groupBy, summaryGroups)); err != nil {
		return err
	}
	key, maxGrain := groupBy, grainDay
	if groupBy == "day" {
		// Day rollup buckets are UTC days: in another zone the days are
		// summed from hours (or minutes, for zones off by half an hour),
		// whichever divides every local midnight of the range.
		key, maxGrain = keyDay, maxGrainFor(localMidnights(f.From, f.To, a.loc))
	}
	rows, err := a.costsBy(r.Context(), f, []string{key}, maxGrain, a.loc.String())
	if err != nil {
		return a.costError(r, "cost summary", "from", err)
	}
	// Highest cost first, then by name so that pages are stable.
	sort.Slice(rows, func(i, j int) bool {
		if c := rows[i].Cost.Cmp(rows[j].Cost); c != 0 {
			return c > 0
		}
		return rows[i].keys[0] < rows[j].keys[0]
	})
	out := make([]costGroup, len(rows))
	for i, row := range rows {
		out[i] = costGroup{Group: row.keys[0], Cost: money(row.Cost), Calls: row.Calls, Errors: row.Errors, Unpriced: row.Unpriced,
			Tokens: row.InputTokens + row.OutputTokens, InputTokens: row.InputTokens, OutputTokens: row.OutputTokens}
	}
	writeData(w, http.StatusOK, paginate(out, pg), pg.of(int64(len(out))))
	return nil
}

// --- timeseries ---

const maxPoints = 2000

var steps = map[string]time.Duration{"1m": time.Minute, "1h": time.Hour, "1d": 24 * time.Hour}

var seriesGroups = []string{"provider", "model", "operation", "service", "environment"}

type costPoint struct {
	TS     string `json:"ts"`
	Cost   string `json:"cost"`
	Calls  uint64 `json:"calls"`
	Errors uint64 `json:"errors"`
}

type costSeries struct {
	Group  *string     `json:"group,omitempty"`
	Cost   string      `json:"cost"`
	Calls  uint64      `json:"calls"`
	Errors uint64      `json:"errors"`
	Points []costPoint `json:"points"`
	total  decimal.Decimal
}

type timeseriesData struct {
	Step    string       `json:"step"`
	From    string       `json:"from"`
	To      string       `json:"to"`
	GroupBy string       `json:"groupBy,omitempty"`
	Series  []costSeries `json:"series"`
}

// bucket is one point of a series: its key as costsBy returns it, and
// its start.
type bucket struct {
	key   string
	start time.Time
}

// buckets lists the points of [from, to) at step, or false when there
// would be more than limit: minutes and hours are UTC-aligned (the same as
// local ones in every zone with whole-hour offsets), days are calendar
// days in loc.
func buckets(from, to time.Time, step string, loc *time.Location, limit int) ([]bucket, bool) {
	var out []bucket
	if step == "1d" {
		y, m, d := from.In(loc).Date()
		for i := 0; ; i++ {
			t := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
			if !t.Before(to) {
				return out, true
			}
			if len(out) == limit {
				return nil, false
			}
			out = append(out, bucket{key: t.Format(time.DateOnly), start: t})
		}
	}
	w := steps[step]
	for t := from.Truncate(w); t.Before(to); t = t.Add(w) {
		if len(out) == limit {
			return nil, false
		}
		out = append(out, bucket{key: strconv.FormatInt(t.Unix(), 10), start: t})
	}
	return out, true
}

// autoStep keeps a chart readable: minutes up to 2 h, hours up to a week,
// days beyond.
func autoStep(span time.Duration) string {
	switch {
	case span <= 2*time.Hour:
		return "1m"
	case span <= 7*24*time.Hour:
		return "1h"
	}
	return "1d"
}

func (a *api) costTimeseries(w http.ResponseWriter, r *http.Request) *APIError {
	q := r.URL.Query()
	f, fErr := a.parseFilters(r, 24*time.Hour)
	pg, pErr := parsePage(r)
	var gErr, sErr *APIError
	groupBy := q.Get("groupBy")
	if groupBy != "" {
		gErr = oneOf("groupBy", groupBy, seriesGroups)
	}
	step := q.Get("step")
	if step != "" {
		sErr = oneOf("step", step, []string{"1m", "1h", "1d"})
	}
	if err := joinErrors(fErr, pErr, gErr, sErr); err != nil {
		return err
	}
	field := "step"
	if step == "" {
		step, field = autoStep(f.To.Sub(f.From)), "from"
	}
	bs, ok := buckets(f.From, f.To, step, a.loc, maxPoints)
	if !ok {
		return badRequest("too many points", FieldError{Field: field,
			Message: fmt.Sprintf("step %s over this range gives more than %d points: use a coarser step or a shorter range", step, maxPoints)})
	}

	var keys []string
	if groupBy != "" {
		keys = append(keys, groupBy)
	}
	maxGrain := grainMinute
	switch step {
	case "1m":
		keys = append(keys, keyMinute)
	case "1h":
		keys, maxGrain = append(keys, keyHour), grainHour
	default:
		keys, maxGrain = append(keys, keyDay), maxGrainFor(localMidnights(f.From, f.To, a.loc))
	}
	rows, err := a.costsBy(r.Context(), f, keys, maxGrain, a.loc.String())
	if err != nil {
		return a.costError(r, "cost timeseries", "from", err)
	}

	// Fill every bucket, with zeros where no call was made.
	byGroup := map[string]map[string]costAgg{}
	for _, row := range rows {
		g, b := "", row.keys[len(row.keys)-1]
		if groupBy != "" {
			g = row.keys[0]
		}
		if byGroup[g] == nil {
			byGroup[g] = map[string]costAgg{}
		}
		byGroup[g][b] = row.costAgg
	}
	if groupBy == "" && len(byGroup) == 0 {
		byGroup[""] = nil
	}
	series := make([]costSeries, 0, len(byGroup))
	for g, points := range byGroup {
		s := costSeries{Points: make([]costPoint, len(bs))}
		if groupBy != "" {
			s.Group = &g
		}
		for i, b := range bs {
			p := points[b.key]
			s.Points[i] = costPoint{TS: b.start.In(a.loc).Format(time.RFC3339), Cost: money(p.Cost), Calls: p.Calls, Errors: p.Errors}
			s.total = s.total.Add(p.Cost)
			s.Calls += p.Calls
			s.Errors += p.Errors
		}
		s.Cost = money(s.total)
		series = append(series, s)
	}
	sort.Slice(series, func(i, j int) bool {
		if c := series[i].total.Cmp(series[j].total); c != 0 {
			return c > 0
		}
		return series[i].Group != nil && *series[i].Group < *series[j].Group
	})
	writeData(w, http.StatusOK, timeseriesData{Step: step, From: f.From.In(a.loc).Format(time.RFC3339Nano), To: f.To.In(a.loc).Format(time.RFC3339Nano),
		GroupBy: groupBy, Series: paginate(series, pg)}, pg.of(int64(len(series))))
	return nil
}

// --- reconciliation ---

type reconciliationRow struct {
	Day           string `json:"day"`
	Provider      string `json:"provider"`
	Billed        string `json:"billed"`
	Computed      string `json:"computed"`
	Difference    string `json:"difference"`
	Calls         uint64 `json:"calls"`
	UnpricedCalls uint64 `json:"unpricedCalls"`
}

// costReconciliation lists the cost_reconciliation view: per provider and
// UTC day (the view's days), what the provider billed against what Nexus
// computed. A day is listed when it overlaps [from, to).
func (a *api) costReconciliation(w http.ResponseWriter, r *http.Request) *APIError {
	f, fErr := a.parseFilters(r, 30*24*time.Hour)
	pg, pErr := parsePage(r)
	var sErr *APIError
	// The view has provider and day only: another scope filter would be
	// silently ignored, so it is refused.
	for _, name := range []string{"model", "operation", "service", "environment"} {
		if r.URL.Query().Get(name) != "" {
			sErr = joinErrors(sErr, badRequest("", FieldError{Field: name, Message: "not available: reconciliation is per provider and day"}))
		}
	}
	if err := joinErrors(fErr, pErr, sErr); err != nil {
		return err
	}
	params := store.Params{
		"first": f.From.UTC().Format(time.DateOnly),
		"last":  f.To.UTC().Add(-time.Nanosecond).Format(time.DateOnly),
	}
	where := "day >= {first:Date} AND day <= {last:Date}"
	if f.Provider != "" {
		where += " AND provider = {provider:String}"
		params["provider"] = f.Provider
	}
	rows, err := a.store.Query(r.Context(), "SELECT toString(day), provider, billed_usd, computed_usd, difference_usd, calls, unpriced_calls FROM "+
		a.store.Database()+".cost_reconciliation WHERE "+where+" ORDER BY day, provider", params)
	if err != nil {
		return a.storeError(r, "cost reconciliation", err)
	}
	defer rows.Close()
	out := []reconciliationRow{}
	for rows.Next() {
		var row reconciliationRow
		var billed, computed, diff decimal.Decimal
		if err := rows.Scan(&row.Day, &row.Provider, &billed, &computed, &diff, &row.Calls, &row.UnpricedCalls); err != nil {
			return a.storeError(r, "cost reconciliation", err)
		}
		row.Billed, row.Computed, row.Difference = money(billed), money(computed), money(diff)
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return a.storeError(r, "cost reconciliation", err)
	}
	writeData(w, http.StatusOK, paginate(out, pg), pg.of(int64(len(out))))
	return nil
}

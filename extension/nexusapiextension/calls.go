package nexusapiextension

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

const (
	// callsDefaultSpan is the range /calls and /calls/stats read when the
	// request names none: recent calls are what is looked at most.
	callsDefaultSpan = 24 * time.Hour
	// maxCallsOffset bounds OFFSET: the engine reads and drops every skipped
	// row, so a deep page costs as much as reading all the rows before it.
	maxCallsOffset = 100000
	// rawStatsSpan is the longest range whose stats are read from raw calls
	// (exact); longer ranges read the hour rollup.
	rawStatsSpan = 24 * time.Hour
)

// callGroups are the columns /calls/stats may group by; a request's
// groupBy is only ever looked up here, never put into SQL itself.
var callGroups = map[string]string{
	"provider": "provider", "model": "model", "operation": "operation",
	"service": "service", "environment": "environment",
}

func (a *api) callRoutes() {
	a.route("GET /api/v1/calls", roleViewer, a.listCalls)
	a.route("GET /api/v1/calls/stats", roleViewer, a.callStats)
}

// callTokens are a call's (or a sum of calls') tokens by kind, as stored:
// cached and cache-write tokens are part of input, reasoning part of output.
type callTokens struct {
	Input           uint64 `json:"input"`
	Output          uint64 `json:"output"`
	CachedInput     uint64 `json:"cachedInput"`
	CacheWriteInput uint64 `json:"cacheWriteInput"`
	Reasoning       uint64 `json:"reasoning"`
}

// call is one stored API call.
type call struct {
	Timestamp    string     `json:"timestamp"`
	DurationMs   float64    `json:"durationMs"`
	Provider     string     `json:"provider"`
	Model        string     `json:"model"`
	RequestModel string     `json:"requestModel"`
	Operation    string     `json:"operation"`
	Service      string     `json:"service"`
	Environment  string     `json:"environment"`
	HTTPStatus   uint16     `json:"httpStatus"`
	Status       string     `json:"status"`
	ErrorClass   string     `json:"errorClass"`
	ErrorType    string     `json:"errorType"`
	Tokens       callTokens `json:"tokens"`
	// CostUSD is null when the call is unpriced: an unknown price is not $0.
	CostUSD        *string `json:"costUsd"`
	CostStatus     string  `json:"costStatus"`
	UnpricedReason string  `json:"unpricedReason"`
	PricingVersion string  `json:"pricingVersion"`
	// CostReason says how a refused call's known $0 was decided.
	CostReason   string  `json:"costReason,omitempty"`
	AnomalyScore float64 `json:"anomalyScore"`
	Anomaly      bool    `json:"anomaly"`
	TraceID      string  `json:"traceId"`
	SpanID       string  `json:"spanId"`
}

// callFilters are the filters only raw calls carry (the rollups have no
// status, anomaly or cost-status dimension).
type callFilters struct {
	Status   string // "", "ok" or "error"
	Anomaly  *bool
	Unpriced *bool
}

func (c callFilters) any() bool { return c.Status != "" || c.Anomaly != nil || c.Unpriced != nil }

// parseCallFilters reads status, anomaly and unpriced, naming each bad one.
func parseCallFilters(r *http.Request) (callFilters, []FieldError) {
	q := r.URL.Query()
	var c callFilters
	var details []FieldError
	switch v := q.Get("status"); v {
	case "", "ok", "error":
		c.Status = v
	default:
		details = append(details, FieldError{Field: "status", Message: "must be ok or error"})
	}
	for _, name := range []string{"anomaly", "unpriced"} {
		var b *bool
		switch q.Get(name) {
		case "":
		case "true":
			b = new(true)
		case "false":
			b = new(false)
		default:
			details = append(details, FieldError{Field: name, Message: "must be true or false"})
		}
		if name == "anomaly" {
			c.Anomaly = b
		} else {
			c.Unpriced = b
		}
	}
	return c, details
}

// where adds the raw-only filters to a condition on api_calls.
func (c callFilters) where(cond string, params store.Params) string {
	conds := []string{cond}
	if c.Status != "" {
		conds = append(conds, "status = {status:String}")
		params["status"] = c.Status
	}
	if c.Anomaly != nil {
		conds = append(conds, "is_anomaly = {anomaly:Bool}")
		params["anomaly"] = strconv.FormatBool(*c.Anomaly)
	}
	if c.Unpriced != nil {
		// cost_status, not cost_usd IS NULL: the rollups count unpriced
		// calls by cost_status, and both must agree.
		conds = append(conds, "(cost_status = 'unpriced') = {unpriced:Bool}")
		params["unpriced"] = strconv.FormatBool(*c.Unpriced)
	}
	return strings.Join(conds, " AND ")
}

// parseCallRequest reads the scope filters, the raw-only filters and
// (when paged) the page, answering every bad field at once.
func (a *api) parseCallRequest(r *http.Request, paged bool) (filters, callFilters, page, *APIError) {
	var details []FieldError
	f, ferr := a.parseFilters(r, callsDefaultSpan)
	if ferr != nil {
		details = append(details, ferr.Details...)
	}
	cf, cdet := parseCallFilters(r)
	details = append(details, cdet...)
	var p page
	if paged {
		tooDeep := FieldError{Field: "page", Message: "too deep: at most " + strconv.Itoa(maxCallsOffset) +
			" calls may be skipped; narrow the time range (from/to) or the filters instead"}
		var perr *APIError
		if p, perr = parsePage(r); perr != nil {
			for _, d := range perr.Details {
				// A page past parsePage's bound is too deep here, and
				// saying how to get there helps more than the bound.
				if n, err := strconv.ParseUint(r.URL.Query().Get("page"), 10, 64); d.Field == "page" &&
					((err == nil && n > maxPage) || errors.Is(err, strconv.ErrRange)) {
					d = tooDeep
				}
				details = append(details, d)
			}
		} else if p.Page-1 > maxCallsOffset/p.Limit {
			// Compared by division: (page-1)*limit can overflow for a huge page.
			details = append(details, tooDeep)
		}
	}
	if details != nil {
		return f, cf, p, badRequest("invalid query", details...)
	}
	return f, cf, p, nil
}

func (a *api) listCalls(w http.ResponseWriter, r *http.Request) *APIError {
	f, cf, p, apiErr := a.parseCallRequest(r, true)
	if apiErr != nil {
		return apiErr
	}
	if apiErr := a.rawKept(r, f.From); apiErr != nil {
		return apiErr
	}
	cond, params := f.where("timestamp")
	cond = cf.where(cond, params)
	table := a.store.Database() + ".api_calls"

	total, err := a.count(r.Context(), "SELECT count() FROM "+table+" WHERE "+cond, params)
	if err != nil {
		return a.storeError(r, "count calls", err)
	}
	out := []call{} // an empty page is [], not null
	if p.offset() < total {
		params["limit"] = strconv.Itoa(p.Limit)
		params["offset"] = strconv.FormatInt(p.offset(), 10)
		// span_id breaks timestamp ties so that pages never overlap or skip.
		rows, err := a.store.Query(r.Context(), "SELECT timestamp, duration_ns, provider, model, request_model, operation,"+
			" service, environment, http_status, status, error_class, error_type,"+
			" input_tokens, output_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens,"+
			" cost_usd, cost_status, unpriced_reason, pricing_version, cost_reason, anomaly_score, is_anomaly, trace_id, span_id"+
			" FROM "+table+" WHERE "+cond+
			" ORDER BY timestamp DESC, span_id DESC LIMIT {limit:UInt32} OFFSET {offset:UInt64}", params)
		if err != nil {
			return a.storeError(r, "list calls", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c call
			var ts time.Time
			var durNs uint64
			var cost *decimal.Decimal
			var score float32
			if err := rows.Scan(&ts, &durNs, &c.Provider, &c.Model, &c.RequestModel, &c.Operation,
				&c.Service, &c.Environment, &c.HTTPStatus, &c.Status, &c.ErrorClass, &c.ErrorType,
				&c.Tokens.Input, &c.Tokens.Output, &c.Tokens.CachedInput, &c.Tokens.CacheWriteInput, &c.Tokens.Reasoning,
				&cost, &c.CostStatus, &c.UnpricedReason, &c.PricingVersion, &c.CostReason, &score, &c.Anomaly, &c.TraceID, &c.SpanID); err != nil {
				return a.storeError(r, "read calls", err)
			}
			c.Timestamp = ts.UTC().Format(time.RFC3339Nano)
			c.DurationMs = float64(durNs) / 1e6
			if cost != nil {
				s := cost.String()
				c.CostUSD = &s
			}
			// Printed at float32 precision, so 0.1 stays 0.1 and not 0.10000000149.
			c.AnomalyScore, _ = strconv.ParseFloat(strconv.FormatFloat(float64(score), 'g', -1, 32), 64)
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return a.storeError(r, "read calls", err)
		}
	}
	writeData(w, http.StatusOK, out, p.of(total))
	return nil
}

// latency is in milliseconds; null when there were no calls to measure.
type latency struct {
	P50 *float64 `json:"p50"`
	P95 *float64 `json:"p95"`
	P99 *float64 `json:"p99"`
}

// callStatsRow is the stats of a range, or of one group of it.
type callStatsRow struct {
	// Group is the groupBy column's value; absent without groupBy.
	Group     *string    `json:"group,omitempty"`
	Count     uint64     `json:"count"`
	Errors    uint64     `json:"errors"`
	ErrorRate float64    `json:"errorRate"`
	LatencyMs latency    `json:"latencyMs"`
	Tokens    callTokens `json:"tokens"`
	// CostUSD sums priced calls only; Unpriced says how many calls it lacks.
	CostUSD   string `json:"costUsd"`
	Unpriced  uint64 `json:"unpriced"`
	Anomalies uint64 `json:"anomalies"`
}

// callStats is the answer of /calls/stats without groupBy.
type callStats struct {
	// Source is where the figures come from: "calls" (raw) or
	// "rollup_1h"; Percentiles says whether latencies are "exact" or
	// "approximate" (t-digest). Counts, tokens and cost are always exact.
	Source      string `json:"source"`
	Percentiles string `json:"percentiles"`
	From        string `json:"from"`
	To          string `json:"to"`
	callStatsRow
}

// groupedCallStats is the answer with groupBy: one row per group, by count
// descending. No overall row: percentiles of groups do not combine, and a
// total without them would be a different shape under the same name.
type groupedCallStats struct {
	Source      string         `json:"source"`
	Percentiles string         `json:"percentiles"`
	From        string         `json:"from"`
	To          string         `json:"to"`
	GroupBy     string         `json:"groupBy"`
	Groups      []callStatsRow `json:"groups"`
}

func (a *api) callStats(w http.ResponseWriter, r *http.Request) *APIError {
	f, cf, _, apiErr := a.parseCallRequest(r, false)
	groupBy := r.URL.Query().Get("groupBy")
	groupCol, okGroup := callGroups[groupBy]
	if groupBy != "" && !okGroup {
		d := FieldError{Field: "groupBy", Message: "must be one of provider, model, operation, service, environment"}
		if apiErr == nil {
			apiErr = badRequest("invalid query")
		}
		apiErr.Details = append(apiErr.Details, d)
	}
	if apiErr != nil {
		return apiErr
	}

	sql, params, source, percentiles := a.callStatsQuery(f, cf, groupCol)
	rows, err := a.store.Query(r.Context(), sql, params)
	if err != nil {
		return a.storeError(r, "call stats", err)
	}
	defer rows.Close()
	total := callStatsRow{CostUSD: "0"}
	groups := []callStatsRow{} // no calls is [], not null
	for rows.Next() {
		var s callStatsRow
		var group string
		var cost decimal.Decimal
		var q []float64
		if err := rows.Scan(&group, &s.Count, &s.Errors, &s.Anomalies, &s.Unpriced,
			&s.Tokens.Input, &s.Tokens.Output, &s.Tokens.CachedInput, &s.Tokens.CacheWriteInput, &s.Tokens.Reasoning,
			&cost, &q); err != nil {
			return a.storeError(r, "read call stats", err)
		}
		s.CostUSD = cost.String()
		// Without calls there is no rate and no latency: 0 and null, not NaN.
		if s.Count > 0 {
			s.ErrorRate = float64(s.Errors) / float64(s.Count)
			if len(q) == 3 {
				s.LatencyMs = latency{&q[0], &q[1], &q[2]}
			}
		}
		if groupCol != "" {
			s.Group = &group
			groups = append(groups, s)
		} else {
			total = s
		}
	}
	if err := rows.Err(); err != nil {
		return a.storeError(r, "read call stats", err)
	}
	from, to := f.From.Format(time.RFC3339Nano), f.To.Format(time.RFC3339Nano)
	if groupCol != "" {
		writeData(w, http.StatusOK, groupedCallStats{Source: source, Percentiles: percentiles, From: from, To: to, GroupBy: groupBy, Groups: groups}, nil)
		return nil
	}
	writeData(w, http.StatusOK, callStats{Source: source, Percentiles: percentiles, From: from, To: to, callStatsRow: total}, nil)
	return nil
}

// callStatsQuery builds the stats query and says where it reads and how
// exact its percentiles are. Its columns: group, count, errors, anomalies,
// unpriced, five token sums, cost, and the p50/p95/p99 latencies in ms.
//
// Up to rawStatsSpan it reads raw calls with quantilesExact: a day of
// latencies fits in memory, and each exact percentile is a latency some
// call really had (the sorted latencies' element floor(level·n), no
// interpolation), so it can be checked against the calls themselves.
//
// Longer ranges read api_calls_1h and merge its t-digest states
// (quantilesTDigestMerge, about 1% error), so a year costs no more than a
// day. The rollup only covers whole hours; the partial hours at the
// range's ends are folded in from raw calls as t-digest states of their
// own, so counts, tokens and cost stay exact for any from/to.
//
// status, anomaly and unpriced exist only on raw calls: with one of them
// over a long range it reads raw calls with quantilesTDigest, whose memory
// is bounded where quantilesExact would hold every latency of the range.
func (a *api) callStatsQuery(f filters, cf callFilters, groupCol string) (string, store.Params, string, string) {
	db := a.store.Database()
	group := "''"
	groupBy := ""
	if groupCol != "" {
		group, groupBy = groupCol, " GROUP BY grp"
	}
	order := " ORDER BY n DESC, grp"
	rawCond, params := f.where("timestamp")
	rawCond = cf.where(rawCond, params)

	short := f.To.Sub(f.From) <= rawStatsSpan
	if short || cf.any() {
		// Exact latencies are whole nanoseconds: 6 decimals of a ms keep
		// them all. A t-digest answers in Float32, whose noise starts
		// about there: µs (3 decimals) is all it knows.
		quantiles, percentiles, decimals := "quantilesExact", "exact", "6"
		if !short {
			quantiles, percentiles, decimals = "quantilesTDigest", "approximate", "3"
		}
		return "SELECT " + group + " AS grp, count() AS n, countIf(status = 'error'), countIf(is_anomaly)," +
			" countIf(cost_status = 'unpriced'), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens)," +
			" sum(cache_write_input_tokens), sum(reasoning_tokens), sum(ifNull(cost_usd, toDecimal64(0, 12)))," +
			" arrayMap(x -> round(toFloat64(x), " + decimals + "), " + quantiles + "(0.5, 0.95, 0.99)(duration_ns / 1e6))" +
			" FROM " + db + ".api_calls WHERE " + rawCond + groupBy + order, params, "calls", percentiles
	}

	// Whole hours inside [from, to) come from the rollup, the rest from raw.
	hFrom := f.From.Truncate(time.Hour)
	if hFrom.Before(f.From) {
		hFrom = hFrom.Add(time.Hour)
	}
	hTo := f.To.Truncate(time.Hour)
	params["hfrom"] = hFrom.Format("2006-01-02 15:04:05")
	params["hto"] = hTo.Format("2006-01-02 15:04:05")
	rollupConds := []string{"ts >= {hfrom:DateTime('UTC')}", "ts < {hto:DateTime('UTC')}"}
	for _, name := range scopeFields {
		if v := *f.field(name); v != "" {
			// Same placeholders as f.where's, bound once in params.
			rollupConds = append(rollupConds, name+" = {"+name+":String}")
		}
	}
	edgeCond := rawCond + " AND NOT (timestamp >= {hfrom:DateTime('UTC')} AND timestamp < {hto:DateTime('UTC')})"
	return "SELECT grp, sum(c) AS n, sum(e), sum(an), sum(u), sum(ti), sum(tout), sum(tc), sum(tcw), sum(tr), sum(cost)," +
		" arrayMap(x -> round(toFloat64(x), 3), quantilesTDigestMerge(0.5, 0.95, 0.99)(lat))" +
		" FROM (" +
		"SELECT " + group + " AS grp, sum(calls) AS c, sum(errors) AS e, sum(anomalies) AS an, sum(unpriced) AS u," +
		" sum(input_tokens) AS ti, sum(output_tokens) AS tout, sum(cached_input_tokens) AS tc," +
		" sum(cache_write_input_tokens) AS tcw, sum(reasoning_tokens) AS tr, sum(cost_usd) AS cost," +
		" quantileTDigestMergeState(latency_ms) AS lat" +
		" FROM " + db + ".api_calls_1h WHERE " + strings.Join(rollupConds, " AND ") + groupBy +
		" UNION ALL " +
		"SELECT " + group + " AS grp, count() AS c, countIf(status = 'error') AS e, countIf(is_anomaly) AS an," +
		" countIf(cost_status = 'unpriced') AS u, sum(input_tokens) AS ti, sum(output_tokens) AS tout," +
		" sum(cached_input_tokens) AS tc, sum(cache_write_input_tokens) AS tcw, sum(reasoning_tokens) AS tr," +
		" sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost," +
		" quantileTDigestState(toFloat64(duration_ns) / 1e6) AS lat" +
		" FROM " + db + ".api_calls WHERE " + edgeCond + groupBy +
		")" + " GROUP BY grp HAVING n > 0" + order, params, "rollup_1h", "approximate"
}

// rawKept refuses a range reaching back further than raw calls are kept:
// the rows before that are gone, and an answer without them would look
// complete. Rollup-backed resources (costs, long-range stats) answer
// older ranges.
func (a *api) rawKept(r *http.Request, from time.Time) *APIError {
	keep := schema.RetentionOf(a.store).Raw()
	if keep > 0 && from.Before(time.Now().Add(-keep)) {
		return badRequest("range older than the raw calls are kept", FieldError{Field: "from",
			Message: fmt.Sprintf("raw calls are kept for %s: ask for a later from, or use /costs for older totals", fmtDuration(keep))})
	}
	return nil
}

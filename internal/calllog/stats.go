package calllog

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Latency is percentiles in milliseconds; null when there were no calls
// to measure.
type Latency struct {
	P50 *float64 `json:"p50"`
	P95 *float64 `json:"p95"`
	P99 *float64 `json:"p99"`
}

// Row is the stats of a range, or of one group of it.
type Row struct {
	// Group is the groupBy column's value; absent without groupBy.
	Group     *string `json:"group,omitempty"`
	Count     uint64  `json:"count"`
	Errors    uint64  `json:"errors"`
	ErrorRate float64 `json:"errorRate"`
	LatencyMs Latency `json:"latencyMs"`
	Tokens    Tokens  `json:"tokens"`
	// CostUSD sums priced calls only; Unpriced says how many calls it lacks.
	CostUSD   string `json:"costUsd"`
	Unpriced  uint64 `json:"unpriced"`
	Anomalies uint64 `json:"anomalies"`
}

// Stats is the statistics of a range: Total without groupBy, else one row
// per group by count descending. No overall row with groups: percentiles
// of groups do not combine.
type Stats struct {
	// Source is where the figures come from: "calls" (raw) or
	// "rollup_1h"; Percentiles says whether latencies are "exact" or
	// "approximate" (t-digest). Counts, tokens and cost are always exact.
	Source, Percentiles string
	Total               Row
	Groups              []Row
}

// Stats reads the statistics of f and cf, grouped by groupBy (one of
// GroupNames or "tag.<name>", "" for none).
func (s *Service) Stats(ctx context.Context, f schema.Filter, cf Filter, groupBy string) (Stats, error) {
	sql, params, source, percentiles := s.statsQuery(f, cf, groupBy)
	rows, err := s.store.Query(ctx, sql, params)
	if err != nil {
		return Stats{}, fmt.Errorf("call stats: %w", err)
	}
	defer rows.Close()
	total := Row{CostUSD: "0"}
	groups := []Row{} // no calls is [], not null
	for rows.Next() {
		var row Row
		var group string
		var cost decimal.Decimal
		var q []float64
		if err := rows.Scan(&group, &row.Count, &row.Errors, &row.Anomalies, &row.Unpriced,
			&row.Tokens.Input, &row.Tokens.Output, &row.Tokens.CachedInput, &row.Tokens.CacheWriteInput, &row.Tokens.Reasoning,
			&cost, &q); err != nil {
			return Stats{}, fmt.Errorf("read call stats: %w", err)
		}
		row.CostUSD = cost.String()
		// Without calls there is no rate and no latency: 0 and null, not NaN.
		if row.Count > 0 {
			row.ErrorRate = float64(row.Errors) / float64(row.Count)
			if len(q) == 3 {
				row.LatencyMs = Latency{&q[0], &q[1], &q[2]}
			}
		}
		if groupBy != "" {
			row.Group = &group
			groups = append(groups, row)
		} else {
			total = row
		}
	}
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("read call stats: %w", err)
	}
	return Stats{Source: source, Percentiles: percentiles, Total: total, Groups: groups}, nil
}

// statsQuery builds the stats query and says where it reads and how
// exact its percentiles are. Its columns: group, count, errors, anomalies,
// unpriced, five token sums, cost, and the p50/p95/p99 latencies in ms.
//
// Up to rawStatsSpan it reads raw calls with quantilesExact: a day of
// latencies fits in memory, and each exact percentile is a latency some
// call really had (the sorted latencies' element floor(level·n), no
// interpolation), so it can be checked against the calls themselves.
//
// Longer ranges read the rollup of the family holding f's and groupBy's
// dimensions (schema.FamilyOf) — api_calls_1h, or the customer, user or
// tag day rollup — and merge its t-digest states (quantilesTDigestMerge,
// about 1% error), so a year costs no more than a day. The rollup only
// covers whole buckets; the partial ones at the range's ends are folded in
// from raw calls as t-digest states of their own, so counts, tokens and
// cost stay exact for any from/to.
//
// status, anomaly and unpriced exist only on raw calls, and some
// combinations of dimensions (a customer and a user) only there too: then
// a long range reads raw calls with quantilesTDigest, whose memory is
// bounded where quantilesExact would hold every latency of the range.
func (s *Service) statsQuery(f schema.Filter, cf Filter, groupBy string) (string, store.Params, string, string) {
	fam := schema.FamilyOf(f.Scope, groupBy)
	rawCond, params := f.Where("timestamp")
	rawCond = cf.where(rawCond, params)
	group, groupCond := "''", ""
	grouped := ""
	if groupBy != "" {
		group, groupCond = schema.GroupColumn(schema.FamilyRaw, groupBy, params)
		grouped = " GROUP BY grp"
	}
	order := " ORDER BY n DESC, grp"

	short := f.To.Sub(f.From) <= rawStatsSpan
	if short || cf.Any() || fam == schema.FamilyRaw {
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
			" FROM " + schema.Table(s.store, schema.TableCalls) + " WHERE " + rawCond + groupCond + grouped + order, params, "calls", percentiles
	}

	// Whole buckets inside [from, to) come from the rollup, the rest from raw.
	grain, source := schema.GrainHour, "rollup_1h"
	if fam != schema.FamilyCalls {
		grain, source = schema.GrainDay, "rollup_"+strings.TrimPrefix(fam.Table(schema.GrainDay), "api_calls_")
	}
	w := schema.Grains[grain].Width
	bFrom := f.From.Truncate(w)
	if bFrom.Before(f.From) {
		bFrom = bFrom.Add(w)
	}
	bTo := f.To.Truncate(w)
	params["hfrom"] = bFrom.Format("2006-01-02 15:04:05")
	params["hto"] = bTo.Format("2006-01-02 15:04:05")
	rollupGroup, rollupGroupCond := "''", ""
	if groupBy != "" {
		rollupGroup, rollupGroupCond = schema.GroupColumn(fam, groupBy, params)
	}
	rollupCond := "ts >= {hfrom:DateTime('UTC')} AND ts < {hto:DateTime('UTC')}" + f.Cond(fam, params) + rollupGroupCond
	edgeCond := rawCond + groupCond + " AND NOT (timestamp >= {hfrom:DateTime('UTC')} AND timestamp < {hto:DateTime('UTC')})"
	return "SELECT grp, sum(c) AS n, sum(e), sum(an), sum(u), sum(ti), sum(tout), sum(tc), sum(tcw), sum(tr), sum(cost)," +
		" arrayMap(x -> round(toFloat64(x), 3), quantilesTDigestMerge(0.5, 0.95, 0.99)(lat))" +
		" FROM (" +
		"SELECT " + rollupGroup + " AS grp, sum(calls) AS c, sum(errors) AS e, sum(anomalies) AS an, sum(unpriced) AS u," +
		" sum(input_tokens) AS ti, sum(output_tokens) AS tout, sum(cached_input_tokens) AS tc," +
		" sum(cache_write_input_tokens) AS tcw, sum(reasoning_tokens) AS tr, sum(cost_usd) AS cost," +
		" quantileTDigestMergeState(latency_ms) AS lat" +
		" FROM " + schema.Table(s.store, fam.Table(grain)) + " WHERE " + rollupCond + grouped +
		" UNION ALL " +
		"SELECT " + group + " AS grp, count() AS c, countIf(status = 'error') AS e, countIf(is_anomaly) AS an," +
		" countIf(cost_status = 'unpriced') AS u, sum(input_tokens) AS ti, sum(output_tokens) AS tout," +
		" sum(cached_input_tokens) AS tc, sum(cache_write_input_tokens) AS tcw, sum(reasoning_tokens) AS tr," +
		" sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost," +
		" quantileTDigestState(toFloat64(duration_ns) / 1e6) AS lat" +
		" FROM " + schema.Table(s.store, schema.TableCalls) + " WHERE " + edgeCond + grouped +
		")" + " GROUP BY grp HAVING n > 0" + order, params, source, "approximate"
}

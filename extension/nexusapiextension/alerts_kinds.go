package nexusapiextension

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	provider "github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/store"
)

// observe measures rule r at now: one observation per instance. No
// observation at all is "no data".
func (al *alerting) observe(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	switch r.Kind {
	case kindCostOverWindow:
		return al.observeCost(ctx, r, now)
	case kindErrorRate:
		return al.observeErrorRate(ctx, r, now)
	case kindLatencyP95:
		return al.observeLatency(ctx, r, now)
	case kindAnomaly:
		if r.Mode == anomalySpend {
			return al.observeSpendAnomaly(ctx, r, now)
		}
		return al.observeAnomalies(ctx, r, now)
	case kindUnpriced:
		return al.observeUnpriced(ctx, r, now)
	case kindQuota:
		if r.Source == quotaErrors {
			return al.observeQuotaErrors(ctx, r, now)
		}
		return al.observeHeadroom(ctx, r, now)
	case kindProviderDown:
		return al.observeProviderDown(ctx, r, now)
	case kindKeyInvalid:
		return al.observeKeyInvalid(ctx, r, now)
	case kindBudgetThreshold, kindBudgetForecast:
		return al.observeBudgets(ctx, r, now)
	}
	return nil, fmt.Errorf("unknown rule kind %q", r.Kind)
}

// --- shared query pieces ---

const (
	secondLayout = "2006-01-02 15:04:05"
	milliLayout  = "2006-01-02 15:04:05.000"
)

// scopeCond is the rule's scope filters as a parameterised condition (with
// a leading AND), added to params.
func scopeCond(s ruleScope, params store.Params) string {
	f := s.filters()
	var b strings.Builder
	for _, name := range scopeFields {
		if v := *f.field(name); v != "" {
			b.WriteString(" AND " + name + " = {" + name + ":String}")
			params[name] = v
		}
	}
	return b.String()
}

// groupSelect is the rule's group-by columns as leading String columns,
// and the GROUP BY clause; a rule without groups gets one row (aggregates
// over no rows still answer).
func groupSelect(r *alertRule) (cols, groupBy string) {
	if len(r.GroupBy) == 0 {
		return "", ""
	}
	parts := make([]string, len(r.GroupBy))
	for i, g := range r.GroupBy {
		parts[i] = "toString(" + g + ")" // g is one of scopeFields, never request text
	}
	return strings.Join(parts, ", ") + ", ", " GROUP BY " + strings.Join(r.GroupBy, ", ")
}

// instance names one group of a rule and its labels: the scope it was
// given plus the group's own values.
func instance(r *alertRule, groups []string) (string, map[string]string) {
	labels := map[string]string{}
	f := r.Scope.filters()
	for _, name := range scopeFields {
		if v := *f.field(name); v != "" {
			labels[name] = v
		}
	}
	parts := make([]string, len(groups))
	for i, g := range r.GroupBy {
		labels[g] = groups[i]
		parts[i] = g + "=" + groups[i]
	}
	return strings.Join(parts, ","), labels
}

// rollupWindow is the minute-rollup condition of a window ending at now:
// every minute bucket that overlaps [now-window, now]. A bucket is named by
// its start, so a call at 10:00:53 is in the 10:00 bucket; selecting
// buckets that start after now-window would drop it from an evaluation at
// 10:01:03 with a one-minute window, before any evaluation had counted it.
// The window thus reaches back to the start of its first minute (up to a
// minute more than asked), and the current, still filling minute counts,
// so an alert does not wait for it to close.
func rollupWindow(window time.Duration, now time.Time, params store.Params) string {
	params["wfrom"] = now.Add(-window).UTC().Truncate(time.Minute).Format(secondLayout)
	params["wto"] = now.UTC().Format(secondLayout)
	return "ts >= {wfrom:DateTime('UTC')} AND ts <= {wto:DateTime('UTC')}"
}

// groupRow is one group's values from a rule query.
type groupRow struct {
	groups []string
	vals   []any
}

// queryGroups runs a query whose leading columns are the rule's groups
// and whose other columns scan into what newVals returns.
func (al *alerting) queryGroups(ctx context.Context, r *alertRule, q string, params store.Params, newVals func() []any) ([]groupRow, error) {
	rows, err := al.a.store.Query(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []groupRow
	for rows.Next() {
		row := groupRow{groups: make([]string, len(r.GroupBy)), vals: newVals()}
		dest := make([]any, 0, len(row.groups)+len(row.vals))
		for i := range row.groups {
			dest = append(dest, &row.groups[i])
		}
		dest = append(dest, row.vals...)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func (al *alerting) table(name string) string { return al.a.store.Database() + "." + name }

func ratio(num, den uint64) decimal.Decimal {
	return decimal.NewFromInt(int64(num)).DivRound(decimal.NewFromInt(int64(den)), 12)
}

func pct(d decimal.Decimal) string { return d.Mul(decimal.NewFromInt(100)).Round(2).String() + "%" }

// --- call kinds (minute rollup) ---

func (al *alerting) observeCost(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r)
	q := "SELECT " + cols + "sum(cost_usd), sum(unpriced) FROM " + al.table("api_calls_1m") +
		" WHERE " + rollupWindow(r.Window, now, params) + scopeCond(r.Scope, params) + groupBy
	rows, err := al.queryGroups(ctx, r, q, params, func() []any { return []any{new(decimal.Decimal), new(uint64)} })
	if err != nil {
		return nil, fmt.Errorf("read spend over the window: %w", err)
	}
	out := make([]observation, 0, len(rows))
	for _, row := range rows {
		cost, unpriced := *row.vals[0].(*decimal.Decimal), *row.vals[1].(*uint64)
		key, labels := instance(r, row.groups)
		s := fmt.Sprintf("spend %s in the last %s, threshold %s", fmtUSD(cost), fmtDuration(r.Window), fmtUSD(r.Threshold))
		if unpriced > 0 {
			// An unknown price is not $0: say what the sum lacks.
			s += fmt.Sprintf(" (%d unpriced calls not counted)", unpriced)
		}
		out = append(out, observation{key: key, labels: labels, value: cost, threshold: r.Threshold,
			breach: cost.GreaterThan(r.Threshold), summary: s})
	}
	return out, nil
}

func (al *alerting) observeErrorRate(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r)
	q := "SELECT " + cols + "toUInt64(sum(calls)), toUInt64(sum(errors)) FROM " + al.table("api_calls_1m") +
		" WHERE " + rollupWindow(r.Window, now, params) + scopeCond(r.Scope, params) + groupBy
	rows, err := al.queryGroups(ctx, r, q, params, func() []any { return []any{new(uint64), new(uint64)} })
	if err != nil {
		return nil, fmt.Errorf("read error rate over the window: %w", err)
	}
	var out []observation
	for _, row := range rows {
		calls, errs := *row.vals[0].(*uint64), *row.vals[1].(*uint64)
		if calls < uint64(r.MinCalls) {
			continue // too few calls to say: no data
		}
		rate := ratio(errs, calls)
		key, labels := instance(r, row.groups)
		out = append(out, observation{key: key, labels: labels, value: rate, threshold: r.Threshold,
			breach: rate.GreaterThan(r.Threshold),
			summary: fmt.Sprintf("error rate %s (%d of %d calls) in the last %s, threshold %s",
				pct(rate), errs, calls, fmtDuration(r.Window), pct(r.Threshold))})
	}
	return out, nil
}

func (al *alerting) observeLatency(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r)
	q := "SELECT " + cols + "toUInt64(sum(calls)), toFloat64(quantileTDigestMerge(0.95)(latency_ms)) FROM " +
		al.table("api_calls_1m") + " WHERE " + rollupWindow(r.Window, now, params) + scopeCond(r.Scope, params) + groupBy
	rows, err := al.queryGroups(ctx, r, q, params, func() []any { return []any{new(uint64), new(float64)} })
	if err != nil {
		return nil, fmt.Errorf("read p95 latency over the window: %w", err)
	}
	var out []observation
	for _, row := range rows {
		calls, p95 := *row.vals[0].(*uint64), *row.vals[1].(*float64)
		if calls < uint64(r.MinCalls) || math.IsNaN(p95) || math.IsInf(p95, 0) {
			continue
		}
		// A t-digest is good to about a microsecond here.
		v := decimal.NewFromFloat(p95).Round(3)
		key, labels := instance(r, row.groups)
		out = append(out, observation{key: key, labels: labels, value: v, threshold: r.Threshold,
			breach: v.GreaterThan(r.Threshold),
			summary: fmt.Sprintf("p95 latency %s ms over %d calls in the last %s, threshold %s ms",
				v.Round(1), calls, fmtDuration(r.Window), r.Threshold)})
	}
	return out, nil
}

func (al *alerting) observeAnomalies(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r)
	q := "SELECT " + cols + "toUInt64(sum(calls)), toUInt64(sum(anomalies)) FROM " + al.table("api_calls_1m") +
		" WHERE " + rollupWindow(r.Window, now, params) + scopeCond(r.Scope, params) + groupBy
	rows, err := al.queryGroups(ctx, r, q, params, func() []any { return []any{new(uint64), new(uint64)} })
	if err != nil {
		return nil, fmt.Errorf("read anomalous calls over the window: %w", err)
	}
	var out []observation
	for _, row := range rows {
		calls, anomalies := *row.vals[0].(*uint64), *row.vals[1].(*uint64)
		key, labels := instance(r, row.groups)
		o := observation{key: key, labels: labels, threshold: r.Threshold}
		if r.Mode == anomalyCount {
			if calls == 0 {
				continue
			}
			o.value = decimal.NewFromInt(int64(anomalies))
			o.breach = o.value.GreaterThanOrEqual(r.Threshold)
			o.summary = fmt.Sprintf("%d anomalous calls of %d in the last %s, threshold %s",
				anomalies, calls, fmtDuration(r.Window), r.Threshold)
		} else {
			if calls < uint64(r.MinCalls) {
				continue
			}
			o.value = ratio(anomalies, calls)
			o.breach = o.value.GreaterThan(r.Threshold)
			o.summary = fmt.Sprintf("%s of calls anomalous (%d of %d) in the last %s, threshold %s",
				pct(o.value), anomalies, calls, fmtDuration(r.Window), pct(r.Threshold))
		}
		out = append(out, o)
	}
	return out, nil
}

// observeUnpriced counts the calls over the window that no price covered:
// a new model or operation appearing in traffic before the catalog knows
// it, whose spend is then missing from every total.
func (al *alerting) observeUnpriced(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r)
	q := "SELECT " + cols + "toUInt64(sum(calls)), toUInt64(sum(unpriced)) FROM " + al.table("api_calls_1m") +
		" WHERE " + rollupWindow(r.Window, now, params) + scopeCond(r.Scope, params) + groupBy
	rows, err := al.queryGroups(ctx, r, q, params, func() []any { return []any{new(uint64), new(uint64)} })
	if err != nil {
		return nil, fmt.Errorf("read unpriced calls over the window: %w", err)
	}
	var out []observation
	for _, row := range rows {
		calls, unpriced := *row.vals[0].(*uint64), *row.vals[1].(*uint64)
		if calls == 0 {
			continue
		}
		key, labels := instance(r, row.groups)
		o := observation{key: key, labels: labels, threshold: r.Threshold, value: decimal.NewFromInt(int64(unpriced))}
		o.breach = o.value.GreaterThanOrEqual(r.Threshold)
		o.summary = fmt.Sprintf("%d unpriced calls of %d in the last %s, threshold %s",
			unpriced, calls, fmtDuration(r.Window), r.Threshold)
		out = append(out, o)
	}
	return out, nil
}

// baselineDays is how many earlier days an anomaly spend rule compares
// its window with.
const baselineDays = 7

// observeSpendAnomaly compares the spend of the window with the same
// window on each of the previous seven days. An instance without any
// baseline spend is not judged: a new service's first dollar is not an
// anomaly.
func (al *alerting) observeSpendAnomaly(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r)
	cur := rollupWindow(r.Window, now, params)
	base := make([]string, baselineDays)
	for d := 1; d <= baselineDays; d++ {
		end := now.Add(-time.Duration(d) * 24 * time.Hour)
		p := "b" + strconv.Itoa(d)
		params[p+"from"] = end.Add(-r.Window).UTC().Format(secondLayout)
		params[p+"to"] = end.UTC().Format(secondLayout)
		base[d-1] = "(ts > {" + p + "from:DateTime('UTC')} AND ts <= {" + p + "to:DateTime('UTC')})"
	}
	q := "SELECT " + cols + "sumIf(cost_usd, " + cur + "), sumIf(cost_usd, " + strings.Join(base, " OR ") + ") FROM " +
		al.table("api_calls_1m") + " WHERE ts > {b7from:DateTime('UTC')} AND ts <= {wto:DateTime('UTC')}" +
		scopeCond(r.Scope, params) + groupBy
	rows, err := al.queryGroups(ctx, r, q, params, func() []any { return []any{new(decimal.Decimal), new(decimal.Decimal)} })
	if err != nil {
		return nil, fmt.Errorf("read spend and its baseline: %w", err)
	}
	var out []observation
	for _, row := range rows {
		spend, total := *row.vals[0].(*decimal.Decimal), *row.vals[1].(*decimal.Decimal)
		mean := total.DivRound(decimal.NewFromInt(baselineDays), thresholdDecimals)
		if !mean.IsPositive() {
			continue
		}
		limit := mean.Mul(r.Threshold)
		key, labels := instance(r, row.groups)
		out = append(out, observation{key: key, labels: labels, value: spend, threshold: limit,
			breach: spend.GreaterThan(limit),
			summary: fmt.Sprintf("spend %s in the last %s is %s× the mean of the same window over the previous %d days (%s), threshold %s×",
				fmtUSD(spend), fmtDuration(r.Window), spend.DivRound(mean, 2), baselineDays, fmtUSD(mean), r.Threshold)})
	}
	return out, nil
}

// --- quota ---

// quotaClasses are the error classes of calls refused for lack of quota
// or rate.
var quotaClasses = []string{provider.ClassQuotaExhausted, provider.ClassRateLimited}

// observeQuotaErrors counts refused calls in raw calls (the rollups have
// no error class); a window of calls is small.
func (al *alerting) observeQuotaErrors(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	params := store.Params{"from": now.Add(-r.Window).UTC().Format(milliLayout), "to": now.UTC().Format(milliLayout),
		"classes": stringArrayParam(quotaClasses), "exhausted": provider.ClassQuotaExhausted}
	cols, groupBy := groupSelect(r)
	q := "SELECT " + cols + "count(), countIf(error_class = {exhausted:String}) FROM " + al.table("api_calls") +
		" WHERE timestamp > {from:DateTime64(3, 'UTC')} AND timestamp <= {to:DateTime64(3, 'UTC')}" +
		" AND error_class IN {classes:Array(String)}" + scopeCond(r.Scope, params) + groupBy
	rows, err := al.queryGroups(ctx, r, q, params, func() []any { return []any{new(uint64), new(uint64)} })
	if err != nil {
		return nil, fmt.Errorf("read rate-limited calls over the window: %w", err)
	}
	out := make([]observation, 0, len(rows))
	for _, row := range rows {
		n, quota := *row.vals[0].(*uint64), *row.vals[1].(*uint64)
		key, labels := instance(r, row.groups)
		v := decimal.NewFromInt(int64(n))
		out = append(out, observation{key: key, labels: labels, value: v, threshold: r.Threshold,
			breach: v.GreaterThanOrEqual(r.Threshold),
			summary: fmt.Sprintf("%d calls refused for rate limit (%d) or exhausted quota (%d) in the last %s, threshold %s",
				n, n-quota, quota, fmtDuration(r.Window), r.Threshold)})
	}
	return out, nil
}

// observeHeadroom reads the latest rate-limit pair of each provider window
// (as GET /providers does); readings older than the rule's window are
// stale (the limit's own window has reset since) and left out.
func (al *alerting) observeHeadroom(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	params := store.Params{"from": now.Add(-r.Window).UTC().Format(milliLayout), "to": now.UTC().Format(milliLayout),
		"lim": gaugeRateLimitLimit, "rem": gaugeRateLimitRemaining}
	cond := ""
	if r.Scope.Provider != "" {
		cond, params["provider"] = " AND provider = {provider:String}", r.Scope.Provider
	}
	rows, err := al.a.store.Query(ctx, "SELECT provider, scope, endpoint,"+
		" argMaxIf(value, ts, name = {lim:String}), countIf(name = {lim:String}),"+
		" argMaxIf(value, ts, name = {rem:String}), countIf(name = {rem:String})"+
		" FROM "+al.table("provider_gauges")+" WHERE name IN ({lim:String}, {rem:String})"+
		" AND ts > {from:DateTime64(3, 'UTC')} AND ts <= {to:DateTime64(3, 'UTC')}"+cond+
		" GROUP BY provider, scope, endpoint ORDER BY provider, scope, endpoint", params)
	if err != nil {
		return nil, fmt.Errorf("read rate-limit headroom: %w", err)
	}
	defer rows.Close()
	var out []observation
	for rows.Next() {
		var prov, scope, endpoint string
		var limit, remaining decimal.Decimal
		var nLimit, nRemaining uint64
		if err := rows.Scan(&prov, &scope, &endpoint, &limit, &nLimit, &remaining, &nRemaining); err != nil {
			return nil, fmt.Errorf("read rate-limit headroom: %w", err)
		}
		if nLimit == 0 || nRemaining == 0 || !limit.IsPositive() {
			continue // not announced: nothing to judge
		}
		h := remaining.DivRound(limit, thresholdDecimals)
		labels := map[string]string{"provider": prov, "ratelimit_scope": scope, "endpoint": endpoint}
		out = append(out, observation{key: "provider=" + prov + ",scope=" + scope + ",endpoint=" + endpoint, labels: labels,
			value: h, threshold: r.Threshold, breach: h.LessThan(r.Threshold),
			summary: fmt.Sprintf("%s rate-limit headroom %s (%s of %s %s left), threshold %s",
				prov, pct(h), remaining, limit, scopeWords(scope, endpoint), pct(r.Threshold))})
	}
	return out, rows.Err()
}

func scopeWords(scope, endpoint string) string {
	s := scope
	if s == "" {
		s = "requests"
	}
	if endpoint != "" {
		s += " on " + endpoint
	}
	return s
}

// --- provider health ---

// healthRow is one key check.
type healthRow struct {
	ts       time.Time
	up       bool
	class    string
	message  string
	provider string
}

// latestChecks reads the last n checks (up to now) of each provider in
// scope, newest first.
func (al *alerting) latestChecks(ctx context.Context, r *alertRule, now time.Time, n int) (map[string][]healthRow, []string, error) {
	params := store.Params{"to": now.UTC().Format(milliLayout), "n": strconv.Itoa(n)}
	cond := ""
	if r.Scope.Provider != "" {
		cond, params["provider"] = " AND provider = {provider:String}", r.Scope.Provider
	}
	rows, err := al.a.store.Query(ctx, "SELECT provider, ts, up, class, message FROM "+al.table("provider_health")+
		" WHERE ts <= {to:DateTime64(3, 'UTC')}"+cond+" ORDER BY provider, ts DESC LIMIT {n:UInt32} BY provider", params)
	if err != nil {
		return nil, nil, fmt.Errorf("read provider health checks: %w", err)
	}
	defer rows.Close()
	by := map[string][]healthRow{}
	var order []string
	for rows.Next() {
		var h healthRow
		if err := rows.Scan(&h.provider, &h.ts, &h.up, &h.class, &h.message); err != nil {
			return nil, nil, fmt.Errorf("read provider health checks: %w", err)
		}
		h.message = al.a.cfg.Providers.Redact(h.message)
		if _, ok := by[h.provider]; !ok {
			order = append(order, h.provider)
		}
		by[h.provider] = append(by[h.provider], h)
	}
	return by, order, rows.Err()
}

func (al *alerting) observeProviderDown(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	n := int(r.Threshold.IntPart())
	by, order, err := al.latestChecks(ctx, r, now, n)
	if err != nil {
		return nil, err
	}
	out := make([]observation, 0, len(order))
	for _, p := range order {
		checks := by[p]
		failed := 0
		for _, h := range checks {
			if h.up {
				break
			}
			failed++
		}
		last := checks[0]
		s := fmt.Sprintf("%s: %d of the last %d health checks failed in a row", p, failed, len(checks))
		if failed > 0 {
			s += fmt.Sprintf("; latest %s at %s: %s", last.class, last.ts.UTC().Format(time.RFC3339), last.message)
		}
		out = append(out, observation{key: "provider=" + p, labels: map[string]string{"provider": p},
			value: decimal.NewFromInt(int64(failed)), threshold: r.Threshold, breach: failed >= n, summary: s})
	}
	return out, nil
}

func (al *alerting) observeKeyInvalid(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	by, order, err := al.latestChecks(ctx, r, now, 1)
	if err != nil {
		return nil, err
	}
	out := make([]observation, 0, len(order))
	for _, p := range order {
		last := by[p][0]
		bad := last.class == provider.ClassAuthFailed
		s := fmt.Sprintf("%s: the latest key check (%s) was %s", p, last.ts.UTC().Format(time.RFC3339), last.class)
		if bad {
			s = fmt.Sprintf("%s: the API key was refused at the latest check (%s): %s", p, last.ts.UTC().Format(time.RFC3339), last.message)
		}
		v := decimal.Zero
		if bad {
			v = decimal.NewFromInt(1)
		}
		out = append(out, observation{key: "provider=" + p, labels: map[string]string{"provider": p},
			value: v, threshold: decimal.NewFromInt(1), breach: bad, summary: s})
	}
	return out, nil
}

// --- budgets ---

var hundred = decimal.NewFromInt(100)

// observeBudgets measures the rule's budget (or every budget) in its
// current period. Instances carry the period's start, so that a threshold
// crossed is announced once per period and the next period starts clean.
func (al *alerting) observeBudgets(ctx context.Context, r *alertRule, now time.Time) ([]observation, error) {
	budgets, err := al.a.liveBudgets(ctx)
	if err != nil {
		return nil, fmt.Errorf("read budgets: %w", err)
	}
	var out []observation
	for _, b := range budgets {
		if r.BudgetID != "" && b.ID != r.BudgetID {
			continue
		}
		st, err := al.a.budgetStatusAt(ctx, b, now)
		if err != nil {
			return nil, fmt.Errorf("budget %s status: %w", b.ID, err)
		}
		spent, err := decimal.NewFromString(st.Spent)
		if err != nil {
			return nil, fmt.Errorf("budget %s spent %q: %w", b.ID, st.Spent, err)
		}
		labels := func() map[string]string {
			l := map[string]string{"budget_id": b.ID, "budget": b.Name, "period": b.Period, "period_start": st.PeriodStart}
			for k, v := range map[string]string{"provider": b.Scope.Provider, "model": b.Scope.Model,
				"service": b.Scope.Service, "environment": b.Scope.Environment} {
				if v != "" {
					l[k] = v
				}
			}
			return l
		}
		base := "budget=" + b.ID + ",period=" + st.PeriodStart
		if r.Kind == kindBudgetForecast {
			forecast, err := decimal.NewFromString(st.Forecast)
			if err != nil {
				return nil, fmt.Errorf("budget %s forecast %q: %w", b.ID, st.Forecast, err)
			}
			limit := b.amount.Mul(r.Threshold).Div(hundred)
			out = append(out, observation{key: base, labels: labels(), value: forecast.Round(thresholdDecimals), threshold: limit,
				breach: forecast.GreaterThan(limit),
				summary: fmt.Sprintf("budget %q: forecast %s by the end of the %s period (%s), over %s (%s%% of %s); spent so far %s",
					b.Name, fmtUSD(forecast), b.Period, st.PeriodEnd, fmtUSD(limit), r.Threshold, fmtUSD(b.amount), fmtUSD(spent))})
			continue
		}
		thresholds := b.Thresholds
		if r.Threshold.IsPositive() {
			thresholds = []int{int(r.Threshold.IntPart())}
		}
		used := spent.Mul(hundred).DivRound(b.amount, 6)
		for _, t := range thresholds {
			td := decimal.NewFromInt(int64(t))
			l := labels()
			l["threshold_percent"] = strconv.Itoa(t)
			out = append(out, observation{key: base + ",threshold=" + strconv.Itoa(t), labels: l, value: used, threshold: td,
				// Compared exactly, as budget status does: spent×100 ≥ amount×t.
				breach: spent.Mul(hundred).Cmp(b.amount.Mul(td)) >= 0,
				summary: fmt.Sprintf("budget %q: %s of %s spent this %s period (%s%%), threshold %d%%",
					b.Name, fmtUSD(spent), fmtUSD(b.amount), b.Period, used.Round(2), t)})
		}
	}
	return out, nil
}

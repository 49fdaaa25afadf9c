package alerting

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/store"
)

// The kinds that read calls over a window from the minute rollup; each
// splits into one instance per group of its groupBy.

// callSpec is what the call kinds share: any scope, grouping, a window.
func callSpec(t thresholdSpec) spec { return spec{scope: scopeAny, groupable: true, threshold: t} }

// --- cost_over_window ---

// costOverWindow fires when the spend over the window passes a dollar
// threshold.
type costOverWindow struct{}

func (costOverWindow) name() string    { return KindCostOverWindow }
func (costOverWindow) unit(*Rule) unit { return unitUSD }
func (costOverWindow) validate(r *Rule, bad func(field, msg string)) spec {
	noOption(r, "source", r.Source, bad)
	noOption(r, "mode", r.Mode, bad)
	return callSpec(thresholdSpec{lo: "0", hi: "1000000000000", loOpen: true, what: "spend in USD over the window above which the rule fires, greater than 0"})
}

func (costOverWindow) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r, params)
	q := "SELECT " + cols + "sum(cost_usd), sum(unpriced) FROM " + src.minuteSource(r) +
		" WHERE " + rollupWindow(r.Window, now, params) + scopeCond(r, params) + groupBy
	rows, err := src.queryGroups(ctx, r, q, params, func() []any { return []any{new(decimal.Decimal), new(uint64)} })
	if err != nil {
		return nil, fmt.Errorf("read spend over the window: %w", err)
	}
	out := make([]observation, 0, len(rows))
	for _, row := range rows {
		cost, unpriced := *row.vals[0].(*decimal.Decimal), *row.vals[1].(*uint64)
		key, labels := instance(r, row.groups)
		s := fmt.Sprintf("spend %s in the last %s, threshold %s", fmtUSD(cost), FormatDuration(r.Window), fmtUSD(r.Threshold))
		if unpriced > 0 {
			// An unknown price is not $0: say what the sum lacks.
			s += fmt.Sprintf(" (%d unpriced calls not counted)", unpriced)
		}
		out = append(out, observation{key: key, labels: labels, value: cost, threshold: r.Threshold,
			breach: cost.GreaterThan(r.Threshold), summary: s})
	}
	return out, nil
}

// --- error_rate ---

// errorRate fires when the share of failed calls passes a threshold.
type errorRate struct{}

func (errorRate) name() string    { return KindErrorRate }
func (errorRate) unit(*Rule) unit { return unitShare }
func (errorRate) validate(r *Rule, bad func(field, msg string)) spec {
	noOption(r, "source", r.Source, bad)
	noOption(r, "mode", r.Mode, bad)
	s := callSpec(thresholdSpec{lo: "0", hi: "1", loOpen: true, hiOpen: true, what: "an error rate between 0 and 1 (0.05 = 5%), exclusive"})
	s.minCalls = true
	return s
}

func (errorRate) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	rows, err := src.rollupCounts(ctx, r, now, "calls", "errors")
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
				pct(rate), errs, calls, FormatDuration(r.Window), pct(r.Threshold))})
	}
	return out, nil
}

// --- latency_p95 ---

// latencyP95 fires when the 95th percentile latency passes a threshold.
type latencyP95 struct{}

func (latencyP95) name() string    { return KindLatencyP95 }
func (latencyP95) unit(*Rule) unit { return unitMillis }
func (latencyP95) validate(r *Rule, bad func(field, msg string)) spec {
	noOption(r, "source", r.Source, bad)
	noOption(r, "mode", r.Mode, bad)
	s := callSpec(thresholdSpec{lo: "0", hi: "86400000", loOpen: true, what: "a latency in milliseconds greater than 0"})
	s.minCalls = true
	return s
}

func (latencyP95) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r, params)
	q := "SELECT " + cols + "toUInt64(sum(calls)), toFloat64(quantileTDigestMerge(0.95)(latency_ms)) FROM " +
		src.minuteSource(r) + " WHERE " + rollupWindow(r.Window, now, params) + scopeCond(r, params) + groupBy
	rows, err := src.queryGroups(ctx, r, q, params, func() []any { return []any{new(uint64), new(float64)} })
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
				v.Round(1), calls, FormatDuration(r.Window), r.Threshold)})
	}
	return out, nil
}

// --- unpriced ---

// unpriced counts the calls over the window that no price covered: a new
// model or operation appearing in traffic before the catalog knows it,
// whose spend is then missing from every total.
type unpriced struct{}

func (unpriced) name() string    { return KindUnpriced }
func (unpriced) unit(*Rule) unit { return unitCount }
func (unpriced) validate(r *Rule, bad func(field, msg string)) spec {
	noOption(r, "source", r.Source, bad)
	noOption(r, "mode", r.Mode, bad)
	return callSpec(thresholdSpec{def: "1", lo: "1", hi: "1000000000", whole: true, what: "a whole number of unpriced calls from 1"})
}

func (unpriced) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	rows, err := src.rollupCounts(ctx, r, now, "calls", "unpriced")
	if err != nil {
		return nil, fmt.Errorf("read unpriced calls over the window: %w", err)
	}
	var out []observation
	for _, row := range rows {
		calls, n := *row.vals[0].(*uint64), *row.vals[1].(*uint64)
		if calls == 0 {
			continue
		}
		key, labels := instance(r, row.groups)
		o := observation{key: key, labels: labels, threshold: r.Threshold, value: decimal.NewFromInt(int64(n))}
		o.breach = o.value.GreaterThanOrEqual(r.Threshold)
		o.summary = fmt.Sprintf("%d unpriced calls of %d in the last %s, threshold %s",
			n, calls, FormatDuration(r.Window), r.Threshold)
		out = append(out, o)
	}
	return out, nil
}

// --- anomaly ---

// Modes of an anomaly rule.
const (
	anomalyShare = "share"
	anomalyCount = "count"
	anomalySpend = "spend"
)

var anomalyModes = []string{anomalyShare, anomalyCount, anomalySpend}

// baselineDays is how many earlier days an anomaly spend rule compares
// its window with.
const baselineDays = 7

// anomaly fires on calls the cost processor scored anomalous (share or
// count mode), or on spend far above the same window on earlier days
// (spend mode).
type anomaly struct{}

func (anomaly) name() string { return KindAnomaly }

func (anomaly) unit(r *Rule) unit {
	switch r.Mode {
	case anomalySpend:
		return unitUSD
	case anomalyShare:
		return unitShare
	}
	return unitCount
}

func (anomaly) validate(r *Rule, bad func(field, msg string)) spec {
	noOption(r, "source", r.Source, bad)
	if r.Mode == "" {
		r.Mode = anomalyShare
	} else if !slices.Contains(anomalyModes, r.Mode) {
		bad("mode", "must be one of "+strings.Join(anomalyModes, ", "))
	}
	switch r.Mode {
	case anomalyCount:
		return callSpec(thresholdSpec{def: "10", lo: "1", hi: "1000000000", whole: true, what: "a whole number of anomalous calls from 1"})
	case anomalySpend:
		s := callSpec(thresholdSpec{def: "3", lo: "1", hi: "1000", loOpen: true, what: "a factor over the 7-day baseline, greater than 1 and at most 1000"})
		s.maxWindow = maxBaselineWindow
		return s
	}
	s := callSpec(thresholdSpec{def: "0.1", lo: "0", hi: "1", loOpen: true, hiOpen: true, what: "a share of calls between 0 and 1, exclusive"})
	s.minCalls = true
	return s
}

func (anomaly) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	if r.Mode == anomalySpend {
		return observeSpendAnomaly(ctx, src, r, now)
	}
	rows, err := src.rollupCounts(ctx, r, now, "calls", "anomalies")
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
				anomalies, calls, FormatDuration(r.Window), r.Threshold)
		} else {
			if calls < uint64(r.MinCalls) {
				continue
			}
			o.value = ratio(anomalies, calls)
			o.breach = o.value.GreaterThan(r.Threshold)
			o.summary = fmt.Sprintf("%s of calls anomalous (%d of %d) in the last %s, threshold %s",
				pct(o.value), anomalies, calls, FormatDuration(r.Window), pct(r.Threshold))
		}
		out = append(out, o)
	}
	return out, nil
}

// observeSpendAnomaly compares the spend of the window with the same
// window on each of the previous seven days. An instance without any
// baseline spend is not judged: a new service's first dollar is not an
// anomaly.
func observeSpendAnomaly(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r, params)
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
		src.minuteSource(r) + " WHERE ts > {b7from:DateTime('UTC')} AND ts <= {wto:DateTime('UTC')}" +
		scopeCond(r, params) + groupBy
	rows, err := src.queryGroups(ctx, r, q, params, func() []any { return []any{new(decimal.Decimal), new(decimal.Decimal)} })
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
				fmtUSD(spend), FormatDuration(r.Window), spend.DivRound(mean, 2), baselineDays, fmtUSD(mean), r.Threshold)})
	}
	return out, nil
}

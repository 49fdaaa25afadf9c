package alerting

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nexus-otel/nexus/internal/store"
)

// Rule kinds.
const (
	KindCostOverWindow  = "cost_over_window"
	KindBudgetThreshold = "budget_threshold"
	KindBudgetForecast  = "budget_forecast"
	KindErrorRate       = "error_rate"
	KindLatencyP95      = "latency_p95"
	KindProviderDown    = "provider_down"
	KindKeyInvalid      = "key_invalid"
	KindQuota           = "quota"
	KindAnomaly         = "anomaly"
	KindUnpriced        = "unpriced"
)

// kind is one rule kind: what it accepts and how it measures. Everything
// that differs between kinds is here, so adding a kind is adding a type.
type kind interface {
	// name is the kind as rules and events spell it.
	name() string
	// validate checks and defaults the kind's own options (a quota
	// rule's source, an anomaly rule's mode), naming bad ones with bad,
	// and says what else a rule with those options takes.
	validate(r *Rule, bad func(field, msg string)) spec
	// observe measures r at now: one observation per instance. No
	// observation at all is "no data".
	observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error)
	// unit is what r's values and thresholds measure.
	unit(r *Rule) unit
}

// kinds are every rule kind, in the order error messages list them.
var kinds = []kind{costOverWindow{}, budgetThreshold{}, budgetForecast{}, errorRate{}, latencyP95{},
	providerDown{}, keyInvalid{}, quota{}, anomaly{}, unpriced{}}

// KindNames are the rule kinds, in the order error messages list them.
func KindNames() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.name()
	}
	return out
}

// kindOf is the kind called name, or nil.
func kindOf(name string) kind {
	for _, k := range kinds {
		if k.name() == name {
			return k
		}
	}
	return nil
}

// spec is what a rule of a kind (with its options) takes besides them.
type spec struct {
	scope     scopeUse
	groupable bool // splits into one instance per group of calls
	budget    bool // takes budgetId
	minCalls  bool // a rate or quantile over few calls would be noise
	window    windowUse
	// maxWindow bounds the window; 0 is maxRuleWindow.
	maxWindow time.Duration
	// defaultWindow is the window of windowOptional when none is given.
	defaultWindow time.Duration
	threshold     thresholdSpec
}

// scopeUse is which scope fields a kind can filter on.
type scopeUse int

const (
	scopeAny      scopeUse = iota
	scopeProvider          // provider health: only a provider
	scopeBudget            // the budget's own scope: none
)

// windowUse is whether a kind takes a window.
type windowUse int

const (
	windowRequired windowUse = iota
	windowOptional
	windowNone
)

// thresholdSpec is a kind's threshold: its range, in the kind's unit.
type thresholdSpec struct {
	def       string // default; "" when required
	lo, hi    string
	loOpen    bool
	hiOpen    bool
	whole     bool
	none      bool
	unsetIsOK bool // zero stays zero (budget_threshold: the budget's own)
	what      string
}

// noOption names an option (source, mode) the kind does not use.
func noOption(r *Rule, field, v string, bad func(field, msg string)) {
	if v != "" {
		bad(field, "not used by "+r.Kind+" rules")
	}
}

// unit is what a value measures, for messages.
type unit int

const (
	unitCount   unit = iota
	unitUSD          // dollars
	unitShare        // a ratio, shown as a percentage
	unitPercent      // already a percentage
	unitMillis       // milliseconds
)

// format renders v in u.
func (u unit) format(v decimal.Decimal) string {
	switch u {
	case unitUSD:
		return fmtUSD(v)
	case unitShare:
		return v.Mul(hundred).Round(2).String() + "%"
	case unitPercent:
		return v.Round(2).String() + "%"
	case unitMillis:
		return v.Round(1).String() + " ms"
	}
	return v.Round(2).String()
}

var hundred = decimal.NewFromInt(100)

// fmtUSD is cents for amounts of a dollar and more, and the digits that
// matter below.
func fmtUSD(v decimal.Decimal) string {
	if v.Abs().GreaterThanOrEqual(decimal.NewFromInt(1)) {
		return "$" + v.StringFixed(2)
	}
	return "$" + v.Round(6).String()
}

func ratio(num, den uint64) decimal.Decimal {
	return decimal.NewFromInt(int64(num)).DivRound(decimal.NewFromInt(int64(den)), 12)
}

func pct(d decimal.Decimal) string { return d.Mul(hundred).Round(2).String() + "%" }

// --- what kinds read ---

// sources are what rules measure: the store, and budgets through the
// SpendReader the engine was given.
type sources struct {
	store store.Store
	spend SpendReader
	// redact removes credentials from provider check messages.
	redact func(string) string
}

func (s *sources) table(name string) string { return s.store.Database() + "." + name }

// scopeCond is the rule's tenant and scope filters as a parameterised
// condition (with a leading AND), added to params: a rule only ever
// measures its own tenant's calls.
func scopeCond(r *Rule, params store.Params) string {
	s := r.Scope
	var b strings.Builder
	b.WriteString(tenantCond(r, params))
	for _, name := range scopeFields {
		if v := *s.field(name); v != "" {
			b.WriteString(" AND " + name + " = {" + name + ":String}")
			params[name] = v
		}
	}
	if s.Tag != nil {
		b.WriteString(" AND tags[{tag_key:String}] = {tag_value:String}")
		params["tag_key"], params["tag_value"] = s.Tag.Key, s.Tag.Value
	}
	return b.String()
}

// needsRaw tells whether r names a dimension the minute rollup does not
// carry (a customer, a user, a tag), in its scope or its groups.
func needsRaw(r *Rule) bool {
	if r.Scope.Tag != nil {
		return true
	}
	for _, g := range r.GroupBy {
		if strings.HasPrefix(g, tagGroupPrefix) {
			return true
		}
	}
	for _, f := range rawFields {
		if *r.Scope.field(f) != "" || slices.Contains(r.GroupBy, f) {
			return true
		}
	}
	return false
}

// minuteSource is what the minute-grain kinds read for r: the minute
// rollup, or for a rule needing raw calls (needsRaw), the raw calls shaped
// like the rollup, one row per call (the latency a one-value digest, so
// that the kinds' merges read both alike).
func (s *sources) minuteSource(r *Rule) string {
	if !needsRaw(r) {
		return s.table("api_calls_1m")
	}
	return "(SELECT toStartOfMinute(timestamp) AS ts, tenant, provider, model, operation, service, environment," +
		" team, feature, customer, user, tags, toUInt64(1) AS calls, toUInt64(status = 'error') AS errors," +
		" toUInt64(cost_status = 'unpriced') AS unpriced, toUInt64(is_anomaly) AS anomalies," +
		" CAST(ifNull(cost_usd, toDecimal64(0, 12)) AS Decimal(38, 12)) AS cost_usd," +
		" arrayReduce('quantileTDigestState', [toFloat64(duration_ns) / 1e6]) AS latency_ms" +
		" FROM " + s.table("api_calls") + ")"
}

// tenantCond is the rule's tenant as a condition with a leading AND, for
// every table the kinds read (each has a tenant column).
func tenantCond(r *Rule, params store.Params) string {
	params["tenant"] = r.tenant()
	return " AND tenant = {tenant:String}"
}

// groupSelect is the rule's group-by columns as leading String columns,
// and the GROUP BY clause; a rule without groups gets one row (aggregates
// over no rows still answer).
//
// A group "tag.<name>" is the value of the call's tag name (empty without
// it); the name travels as a parameter, added to params.
func groupSelect(r *Rule, params store.Params) (cols, groupBy string) {
	if len(r.GroupBy) == 0 {
		return "", ""
	}
	parts := make([]string, len(r.GroupBy))
	names := make([]string, len(r.GroupBy))
	for i, g := range r.GroupBy {
		names[i] = "grp" + strconv.Itoa(i)
		expr := g // one of scopeFields, never request text
		if tag, ok := strings.CutPrefix(g, tagGroupPrefix); ok {
			params[names[i]] = tag
			expr = "tags[{" + names[i] + ":String}]"
		}
		parts[i] = "toString(" + expr + ") AS " + names[i]
	}
	return strings.Join(parts, ", ") + ", ", " GROUP BY " + strings.Join(names, ", ")
}

// instance names one group of a rule and its labels: the scope it was
// given plus the group's own values.
func instance(r *Rule, groups []string) (string, map[string]string) {
	labels := r.Scope.labels()
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
func (s *sources) queryGroups(ctx context.Context, r *Rule, q string, params store.Params, newVals func() []any) ([]groupRow, error) {
	rows, err := s.store.Query(ctx, q, params)
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
			return nil, fmt.Errorf("scan a group row: %w", err)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// rollupCounts reads two uint64 sums (or counts) per group over the
// rule's window from the minute rollup: the shape most call kinds share.
func (s *sources) rollupCounts(ctx context.Context, r *Rule, now time.Time, a, b string) ([]groupRow, error) {
	params := store.Params{}
	cols, groupBy := groupSelect(r, params)
	q := "SELECT " + cols + "toUInt64(sum(" + a + ")), toUInt64(sum(" + b + ")) FROM " + s.minuteSource(r) +
		" WHERE " + rollupWindow(r.Window, now, params) + scopeCond(r, params) + groupBy
	return s.queryGroups(ctx, r, q, params, func() []any { return []any{new(uint64), new(uint64)} })
}

// observe measures rule r at now with its kind.
func observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	k := kindOf(r.Kind)
	if k == nil {
		return nil, fmt.Errorf("unknown rule kind %q", r.Kind)
	}
	return k.observe(ctx, src, r, now)
}

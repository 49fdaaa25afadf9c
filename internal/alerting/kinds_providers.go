package alerting

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	provider "github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// The kinds that watch providers rather than spend: their health checks,
// and their rate limits and quotas.

// The provider gauges of a rate limit, as the apiusage receiver writes
// them into provider_gauges.
const (
	gaugeRateLimitLimit     = "ratelimit_limit"
	gaugeRateLimitRemaining = "ratelimit_remaining"
)

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
func (s *sources) latestChecks(ctx context.Context, r *Rule, now time.Time, n int) (map[string][]healthRow, []string, error) {
	params := store.Params{"to": now.UTC().Format(milliLayout), "n": strconv.Itoa(n)}
	cond := tenantCond(r, params)
	if r.Scope.Provider != "" {
		cond, params["provider"] = cond+" AND provider = {provider:String}", r.Scope.Provider
	}
	rows, err := s.store.Query(ctx, "SELECT provider, ts, up, class, message FROM "+s.table("provider_health")+
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
		if s.redact != nil {
			h.message = s.redact(h.message)
		}
		if _, ok := by[h.provider]; !ok {
			order = append(order, h.provider)
		}
		by[h.provider] = append(by[h.provider], h)
	}
	return by, order, rows.Err()
}

// healthSpec is what the health kinds share: a provider scope, no window.
func healthSpec(t thresholdSpec) spec {
	return spec{scope: scopeProvider, window: windowNone, threshold: t}
}

// providerDown fires when a provider's last health checks all failed.
type providerDown struct{}

func (providerDown) name() string    { return KindProviderDown }
func (providerDown) unit(*Rule) unit { return unitCount }
func (providerDown) validate(r *Rule, bad func(field, msg string)) spec {
	noOption(r, "source", r.Source, bad)
	noOption(r, "mode", r.Mode, bad)
	return healthSpec(thresholdSpec{def: "3", lo: "1", hi: "100", whole: true, what: "a whole number of consecutive failed checks from 1 to 100"})
}

func (providerDown) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	n := int(r.Threshold.IntPart())
	by, order, err := src.latestChecks(ctx, r, now, n)
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

// keyInvalid fires when a provider refused the API key at its latest
// check.
type keyInvalid struct{}

func (keyInvalid) name() string    { return KindKeyInvalid }
func (keyInvalid) unit(*Rule) unit { return unitCount }
func (keyInvalid) validate(r *Rule, bad func(field, msg string)) spec {
	noOption(r, "source", r.Source, bad)
	noOption(r, "mode", r.Mode, bad)
	return healthSpec(thresholdSpec{none: true})
}

func (keyInvalid) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	by, order, err := src.latestChecks(ctx, r, now, 1)
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

// --- quota ---

// Sources of a quota rule.
const (
	quotaHeadroom = "headroom"
	quotaErrors   = "errors"
)

var quotaSources = []string{quotaHeadroom, quotaErrors}

// quotaClasses are the error classes of calls refused for lack of quota
// or rate.
var quotaClasses = []string{provider.ClassQuotaExhausted, provider.ClassRateLimited}

// quota fires on little rate-limit headroom left (headroom source, from
// the providers' rate-limit gauges) or on calls refused for rate or quota
// (errors source, from raw calls).
type quota struct{}

func (quota) name() string { return KindQuota }

func (quota) unit(r *Rule) unit {
	if r.Source == quotaHeadroom {
		return unitShare
	}
	return unitCount
}

func (quota) validate(r *Rule, bad func(field, msg string)) spec {
	if r.Source == "" {
		r.Source = quotaHeadroom
	} else if !slices.Contains(quotaSources, r.Source) {
		bad("source", "must be one of "+strings.Join(quotaSources, ", "))
	}
	noOption(r, "mode", r.Mode, bad)
	if r.Source == quotaErrors {
		// The rollups have no error class: raw calls, a shorter window.
		return spec{scope: scopeAny, groupable: true, maxWindow: maxRawWindow,
			threshold: thresholdSpec{def: "1", lo: "1", hi: "1000000000", whole: true, what: "a whole number of rate-limited or quota-exhausted calls from 1"}}
	}
	return spec{scope: scopeProvider, window: windowOptional, defaultWindow: defaultHeadroomWindow,
		threshold: thresholdSpec{def: "0.1", lo: "0", hi: "1", loOpen: true, hiOpen: true, what: "a headroom (remaining ÷ limit) between 0 and 1, exclusive"}}
}

func (quota) observe(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	if r.Source == quotaErrors {
		return observeQuotaErrors(ctx, src, r, now)
	}
	return observeHeadroom(ctx, src, r, now)
}

// observeQuotaErrors counts refused calls in raw calls (the rollups have
// no error class); a window of calls is small.
func observeQuotaErrors(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	params := store.Params{"from": now.Add(-r.Window).UTC().Format(milliLayout), "to": now.UTC().Format(milliLayout),
		"classes": schema.StringArrayParam(quotaClasses), "exhausted": provider.ClassQuotaExhausted}
	cols, groupBy := groupSelect(r, params)
	q := "SELECT " + cols + "count(), countIf(error_class = {exhausted:String}) FROM " + src.table("api_calls") +
		" WHERE timestamp > {from:DateTime64(3, 'UTC')} AND timestamp <= {to:DateTime64(3, 'UTC')}" +
		" AND error_class IN {classes:Array(String)}" + scopeCond(r, params) + groupBy
	rows, err := src.queryGroups(ctx, r, q, params, func() []any { return []any{new(uint64), new(uint64)} })
	if err != nil {
		return nil, fmt.Errorf("read rate-limited calls over the window: %w", err)
	}
	out := make([]observation, 0, len(rows))
	for _, row := range rows {
		n, exhausted := *row.vals[0].(*uint64), *row.vals[1].(*uint64)
		key, labels := instance(r, row.groups)
		v := decimal.NewFromInt(int64(n))
		out = append(out, observation{key: key, labels: labels, value: v, threshold: r.Threshold,
			breach: v.GreaterThanOrEqual(r.Threshold),
			summary: fmt.Sprintf("%d calls refused for rate limit (%d) or exhausted quota (%d) in the last %s, threshold %s",
				n, n-exhausted, exhausted, FormatDuration(r.Window), r.Threshold)})
	}
	return out, nil
}

// observeHeadroom reads the latest rate-limit pair of each provider window
// (as GET /providers does); readings older than the rule's window are
// stale (the limit's own window has reset since) and left out.
func observeHeadroom(ctx context.Context, src *sources, r *Rule, now time.Time) ([]observation, error) {
	params := store.Params{"from": now.Add(-r.Window).UTC().Format(milliLayout), "to": now.UTC().Format(milliLayout),
		"lim": gaugeRateLimitLimit, "rem": gaugeRateLimitRemaining}
	cond := tenantCond(r, params)
	if r.Scope.Provider != "" {
		cond, params["provider"] = cond+" AND provider = {provider:String}", r.Scope.Provider
	}
	rows, err := src.store.Query(ctx, "SELECT provider, scope, endpoint,"+
		" argMaxIf(value, ts, name = {lim:String}), countIf(name = {lim:String}),"+
		" argMaxIf(value, ts, name = {rem:String}), countIf(name = {rem:String})"+
		" FROM "+src.table("provider_gauges")+" WHERE name IN ({lim:String}, {rem:String})"+
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

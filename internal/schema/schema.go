// Package schema is what the readers of the Nexus store know about its
// tables: their names and columns, the rollup grains of the calls and which
// of them answers a time range exactly (the range planner), how long each
// table keeps rows (retention horizons), the scope every read filters by,
// and the read SQL that only depends on those. The tables themselves are
// created by the chstore extension's migrations; this package must agree
// with them, and the tests of the packages that read through it check it
// against the real engine.
package schema

import (
	"context"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/internal/store"
)

// Tables the API reads and writes.
const (
	TableCalls          = "api_calls"
	TableCalls1m        = "api_calls_1m"
	TableCalls1h        = "api_calls_1h"
	TableCalls1d        = "api_calls_1d"
	TableReconciliation = "cost_reconciliation"
	TableBudgets        = "budgets"
	TableKeys           = "api_keys"
	TableProviderHealth = "provider_health"
	TableProviderGauges = "provider_gauges"
	TableProviderUsage  = "provider_usage"
	TableTenants        = "tenants"
	TableIngestKeys     = "ingest_keys"
)

// Column orders of the writes to the tables the API owns, in the order the
// writers append values: budgets and api_keys are versioned (the highest
// version of an id wins under FINAL), so every write is a whole row.
var (
	BudgetColumns = []string{"id", "name", "provider", "model", "service", "environment",
		"period", "timezone", "amount_usd", "thresholds", "created_at", "updated_at", "deleted", "version",
		"tenant", "customer", "user", "team", "feature", "tag_key", "tag_value"}
	KeyColumns = []string{"id", "name", "role", "prefix", "key_hash", "created_at", "revoked_at", "version",
		"tenant", "installation_admin"}
	// IngestKeyColumns is the column order of ingest_keys writes
	// (internal/ingestkeys).
	IngestKeyColumns = []string{"id", "tenant", "name", "prefix", "key_hash", "created_at", "revoked_at", "version"}
)

// Gauge names of the rate-limit pair in provider_gauges, as the nexus
// exporter names them (exporter/nexusexporter/metrics.go).
const (
	GaugeRateLimitLimit     = "ratelimit_limit"
	GaugeRateLimitRemaining = "ratelimit_remaining"
)

// HealthClassOK is what provider_health stores for a passed check (the
// apiusage receiver writes the same), so that class is never empty in the
// history.
const HealthClassOK = "ok"

// Table is table qualified with the store's database.
func Table(s store.Store, table string) string { return s.Database() + "." + table }

// DefaultTenant is the tenant every installation has: rows written without
// a tenant (before tenants existed, or with no ingest keys) belong to it.
const DefaultTenant = "default"

// Scope is the dimensions every read can be narrowed to; "" is any.
//
// Tenant is not a filter a caller chooses but the tenant the caller is: the
// API sets it from the key or session, never from a query parameter. ""
// reads every tenant, which only installation-level work (the evaluator's
// own bookkeeping, retention) may do.
//
// Customer, User, Team, Feature and TagKey/TagValue are the attribution
// dimensions: set, they narrow the read to the calls carrying that value
// (TagValue only counts with TagKey).
type Scope struct {
	Tenant                                           string
	Provider, Model, Operation, Service, Environment string
	Customer, User, Team, Feature, TagKey, TagValue  string
}

// Attributed tells whether an attribution dimension is set: the rollups
// by provider do not carry them, so such a read needs the raw calls.
func (s Scope) Attributed() bool {
	return s.Customer != "" || s.User != "" || s.Team != "" || s.Feature != "" || s.TagKey != ""
}

// dimCond is the scope's attribution dimensions as conditions on the raw
// calls' columns (each with a leading AND), with their parameters added to
// params.
func (s Scope) dimCond(params store.Params) string {
	var b strings.Builder
	for _, d := range []struct{ col, v string }{{"customer", s.Customer}, {"user", s.User}, {"team", s.Team}, {"feature", s.Feature}} {
		if d.v != "" {
			b.WriteString(" AND " + d.col + " = {dim_" + d.col + ":String}")
			params["dim_"+d.col] = d.v
		}
	}
	if s.TagKey != "" {
		b.WriteString(" AND tags[{dim_tag_key:String}] = {dim_tag_value:String}")
		params["dim_tag_key"], params["dim_tag_value"] = s.TagKey, s.TagValue
	}
	return b.String()
}

// tenantCond is the scope's tenant as a condition ("" when it reads every
// tenant), with its parameter added to params.
func (s Scope) tenantCond(params store.Params) string {
	if s.Tenant == "" {
		return ""
	}
	params["tenant"] = s.Tenant
	return " AND tenant = {tenant:String}"
}

// ScopeFields are the scope's columns, in the order they are applied; the
// names are the columns' and the API's query parameters'.
var ScopeFields = []string{"provider", "model", "operation", "service", "environment"}

// Field is the scope value of column name (one of ScopeFields), nil for
// another name.
func (s *Scope) Field(name string) *string {
	switch name {
	case "provider":
		return &s.Provider
	case "model":
		return &s.Model
	case "operation":
		return &s.Operation
	case "service":
		return &s.Service
	case "environment":
		return &s.Environment
	}
	return nil
}

// Narrow tells whether a filter narrower than the provider is set.
func (s Scope) Narrow() bool {
	return s.Model != "" || s.Operation != "" || s.Service != "" || s.Environment != ""
}

// Filter is a scope over the time range [From, To).
type Filter struct {
	Scope
	From, To time.Time
}

// Where renders the filter as a parameterised condition on timeColumn:
// values never enter the SQL text.
func (f Filter) Where(timeColumn string) (string, store.Params) {
	conds := []string{timeColumn + " >= {from:DateTime64(3, 'UTC')}", timeColumn + " < {to:DateTime64(3, 'UTC')}"}
	params := store.Params{"from": f.From.Format("2006-01-02 15:04:05.000"), "to": f.To.Format("2006-01-02 15:04:05.000")}
	if c := f.tenantCond(params); c != "" {
		conds = append(conds, strings.TrimPrefix(c, " AND "))
	}
	for _, name := range ScopeFields {
		if v := *f.Field(name); v != "" {
			conds = append(conds, name+" = {"+name+":String}")
			params[name] = v
		}
	}
	if c := f.dimCond(params); c != "" {
		conds = append(conds, strings.TrimPrefix(c, " AND "))
	}
	return strings.Join(conds, " AND "), params
}

// StringArrayParam renders strings as an Array(String) query parameter. Quotes
// and backslashes are escaped, so a value can never end its string early.
func StringArrayParam(vs []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v))
		b.WriteByte('\'')
	}
	b.WriteByte(']')
	return b.String()
}

// Count runs q, a query answering one count.
func Count(ctx context.Context, s store.Store, q string, params store.Params) (int64, error) {
	rows, err := s.Query(ctx, q, params)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n uint64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return int64(n), rows.Err()
}

// FormatDuration is d as the API writes durations (retention horizons,
// rule windows): a Go duration without its zero tails, "5m", "1h30m",
// "2160h".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

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
	"slices"
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
	TableBudgetEvents   = "budget_events"
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
		"tenant", "customer", "user", "team", "feature", "tag_key", "tag_value", "action"}
	KeyColumns = []string{"id", "name", "role", "prefix", "key_hash", "created_at", "revoked_at", "version",
		"tenant", "installation_admin", "owner_user", "expires_at"}
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
// Customer, User and the tag (TagKey = TagValue) are the attribution
// dimensions only some rollups hold (see Family); Team and Feature are in
// every table of the calls.
type Scope struct {
	Tenant                                           string
	Provider, Model, Operation, Service, Environment string
	Customer, User, Team, Feature                    string
	TagKey, TagValue                                 string
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

// ScopeFields are the scope's columns every table of the calls holds (raw
// and every rollup), in the order they are applied; the names are the
// columns' and the API's query parameters'.
var ScopeFields = []string{"provider", "model", "operation", "service", "environment", "team", "feature"}

// DimFields are the attribution columns only the raw calls and their own
// family hold; the tag, a map on the raw calls, is apart.
var DimFields = []string{DimCustomer, DimUser}

// Field is the scope value of column name (one of ScopeFields or
// DimFields), nil for another name.
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
	case "team":
		return &s.Team
	case "feature":
		return &s.Feature
	case DimCustomer:
		return &s.Customer
	case DimUser:
		return &s.User
	}
	return nil
}

// Narrow tells whether a filter narrower than the provider is set.
func (s Scope) Narrow() bool {
	return s.Model != "" || s.Operation != "" || s.Service != "" || s.Environment != "" || s.Attributed()
}

// Attributed tells whether an attribution filter is set.
func (s Scope) Attributed() bool {
	return s.Team != "" || s.Feature != "" || s.Customer != "" || s.User != "" || s.TagKey != ""
}

// Filter is a scope over the time range [From, To).
type Filter struct {
	Scope
	From, To time.Time
}

// Where renders the filter as a parameterised condition on the raw calls
// (timeColumn their timestamp): values never enter the SQL text.
func (f Filter) Where(timeColumn string) (string, store.Params) {
	return f.WhereIn(FamilyRaw, timeColumn)
}

// WhereIn is Where on a table of family fam (FamilyRaw: the raw calls).
func (f Filter) WhereIn(fam Family, timeColumn string) (string, store.Params) {
	params := store.Params{"from": f.From.Format("2006-01-02 15:04:05.000"), "to": f.To.Format("2006-01-02 15:04:05.000")}
	cond := timeColumn + " >= {from:DateTime64(3, 'UTC')} AND " + timeColumn + " < {to:DateTime64(3, 'UTC')}" + f.Cond(fam, params)
	return cond, params
}

// GroupColumn is the expression of a grouping (a ScopeFields or DimFields
// column, or "tag.<name>") on a table of family fam, and the condition it
// needs (" AND …", or ""). A tag grouping only counts the calls that carry
// the tag, as the tag rollup holds no row for the others; its name travels
// as the group_tag parameter. "" for a grouping the family cannot answer.
func GroupColumn(fam Family, group string, params store.Params) (string, string) {
	if name, ok := IsTagGroup(group); ok {
		params["group_tag"] = name
		switch fam {
		case FamilyRaw:
			return "tags[{group_tag:String}]", " AND mapContains(tags, {group_tag:String})"
		case FamilyTag:
			return "tag_value", " AND tag_key = {group_tag:String}"
		}
		return "", ""
	}
	switch group {
	case DimCustomer, DimUser:
		if fam == FamilyRaw || FamilyOf(Scope{}, group) == fam {
			return group, ""
		}
		return "", ""
	}
	if slices.Contains(ScopeFields, group) {
		return group, ""
	}
	return "", ""
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

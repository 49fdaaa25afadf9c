package chhttp

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
)

// Tenant users. A request authenticated as a User runs with the engine
// setting additional_table_filters: a filter per table, which the engine
// applies where it reads the table, below the statement's own text
// (subqueries, JOINs, UNIONs, view(), views, materialized views, aliases,
// qualified or not). The setting is set after the request's own settings
// and before readonly=1, so that no statement can change it (the engine
// refuses a change at readonly=1), and the policy refuses it as a setting
// besides.
//
// The map is built from the engine's catalogue on the request's own
// connection, before its statement runs, so a table created since start is
// covered: deny by default.
//
//   - A table with a tenant column: tenant = '<tenant>'.
//   - The tenants table (id, no tenant column): id = '<tenant>'.
//   - Tables holding secrets (api_keys, ingest_keys, any table with a
//     key_hash, *_hash, secret or password column): 0 (no rows).
//   - Any other table of a user database: 0.
//   - System tables: 0, but for the catalogue and the constants that
//     clients and Grafana read (tenantSystemTables).
//
// merge() reads its tables below the filters of their names; the engine
// filters it under the key "_table_function.merge", and only the analyzer
// does (measured on chDB 26.7: with enable_analyzer = 0, merge() returned
// every tenant's rows). Tenant requests therefore run on the analyzer,
// pinned like the filter, and merge() keeps the rows of the tenant's own
// tables (tenant = '<tenant>' and _database/_table among them).
//
// What the filter does not reach is refused (measured): Set and Join
// tables are read as sets (x IN t, joinGet) without filters, so a tenant
// request is refused while a user database holds one, and joinGet is
// refused by the policy.

// User is a credential of the HTTP interface whose requests see one
// tenant's rows only.
type User struct {
	Name     string
	Password string
	// Tenant is the tenant id (DefaultTenant or a slug).
	Tenant string
}

// TenantIDPattern is what a tenant id other than "default" looks like.
var TenantIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

// ValidTenantID reports a tenant id the interface accepts.
func ValidTenantID(id string) bool { return id == "default" || TenantIDPattern.MatchString(id) }

// tenantSystemTables are the system tables a tenant user reads unfiltered:
// the catalogue (names and types, no rows of other tenants) and constants.
// Every other system table (parts, processes, query_cache, mutations,
// logs…) is filtered to nothing: their rows carry other requests' SQL,
// partition values or counts.
var tenantSystemTables = words(`one numbers numbers_mt zeros zeros_mt databases tables columns functions
	table_functions formats data_type_families time_zones settings table_engines database_engines
	build_options aggregate_function_combinators collations keywords`)

// secretTables never reach a tenant user, whatever their columns.
var secretTables = words(`api_keys ingest_keys users sessions provider_credentials audit_log`)

// systemDatabases are the engine's own databases.
var systemDatabases = map[string]bool{"system": true, "INFORMATION_SCHEMA": true, "information_schema": true}

// unfilteredEngines are table engines the engine reads without applying
// additional_table_filters (IN t, joinGet).
var unfilteredEngines = map[string]bool{"Set": true, "Join": true}

// secretColumn reports a column name that marks a table as holding secrets.
func secretColumn(name string) bool {
	n := strings.ToLower(name)
	return n == "key_hash" || strings.HasSuffix(n, "_hash") || n == "secret" || n == "password"
}

// The catalogue, in two plain queries (a JOIN of the two costs twice as
// much, measured): every table, and the columns that decide a filter.
const (
	tablesSQL  = "SELECT database, name, engine FROM system.tables WHERE NOT is_temporary"
	columnsSQL = `SELECT database, table, name FROM system.columns
WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema')
    AND (name IN ('tenant', 'id') OR lower(name) IN ('secret', 'password') OR endsWith(lower(name), '_hash'))`
)

// tsvRows runs a catalogue query and splits its TabSeparated answer.
func tsvRows(c *chdb.Conn, sql string, cols int) ([][]string, error) {
	res, err := c.Query(sql, "TabSeparated", nil)
	if err != nil {
		return nil, fmt.Errorf("read the catalogue for the tenant's table filters: %w", err)
	}
	var out [][]string
	for _, line := range strings.Split(strings.TrimRight(string(res.Data), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != cols {
			return nil, fmt.Errorf("chhttp: unexpected catalogue row %q", line)
		}
		for i := range f {
			f[i] = unescapeTSV(f[i])
		}
		out = append(out, f)
	}
	return out, nil
}

// TableFilter is the condition that limits a table of a user database to
// tenant's rows, given its column names (at least those named tenant or id
// and those that mark secrets): the engine's per-query filter here, a
// server's row policy in remote mode.
func TableFilter(table string, columns []string, tenant string) string {
	var hasTenant, hasID bool
	for _, c := range columns {
		if secretColumn(c) {
			return "0"
		}
		hasTenant = hasTenant || c == "tenant"
		hasID = hasID || c == "id"
	}
	switch {
	case secretTables[strings.ToLower(table)]:
		return "0"
	case hasTenant:
		return "tenant = " + quoteString(tenant)
	case strings.EqualFold(table, "tenants") && hasID:
		return "id = " + quoteString(tenant)
	}
	return "0"
}

// SecretTable reports a table no tenant user may read at all.
func SecretTable(table string, columns []string) bool {
	if secretTables[strings.ToLower(table)] {
		return true
	}
	for _, c := range columns {
		if secretColumn(c) {
			return true
		}
	}
	return false
}

// tenantFilter is one table's filter.
type tenantFilter struct{ table, filter string }

// tenantFilters builds the additional_table_filters entries for tenant
// from the engine's catalogue.
func tenantFilters(c *chdb.Conn, tenant string) ([]tenantFilter, error) {
	if !ValidTenantID(tenant) {
		return nil, fmt.Errorf("chhttp: %q is not a tenant id", tenant)
	}
	tables, err := tsvRows(c, tablesSQL, 3)
	if err != nil {
		return nil, err
	}
	cols, err := tsvRows(c, columnsSQL, 3)
	if err != nil {
		return nil, err
	}
	type marks struct{ cols []string }
	byTable := map[[2]string]*marks{}
	for _, f := range cols {
		k := [2]string{f[0], f[1]}
		m := byTable[k]
		if m == nil {
			m = &marks{}
			byTable[k] = m
		}
		m.cols = append(m.cols, f[2])
	}
	byName := map[string]string{}
	ownFilter := TableFilter("", []string{"tenant"}, tenant)
	for _, f := range tables {
		db, name, engine := f[0], f[1], f[2]
		m := byTable[[2]string{db, name}]
		if m == nil {
			m = &marks{}
		}
		var filter string
		switch {
		case systemDatabases[db]:
			// information_schema's views read system tables, which are
			// filtered themselves.
			if db == "system" && !tenantSystemTables[strings.ToLower(name)] {
				filter = "0"
			}
		case unfilteredEngines[engine]:
			return nil, accessDenied("Tenant credentials are not served while %s.%s (engine %s) exists: "+
				"the engine reads such tables without the tenant filter", quoteIdentifier(db), quoteIdentifier(name), engine)
		default:
			filter = TableFilter(name, m.cols, tenant)
		}
		if filter == "" {
			continue
		}
		key := db + "." + name
		if prev, ok := byName[key]; ok && prev != filter {
			// Two tables with one dotted name ("a.b"."c" and "a"."b.c")
			// share the engine's key: the stricter filter.
			filter = "0"
		}
		byName[key] = filter
	}
	var own []string
	for k, v := range byName {
		if v == ownFilter {
			db, name, _ := strings.Cut(k, ".")
			own = append(own, "("+quoteString(db)+", "+quoteString(name)+")")
		}
	}
	sort.Strings(own)
	mergeFilter := "0"
	if len(own) > 0 {
		mergeFilter = ownFilter + " AND (_database, _table) IN (" + strings.Join(own, ", ") + ")"
	}
	byName[mergeFunctionKey] = mergeFilter
	out := make([]tenantFilter, 0, len(byName))
	for k, v := range byName {
		out = append(out, tenantFilter{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].table < out[j].table })
	return out, nil
}

// filtersLiteral renders the filters as the setting's Map literal.
func filtersLiteral(fs []tenantFilter) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteString(f.table))
		b.WriteString(": ")
		b.WriteString(quoteString(f.filter))
	}
	b.WriteByte('}')
	return b.String()
}

// mergeFunctionKey is the engine's name for the storage of a merge() call
// in additional_table_filters.
const mergeFunctionKey = "_table_function.merge"

// tenantDeniedCalls are refused for tenant users wherever they are called:
// the engine reads their tables without additional_table_filters.
var tenantDeniedCalls = words(`joinGet joinGetOrNull`)

// analyzerSettings choose the query analyzer; a tenant request runs on the
// new one, the only one that filters merge().
var analyzerSettings = map[string]bool{"enable_analyzer": true, "allow_experimental_analyzer": true}

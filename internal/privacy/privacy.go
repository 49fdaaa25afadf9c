// Package privacy answers data-protection requests about one person or
// customer: every stored row holding their identifier (export) and the
// deletion of those rows (erasure), for one tenant. The identifier lives
// in the raw calls and in the one daily rollup keyed by it (customer in
// api_calls_customer_1d, user in api_calls_user_1d); no other table holds
// it — the other rollups aggregate it away. It returns domain errors,
// never transport ones.
package privacy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Dims are the identifiers a request can name.
var Dims = []string{schema.DimCustomer, schema.DimUser}

// tables are, per identifier, the tables holding it.
var tables = map[string][]string{
	schema.DimCustomer: {schema.TableCalls, schema.TableCallsByCustomer, schema.TableCallsCustomer1h, schema.TableCallsCustomer1d, schema.TableBudgetEvents},
	schema.DimUser:     {schema.TableCalls, schema.TableCallsByUser, schema.TableCallsUser1h, schema.TableCallsUser1d, schema.TableBudgetEvents},
}

// Tables are the tables holding dim's values, raw calls first.
func Tables(dim string) []string { return slices.Clone(tables[dim]) }

// Service answers the requests over one store.
type Service struct{ store store.Store }

// New is a Service over s.
func New(s store.Store) *Service { return &Service{store: s} }

// check refuses an unknown identifier or an empty value: the rows without
// a customer are everyone's, and deleting them would erase far more than
// one person.
func check(dim, value string) error {
	if _, ok := tables[dim]; !ok {
		return domainerr.Invalid("unknown identifier", domainerr.Field{Field: dim, Message: "one of " + strings.Join(Dims, ", ")})
	}
	if value == "" {
		return domainerr.Invalid("no identifier", domainerr.Field{Field: dim, Message: "must not be empty"})
	}
	return nil
}

// where is the rows of tenant ("" every tenant) holding value in dim, a
// fixed column name: the value travels as a parameter.
func where(tenant, dim, value string) (string, store.Params) {
	params := store.Params{"value": value}
	cond := dim + " = {value:String}"
	if tenant != "" {
		cond += " AND tenant = {tenant:String}"
		params["tenant"] = tenant
	}
	return cond, params
}

// Export hands every stored row of tenant holding value in dim to emit,
// table by table (raw calls first), each row a JSON object of the table's
// columns as stored. Rollup latency digests are binary states, not data
// about the person, and are left out. Rows stream: a customer with
// millions of calls is never held in memory.
func (s *Service) Export(ctx context.Context, tenant, dim, value string, emit func(table string, row json.RawMessage) error) error {
	if err := check(dim, value); err != nil {
		return err
	}
	for _, t := range tables[dim] {
		if err := s.ExportTable(ctx, tenant, dim, value, t, func(row json.RawMessage) error { return emit(t, row) }); err != nil {
			return err
		}
	}
	return nil
}

// ExportTable is Export of one of Tables(dim).
func (s *Service) ExportTable(ctx context.Context, tenant, dim, value, table string, emit func(row json.RawMessage) error) error {
	if err := check(dim, value); err != nil {
		return err
	}
	if !slices.Contains(tables[dim], table) {
		return domainerr.Invalid("no such table", domainerr.Field{Field: "table", Message: table + " holds no " + dim})
	}
	cols, err := s.columns(ctx, table)
	if err != nil {
		return err
	}
	cond, params := where(tenant, dim, value)
	// Raw calls are timed by timestamp, rollups by their bucket ts.
	order := " ORDER BY ts"
	if slices.Contains(cols, "`timestamp`") {
		order = " ORDER BY timestamp"
	}
	// Decimals as strings, so that money stays exact in JSON.
	q := "SELECT formatRow('JSONEachRow', " + strings.Join(cols, ", ") + ") FROM " + schema.Table(s.store, table) +
		" WHERE " + cond + order + " SETTINGS output_format_json_quote_decimals = 1"
	if err := s.scan(ctx, q, params, func(line string) error {
		return emit(json.RawMessage(strings.TrimSpace(line)))
	}); err != nil {
		return fmt.Errorf("export %s rows of %s: %w", dim, table, err)
	}
	return nil
}

// columns are table's columns but aggregate states, as quoted identifiers.
func (s *Service) columns(ctx context.Context, table string) ([]string, error) {
	var out []string
	err := s.scan(ctx, "SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String}"+
		" AND type NOT LIKE 'AggregateFunction%' ORDER BY position", store.Params{"db": s.store.Database(), "table": table},
		func(name string) error {
			out = append(out, "`"+strings.ReplaceAll(name, "`", "``")+"`")
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("columns of %s: no such table", table)
	}
	return out, nil
}

func (s *Service) scan(ctx context.Context, q string, params store.Params, each func(string) error) error {
	rows, err := s.store.Query(ctx, q, params)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		if err := each(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// TableCount is how many rows of one table held the value before the
// deletion and after it.
type TableCount struct {
	Table  string `json:"table"`
	Before int64  `json:"before"`
	After  int64  `json:"after"`
}

// Deletion is what Delete did.
type Deletion struct {
	Dim    string       `json:"dim"`
	Value  string       `json:"value"`
	Tables []TableCount `json:"tables"`
}

// Count is how many rows of each table hold value in dim for tenant.
func (s *Service) Count(ctx context.Context, tenant, dim, value string) ([]TableCount, error) {
	if err := check(dim, value); err != nil {
		return nil, err
	}
	out := make([]TableCount, 0, len(tables[dim]))
	for _, t := range tables[dim] {
		cond, params := where(tenant, dim, value)
		n, err := schema.Count(ctx, s.store, "SELECT count() FROM "+schema.Table(s.store, t)+" WHERE "+cond, params)
		if err != nil {
			return nil, fmt.Errorf("count %s rows of %s: %w", dim, t, err)
		}
		out = append(out, TableCount{Table: t, Before: n})
	}
	return out, nil
}

// Delete erases the rows of tenant holding value in dim from every table
// holding it, then counts what remains: anything left is an error, since
// a request answered "deleted" must be true. The deletes are lightweight
// (DELETE FROM), which the engine applies before answering: the rows are
// gone from every read at once, and from disk at the next merge. On a
// cluster they run ON CLUSTER, so every shard loses its rows.
func (s *Service) Delete(ctx context.Context, tenant, dim, value string) (Deletion, error) {
	counts, err := s.Count(ctx, tenant, dim, value)
	if err != nil {
		return Deletion{}, err
	}
	onCluster := ""
	if cr, ok := s.store.(store.ClusterReporter); ok && cr.Cluster() != "" {
		onCluster = " ON CLUSTER `" + strings.ReplaceAll(cr.Cluster(), "`", "``") + "`"
	}
	for i, c := range counts {
		if c.Before == 0 {
			continue
		}
		cond, params := where(tenant, dim, value)
		if err := s.store.Exec(ctx, "DELETE FROM "+schema.Table(s.store, c.Table)+onCluster+" WHERE "+cond, params); err != nil {
			return Deletion{}, fmt.Errorf("delete %s rows of %s: %w", dim, c.Table, err)
		}
		after, err := schema.Count(ctx, s.store, "SELECT count() FROM "+schema.Table(s.store, c.Table)+" WHERE "+cond, params)
		if err != nil {
			return Deletion{}, fmt.Errorf("count %s rows of %s after deleting: %w", dim, c.Table, err)
		}
		counts[i].After = after
		if after != 0 {
			return Deletion{}, fmt.Errorf("delete %s rows of %s: %d rows remain", dim, c.Table, after)
		}
	}
	return Deletion{Dim: dim, Value: value, Tables: counts}, nil
}

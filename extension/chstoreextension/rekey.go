package chstoreextension

import (
	"context"
	"fmt"
	"strings"

	"github.com/nexus-otel/nexus/internal/store"
)

// Migration 0012 puts the tenant first in the sorting key of the tables
// that fold rows by that key: the calls' rollups (AggregatingMergeTree sums
// the rows of one key) and provider_usage (ReplacingMergeTree keeps one row
// of a key). Without the tenant in the key two tenants' rows would fold into
// one. The rollups also gain team and feature, keys of their own.
//
// The engine only lets a key grow by columns added in the same ALTER, and
// not by a column with a default, so the old rows (all of the default
// tenant) could not be given theirs: each table is copied into one with the
// new key, swapped in with EXCHANGE TABLES, and its view recreated, as 0009
// does for api_calls. Each table's steps are planned from its sorting key,
// so a run interrupted anywhere converges when run again. Tenant first is
// also the order every read filters in.

const (
	rekeyVersion = 12
	rekeyName    = "tenant_in_keys"
)

// rollupKeys are the keys of the calls' rollups after 0012, in the order
// of their sorting key (before ts).
var rollupKeys = []string{"tenant", "provider", "model", "operation", "service", "environment", "team", "feature"}

// rekeyTable is one table 0012 rebuilds: its columns before (copied as
// they are), its definition after, and its view.
type rekeyTable struct {
	table, view, bucket string
	oldColumns          []string
	ddl                 func(name string) string
}

func (v schemaVars) rekeyTables() []rekeyTable {
	rollupOld := []string{"ts", "provider", "model", "operation", "service", "environment", "calls", "errors", "unpriced",
		"anomalies", "input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens",
		"reasoning_tokens", "cost_usd", "duration_ns_sum", "latency_ms"}
	rollup := func(partition string) func(string) string {
		return func(name string) string {
			return "CREATE TABLE IF NOT EXISTS " + name + " " + v.OnCluster + "\n(\n" +
				"    ts                       DateTime('UTC'),\n" +
				"    tenant                   LowCardinality(String) DEFAULT 'default',\n" +
				"    provider                 LowCardinality(String),\n" +
				"    model                    LowCardinality(String),\n" +
				"    operation                LowCardinality(String),\n" +
				"    service                  LowCardinality(String),\n" +
				"    environment              LowCardinality(String),\n" +
				"    team                     LowCardinality(String),\n" +
				"    feature                  LowCardinality(String),\n" +
				rollupSums + "\n)\n" +
				"ENGINE = " + v.engine("AggregatingMergeTree") + "\n" +
				"PARTITION BY " + partition + "\n" +
				"ORDER BY (" + strings.Join(rollupKeys, ", ") + ", ts)\n" +
				"SETTINGS " + v.dedupWindow()
		}
	}
	out := []rekeyTable{}
	for _, r := range rollupViews {
		partition := "toYYYYMM(ts)"
		if r.table == "api_calls_1d" {
			partition = "toYear(ts)"
		}
		out = append(out, rekeyTable{table: r.table, view: r.view, bucket: r.bucket, oldColumns: rollupOld, ddl: rollup(partition)})
	}
	usageOld := []string{"provider", "account", "kind", "bucket_start", "bucket_end", "project", "model", "line_item",
		"category", "api_key", "value", "polled_at"}
	out = append(out, rekeyTable{table: "provider_usage", oldColumns: usageOld, ddl: func(name string) string {
		return "CREATE TABLE IF NOT EXISTS " + name + " " + v.OnCluster + "\n(\n" +
			"    tenant       LowCardinality(String) DEFAULT 'default',\n" +
			"    provider     LowCardinality(String),\n" +
			"    account      String,\n" +
			"    kind         LowCardinality(String),\n" +
			"    bucket_start DateTime('UTC'),\n" +
			"    bucket_end   DateTime('UTC'),\n" +
			"    project      String,\n" +
			"    model        LowCardinality(String),\n" +
			"    line_item    LowCardinality(String),\n" +
			"    category     LowCardinality(String),\n" +
			"    api_key      String,\n" +
			"    value        Decimal(38, 12),\n" +
			"    polled_at    DateTime64(3, 'UTC')\n)\n" +
			"ENGINE = " + v.engine("ReplacingMergeTree", "polled_at") + "\n" +
			"PARTITION BY toYYYYMM(bucket_start)\n" +
			"ORDER BY (tenant, provider, account, kind, bucket_start, bucket_end, project, model, line_item, category, api_key)\n" +
			"SETTINGS " + v.dedupWindow()
	}})
	return out
}

// rekeySteps are one table's statements: those that copy it into a table
// keyed by tenant and swap it in, and those that finish after the swap
// (idempotent either way).
func (v schemaVars) rekeySteps(t rekeyTable) (copyStmts, finish []string) {
	old, next := v.DB+"."+t.table, v.DB+"."+t.table+"_by_tenant"
	cols := strings.Join(t.oldColumns, ", ")
	copyStmts = []string{
		t.ddl(next),
		// Left from an interrupted copy: start over.
		"TRUNCATE TABLE IF EXISTS " + next + " " + v.OnCluster,
		"INSERT INTO " + next + " (tenant, " + cols + ") SETTINGS insert_deduplicate = 0, max_partitions_per_insert_block = 0 " +
			"SELECT 'default', " + cols + " FROM " + old,
	}
	if t.view != "" {
		copyStmts = append(copyStmts, "DROP VIEW IF EXISTS "+v.DB+"."+t.view+" "+v.OnCluster)
	}
	copyStmts = append(copyStmts, "EXCHANGE TABLES "+old+" AND "+next+" "+v.OnCluster)
	if t.view != "" {
		finish = append(finish, "CREATE MATERIALIZED VIEW IF NOT EXISTS "+v.DB+"."+t.view+" "+v.OnCluster+
			" TO "+old+" AS\n"+v.rollup(t.bucket, rollupKeys...))
	}
	finish = append(finish, "DROP TABLE IF EXISTS "+next+" "+v.OnCluster+" SYNC")
	return copyStmts, finish
}

// reconciliationView compares billed and computed cost per tenant.
func (v schemaVars) reconciliationView() string {
	return "CREATE OR REPLACE VIEW " + v.DB + ".cost_reconciliation " + v.OnCluster + ` AS
SELECT b.tenant AS tenant, b.day AS day, b.provider AS provider, b.billed_usd AS billed_usd,
    c.computed_usd AS computed_usd, c.computed_usd - b.billed_usd AS difference_usd,
    c.calls AS calls, c.unpriced AS unpriced_calls
FROM
(
    SELECT tenant, toDate(bucket_start) AS day, provider, sum(value) AS billed_usd
    FROM ` + v.DB + `.provider_usage FINAL
    WHERE kind = 'cost_usd'
    GROUP BY tenant, day, provider
) AS b
INNER JOIN
(
    SELECT tenant, toDate(ts) AS day, provider, sum(cost_usd) AS computed_usd, sum(calls) AS calls, sum(unpriced) AS unpriced
    FROM ` + v.DB + `.api_calls_1d
    GROUP BY tenant, day, provider
) AS c ON b.tenant = c.tenant AND b.day = c.day AND b.provider = c.provider`
}

// rekeyMigration is migration 0012; its text is the whole plan (what a
// database from before tenants runs).
func (v schemaVars) rekeyMigration() migration {
	var text []string
	for _, t := range v.rekeyTables() {
		c, f := v.rekeySteps(t)
		text = append(append(text, c...), f...)
	}
	text = append(text, v.reconciliationView())
	all := strings.Join(text, ";\n") + ";\n"
	return migration{
		version: rekeyVersion, name: rekeyName, text: all, checksum: checksumOf([]byte(all)),
		plan: func(ctx context.Context, s store.Store) ([]string, error) {
			var out []string
			for _, t := range v.rekeyTables() {
				key, err := sortingKey(ctx, s, s.Database(), t.table)
				if err != nil {
					return nil, err
				}
				c, f := v.rekeySteps(t)
				if !strings.HasPrefix(key, "tenant,") {
					out = append(out, c...)
				}
				out = append(out, f...)
			}
			return append(out, v.reconciliationView()), nil
		},
	}
}

// sortingKey is table's sorting key as the engine prints it.
func sortingKey(ctx context.Context, s store.Store, db, table string) (string, error) {
	rows, err := s.Query(ctx, "SELECT sorting_key FROM system.tables WHERE database = {db:String} AND name = {t:String}",
		store.Params{"db": db, "t": table})
	if err != nil {
		return "", fmt.Errorf("read the sorting key of %s: %w", table, err)
	}
	defer rows.Close()
	var key string
	if rows.Next() {
		if err := rows.Scan(&key); err != nil {
			return "", fmt.Errorf("read the sorting key of %s: %w", table, err)
		}
	}
	return key, rows.Err()
}

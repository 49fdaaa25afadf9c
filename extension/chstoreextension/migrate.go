package chstoreextension

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one versioned schema change: NNNN_name.sql, a template
// rendered per deployment (database, ON CLUSTER, Replicated engines) so that
// the embedded engine and a cluster run the same statements.
type migration struct {
	version  uint32
	name     string
	text     string // rendered SQL
	checksum string
	// plan, when set, chooses the statements to run from what the
	// database holds (text is then the longest plan, for review).
	plan func(ctx context.Context, s store.Store) ([]string, error)
}

// schemaVars are what a migration template may use.
type schemaVars struct {
	DB        string
	OnCluster string
	cluster   string
}

func loadMigrations(db, cluster string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	vars := schemaVars{DB: quoteIdent(db), cluster: cluster}
	if cluster != "" {
		vars.OnCluster = "ON CLUSTER " + quoteIdent(cluster)
	}
	funcs := template.FuncMap{"engine": vars.engine, "rollup": vars.rollup, "correction": vars.correction, "dedupWindow": vars.dedupWindow,
		"rollupSums": func() string { return rollupSums }, "recent": vars.recent,
		"recentColumns": func() string { return recentColumns }}
	var out []migration
	seen := map[uint32]string{}
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		if prev, dup := seen[uint32(v)]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[uint32(v)] = name
		raw, err := migrationFiles.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(raw))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, vars); err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		out = append(out, migration{version: uint32(v), name: rest, text: buf.String(), checksum: checksumOf(raw)})
	}
	// Migrations planned in code take their place among the files.
	for _, m := range []migration{vars.repartitionMigration(), vars.rekeyMigration()} {
		if prev, dup := seen[m.version]; dup {
			return nil, fmt.Errorf("migration %s shares version %d with %s", m.name, m.version, prev)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

func checksumOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// engine renders a table engine: MergeTree-family engines become their
// Replicated* form on a cluster, with the conventional ZooKeeper path macros.
// args are the engine's own arguments (e.g. the version column of a
// ReplacingMergeTree).
func (v schemaVars) engine(name string, args ...string) string {
	if v.cluster == "" || !strings.HasSuffix(name, "MergeTree") {
		return name + "(" + strings.Join(args, ", ") + ")"
	}
	all := append([]string{"'/clickhouse/tables/{shard}/{database}/{table}'", "'{replica}'"}, args...)
	return "Replicated" + name + "(" + strings.Join(all, ", ") + ")"
}

// Insert de-duplication: how many recent inserts (blocks) of a table the
// engine remembers, and on a cluster for how long. A retried insert that
// carries the same insert_deduplication_token as one remembered is dropped;
// with deduplicate_blocks_in_dependent_materialized_views=1 its rollup
// blocks are too. The window counts blocks, so at N inserts a second into a
// table a retry must come within dedupWindowBlocks/N seconds.
const (
	dedupWindowBlocks  = 10000
	dedupWindowSeconds = 7 * 24 * 3600
)

// dedupWindow renders the table settings that turn insert de-duplication
// on. Replicated tables de-duplicate by default, through Keeper, within
// replicated_deduplication_window blocks and _seconds (an hour on recent
// servers: too short for a persistent queue replayed after an outage);
// plain MergeTree tables only with non_replicated_deduplication_window set.
func (v schemaVars) dedupWindow() string {
	if v.cluster == "" {
		return fmt.Sprintf("non_replicated_deduplication_window = %d", dedupWindowBlocks)
	}
	return fmt.Sprintf("replicated_deduplication_window = %d, replicated_deduplication_window_seconds = %d",
		dedupWindowBlocks, dedupWindowSeconds)
}

// rollup renders the SELECT of a materialized view that folds api_calls into
// a rollup table whose bucket start is bucket(timestamp). One definition for
// every grain keeps the rollups identical but for their bucket and keys.
// keys are the grouping columns after the bucket; an older migration passes
// none and gets the keys of its day (provider, model, operation, service,
// environment), so that re-running it on an empty database still creates
// the views its tables can hold. arrayJoin, when set, is the ARRAY JOIN
// clause of a rollup by tag.
//
// ts is a DateTime, which holds 1970-01-01 to 2106-02-07 06:28:15 UTC:
// a bucket outside wraps (2200 becomes 2063) and would count a call in a
// year it never happened. The exporter refuses such calls; the WHERE keeps
// them out of the rollups should one reach api_calls another way.
func (v schemaVars) rollup(bucket string, keys ...string) string {
	return v.fold("api_calls", callSums, bucket, keys...)
}

// correction renders the SELECT of a view that folds re-pricing corrections
// (api_call_corrections, 0018) into a rollup, with the keys rollup takes:
// each correction row moves the rollup's cost by its difference and its
// unpriced count by -1, 0 or +1, and nothing else (no call, no token, an
// empty latency state).
func (v schemaVars) correction(bucket string, keys ...string) string {
	return v.fold("api_call_corrections", correctionSums, bucket, keys...)
}

// callSums are what a call adds to a rollup.
const callSums = "    count() AS calls,\n" +
	"    countIf(status = 'error') AS errors,\n" +
	"    countIf(cost_status = 'unpriced') AS unpriced,\n" +
	"    countIf(is_anomaly) AS anomalies,\n" +
	"    sum(input_tokens) AS input_tokens,\n" +
	"    sum(cached_input_tokens) AS cached_input_tokens,\n" +
	"    sum(cache_write_input_tokens) AS cache_write_input_tokens,\n" +
	"    sum(output_tokens) AS output_tokens,\n" +
	"    sum(reasoning_tokens) AS reasoning_tokens,\n" +
	"    sum(ifNull(cost_usd, toDecimal64(0, 12))) AS cost_usd,\n" +
	"    sum(duration_ns) AS duration_ns_sum,\n" +
	"    quantileTDigestState(toFloat64(duration_ns) / 1e6) AS latency_ms\n"

// correctionSums are what a correction adds. The counts are UInt64 sums,
// so a -1 is stored as its two's complement: sums wrap modulo 2^64, and the
// total of a count that a correction lowered is exact whenever it is not
// negative, which it never is (a call is counted unpriced before it can be
// corrected).
const correctionSums = "    toUInt64(0) AS calls,\n" +
	"    toUInt64(0) AS errors,\n" +
	"    toUInt64(sum(unpriced_delta)) AS unpriced,\n" +
	"    toUInt64(0) AS anomalies,\n" +
	"    toUInt64(0) AS input_tokens,\n" +
	"    toUInt64(0) AS cached_input_tokens,\n" +
	"    toUInt64(0) AS cache_write_input_tokens,\n" +
	"    toUInt64(0) AS output_tokens,\n" +
	"    toUInt64(0) AS reasoning_tokens,\n" +
	"    sum(cost_delta) AS cost_usd,\n" +
	"    toUInt64(0) AS duration_ns_sum,\n" +
	"    quantileTDigestStateIf(toFloat64(0), 0) AS latency_ms\n"

// fold renders a rollup view's SELECT over source with sums.
func (v schemaVars) fold(source, sums, bucket string, keys ...string) string {
	if len(keys) == 0 {
		keys = []string{"provider", "model", "operation", "service", "environment"}
	}
	arrayJoin := ""
	if keys[0] == "ARRAY JOIN" {
		arrayJoin, keys = "\nARRAY JOIN mapKeys(tags) AS tag_key", keys[1:]
	}
	selected := strings.Join(keys, ", ")
	if arrayJoin != "" {
		selected = strings.Replace(selected, "tag_value", "tags[tag_key] AS tag_value", 1)
	}
	return "SELECT " + bucket + "(timestamp) AS ts, " + selected + ",\n" + sums +
		"FROM " + v.DB + "." + source + arrayJoin + "\n" +
		"WHERE timestamp >= toDateTime64('1970-01-01 00:00:00', 9, 'UTC') AND timestamp < toDateTime64('2106-02-07 06:28:16', 9, 'UTC')\n" +
		"GROUP BY ts, " + strings.Join(keys, ", ")
}

// rollupSums are the rollups' aggregate columns, the same in every rollup
// (the migrations' {{rollupSums}}): the columns rollup fills.
const rollupSums = `    calls                    SimpleAggregateFunction(sum, UInt64),
    errors                   SimpleAggregateFunction(sum, UInt64),
    unpriced                 SimpleAggregateFunction(sum, UInt64),
    anomalies                SimpleAggregateFunction(sum, UInt64),
    input_tokens             SimpleAggregateFunction(sum, UInt64),
    cached_input_tokens      SimpleAggregateFunction(sum, UInt64),
    cache_write_input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens            SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens         SimpleAggregateFunction(sum, UInt64),
    cost_usd                 SimpleAggregateFunction(sum, Decimal(38, 12)),
    duration_ns_sum          SimpleAggregateFunction(sum, UInt64),
    latency_ms               AggregateFunction(quantileTDigest, Float64)`

// recent renders the SELECT that copies api_calls into the recent calls
// sorted by dim (customer or user): the columns recentColumns lists, the
// ones a cost read of raw calls takes (internal/schema CostSource).
func (v schemaVars) recent(dim string) string {
	return "SELECT timestamp, tenant, " + dim + ", provider, model, operation, service, environment, team, feature,\n" +
		"    status, cost_status, is_anomaly, duration_ns, input_tokens, output_tokens, cost_usd\n" +
		"FROM " + v.DB + ".api_calls"
}

// recentColumns are the columns of the recent calls after their time,
// tenant and dimension (the migrations' {{recentColumns}}).
const recentColumns = `    provider                 LowCardinality(String),
    model                    LowCardinality(String),
    operation                LowCardinality(String),
    service                  LowCardinality(String),
    environment              LowCardinality(String),
    team                     LowCardinality(String),
    feature                  LowCardinality(String),
    status                   LowCardinality(String),
    cost_status              LowCardinality(String),
    is_anomaly               Bool,
    duration_ns              UInt64 CODEC(T64, ZSTD(1)),
    input_tokens             UInt64,
    output_tokens            UInt64,
    cost_usd                 Nullable(Decimal(18, 12))`

// statements splits a migration into statements at semicolons that end a
// line; the engine runs one statement per call.
func statements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(sql, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") && cur.Len() == 0 {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			if s := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"); s != "" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// migrate applies every migration the database has not recorded, in order.
// Statements are idempotent (IF NOT EXISTS), so a migration interrupted half
// way, or run by two collectors at once, converges on a second run.
func migrate(ctx context.Context, s store.Store, cluster string, logger *zap.Logger) error {
	migrations, err := loadMigrations(s.Database(), cluster)
	if err != nil {
		return err
	}
	return applyMigrations(ctx, s, cluster, migrations, logger)
}

// applyMigrations applies those of migrations the database has not
// recorded (tests pass a prefix to stand for an older build).
func applyMigrations(ctx context.Context, s store.Store, cluster string, migrations []migration, logger *zap.Logger) error {
	db := s.Database()
	onCluster := ""
	if cluster != "" {
		onCluster = " ON CLUSTER " + quoteIdent(cluster)
	}
	vars := schemaVars{cluster: cluster}
	bootstrap := []string{
		"CREATE DATABASE IF NOT EXISTS " + quoteIdent(db) + onCluster,
		"CREATE TABLE IF NOT EXISTS " + quoteIdent(db) + ".schema_migrations" + onCluster +
			" (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC'))" +
			" ENGINE = " + vars.engine("ReplacingMergeTree", "applied_at") + " ORDER BY version",
	}
	for _, q := range bootstrap {
		if err := s.Exec(ctx, q, nil); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
	}
	applied, err := appliedMigrations(ctx, s)
	if err != nil {
		return err
	}
	for _, m := range migrations {
		if sum, ok := applied[m.version]; ok {
			if sum != m.checksum {
				logger.Warn("applied migration differs from the one in this build; not re-applied",
					zap.Uint32("version", m.version), zap.String("name", m.name))
			}
			continue
		}
		stmts := statements(m.text)
		if m.plan != nil {
			if stmts, err = m.plan(ctx, s); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
			}
		}
		for _, stmt := range stmts {
			if err := s.Exec(ctx, stmt, nil); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
			}
		}
		err := s.Exec(ctx, "INSERT INTO "+quoteIdent(db)+".schema_migrations (version, name, checksum, applied_at) "+
			"VALUES ({v:UInt32}, {n:String}, {c:String}, {t:DateTime64(3, 'UTC')})", store.Params{
			"v": strconv.FormatUint(uint64(m.version), 10), "n": m.name, "c": m.checksum,
			"t": time.Now().UTC().Format("2006-01-02 15:04:05.000"),
		})
		if err != nil {
			return fmt.Errorf("record migration %04d_%s: %w", m.version, m.name, err)
		}
		logger.Info("applied schema migration", zap.Uint32("version", m.version), zap.String("name", m.name))
	}
	return nil
}

func appliedMigrations(ctx context.Context, s store.Store) (map[uint32]string, error) {
	rows, err := s.Query(ctx, "SELECT version, checksum FROM "+quoteIdent(s.Database())+".schema_migrations FINAL", nil)
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	defer rows.Close()
	out := map[uint32]string{}
	for rows.Next() {
		var v uint32
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		out[v] = sum
	}
	return out, rows.Err()
}

// quoteIdent quotes a validated identifier for SQL text.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

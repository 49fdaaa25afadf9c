package chstoreextension

import (
	"context"
	"fmt"
	"strings"

	"github.com/nexus-otel/nexus/internal/store"
)

// Migration 0009 moves api_calls from day to month partitions.
//
// A day per partition made every insert write one part per day its calls
// span: a request holding calls from 89 different days (a client replaying
// a backlog, or a hostile one) cost 1.4 s to insert against 95 ms by month
// (160 rows, embedded engine), and slowed every other client's inserts
// behind it. Partitions by month are what ClickHouse advises for most
// tables; retention is a TTL on rows, which merges apply within a month.
//
// A partition key cannot be altered, so the table is copied into one
// partitioned by month, swapped in with EXCHANGE TABLES, and the rollup
// views (bound to the table) recreated. Each step is planned from what the
// database holds, so a run interrupted anywhere converges when run again:
// until the swap the old table is untouched and the copy starts over;
// after it, only the views and the leftover table remain to do. It runs
// before any component writes, at the extension's start. On a cluster the
// copy runs on the node the collector is connected to and reaches the
// other replicas through replication.

const (
	repartitionVersion = 9
	repartitionName    = "api_calls_by_month"
	monthPartitionKey  = "toYYYYMM(timestamp)"
)

var rollupViews = []struct{ view, table, bucket string }{
	{"api_calls_1m_mv", "api_calls_1m", "toStartOfMinute"},
	{"api_calls_1h_mv", "api_calls_1h", "toStartOfHour"},
	{"api_calls_1d_mv", "api_calls_1d", "toStartOfDay"},
}

// repartitionMigration is migration 0009; its text is the whole plan (what
// a database partitioned by day runs), for review and the cluster checks.
func (v schemaVars) repartitionMigration() migration {
	copyStmts, finish := v.repartitionSteps()
	text := strings.Join(append(copyStmts, finish...), ";\n") + ";\n"
	return migration{
		version: repartitionVersion, name: repartitionName, text: text,
		checksum: checksumOf([]byte(text)),
		plan: func(ctx context.Context, s store.Store) ([]string, error) {
			key, err := partitionKey(ctx, s, s.Database(), "api_calls")
			if err != nil {
				return nil, err
			}
			if key == monthPartitionKey {
				return finish, nil
			}
			return append(copyStmts, finish...), nil
		},
	}
}

// repartitionSteps are the statements that copy api_calls into a table
// partitioned by month and swap it in, and those that finish after the
// swap (idempotent either way).
func (v schemaVars) repartitionSteps() (copyStmts, finish []string) {
	calls, next := v.DB+".api_calls", v.DB+".api_calls_by_month"
	copyStmts = []string{
		"CREATE TABLE IF NOT EXISTS " + next + " " + v.OnCluster + " AS " + calls +
			" ENGINE = " + v.engine("MergeTree") + " PARTITION BY " + monthPartitionKey +
			" ORDER BY (provider, service, timestamp) SETTINGS index_granularity = 8192, " + v.dedupWindow(),
		// Left from an interrupted copy: start over.
		"TRUNCATE TABLE IF EXISTS " + next + " " + v.OnCluster,
		// Every row once (no block is taken for a retry), however many
		// months the old table spans.
		"INSERT INTO " + next + " SETTINGS insert_deduplicate = 0, max_partitions_per_insert_block = 0 SELECT * FROM " + calls,
	}
	for _, r := range rollupViews {
		copyStmts = append(copyStmts, "DROP VIEW IF EXISTS "+v.DB+"."+r.view+" "+v.OnCluster)
	}
	copyStmts = append(copyStmts, "EXCHANGE TABLES "+calls+" AND "+next+" "+v.OnCluster)
	for _, r := range rollupViews {
		finish = append(finish, "CREATE MATERIALIZED VIEW IF NOT EXISTS "+v.DB+"."+r.view+" "+v.OnCluster+
			" TO "+v.DB+"."+r.table+" AS\n"+v.rollup(r.bucket))
	}
	finish = append(finish, "DROP TABLE IF EXISTS "+next+" "+v.OnCluster+" SYNC")
	return copyStmts, finish
}

// partitionKey is table's partition key as the engine prints it.
func partitionKey(ctx context.Context, s store.Store, db, table string) (string, error) {
	rows, err := s.Query(ctx, "SELECT partition_key FROM system.tables WHERE database = {db:String} AND name = {t:String}",
		store.Params{"db": db, "t": table})
	if err != nil {
		return "", fmt.Errorf("read the partition key of %s: %w", table, err)
	}
	defer rows.Close()
	var key string
	if rows.Next() {
		if err := rows.Scan(&key); err != nil {
			return "", fmt.Errorf("read the partition key of %s: %w", table, err)
		}
	}
	return key, rows.Err()
}

package chstoreextension

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// withCallsByDay starts database db migrated as a build before 0009 left
// it (api_calls by day) holding calls on 70 days across three months, and
// returns its extension and the totals those calls make.
func withCallsByDay(t *testing.T, db string) (*chstore, string) {
	t.Helper()
	ext, s := startEmbedded(t, db, func(c *Config) { c.Migrate = false })
	all, err := loadMigrations(db, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(context.Background(), s, "", all[:repartitionVersion-1], ext.logger); err != nil {
		t.Fatal(err)
	}
	if key, _ := partitionKey(context.Background(), s, db, "api_calls"); key != "toDate(timestamp)" {
		t.Fatalf("before 0009 api_calls is partitioned by %q", key)
	}
	if err := s.Exec(context.Background(), "INSERT INTO "+db+".api_calls (timestamp, provider, model, span_id, trace_id, input_tokens) "+
		"SELECT now64(9) - toIntervalDay(number), 'openai', 'm', toString(number), 't', 3 FROM numbers(70)", nil); err != nil {
		t.Fatal(err)
	}
	want := totals(70, 210)
	if got := callTotals(t, s, db); got != want {
		t.Fatalf("before the upgrade: %s, want %s", got, want)
	}
	return ext, want
}

// checkRepartitioned: api_calls is partitioned by month, keeps its rows,
// index, de-duplication window and (once retention runs) TTL, the views
// fold new calls in once, and the copy is gone.
func checkRepartitioned(t *testing.T, ext *chstore, db, want string) {
	t.Helper()
	s := ext.store
	ctx := context.Background()
	if key, err := partitionKey(ctx, s, db, "api_calls"); err != nil || key != monthPartitionKey {
		t.Fatalf("api_calls partitioned by %q (%v)", key, err)
	}
	if got := callTotals(t, s, db); got != want {
		t.Fatalf("after the upgrade: %s, want %s", got, want)
	}
	if n := scalar(t, s, "SELECT toString(count()) FROM system.data_skipping_indices WHERE database = '"+db+"' AND table = 'api_calls' AND name = 'idx_trace_id'"); n != "1" {
		t.Errorf("api_calls lost its trace id index")
	}
	if n := scalar(t, s, "SELECT toString(count()) FROM system.tables WHERE database = '"+db+"' AND name = 'api_calls_by_month'"); n != "0" {
		t.Errorf("the copy is left behind")
	}
	if engine := scalar(t, s, "SELECT engine_full FROM system.tables WHERE database = '"+db+"' AND name = 'api_calls'"); !strings.Contains(engine, "non_replicated_deduplication_window = 10000") {
		t.Errorf("api_calls lost its de-duplication window: %s", engine)
	}
	// 70 calls and the two of a retried insert, once everywhere.
	retriedInsertSelect(t, s, db)
	if got, want := callTotals(t, s, db), totals(72, 224); got != want {
		t.Fatalf("new calls after the upgrade: %s, want %s", got, want)
	}
	// Last: the minute rollup's 30-day TTL drops the older calls' minutes.
	if err := applyRetention(ctx, s, defaultRetention(), "", ext.logger); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := tableTTL(ctx, s, "api_calls"); ttl == "" {
		t.Errorf("api_calls has no TTL after retention ran")
	}
}

func TestRepartitionByMonthKeepsEverything(t *testing.T) {
	const db = "repart_full"
	ext, want := withCallsByDay(t, db)
	if err := migrate(context.Background(), ext.store, "", ext.logger); err != nil {
		t.Fatal(err)
	}
	checkRepartitioned(t, ext, db, want)
}

// TestRepartitionResumesWhereInterrupted: a collector killed after any
// step of 0009 converges on the next start, rows neither lost nor doubled.
func TestRepartitionResumesWhereInterrupted(t *testing.T) {
	copyStmts, finish := schemaVars{DB: "x"}.repartitionSteps()
	all := len(copyStmts) + len(finish)
	for _, done := range []int{1, 3, len(copyStmts) - 1, len(copyStmts), len(copyStmts) + 1, all - 1} {
		t.Run(fmt.Sprintf("after %d of %d steps", done, all), func(t *testing.T) {
			db := fmt.Sprintf("repart_cut%d", done)
			ext, want := withCallsByDay(t, db)
			m := schemaVars{DB: quoteIdent(db)}.repartitionMigration()
			for _, stmt := range statements(m.text)[:done] {
				if err := ext.store.Exec(context.Background(), stmt, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := migrate(context.Background(), ext.store, "", ext.logger); err != nil {
				t.Fatal(err)
			}
			checkRepartitioned(t, ext, db, want)
		})
	}
}

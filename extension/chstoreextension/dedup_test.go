package chstoreextension

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/codec"
	"github.com/nexus-otel/nexus/internal/store"
)

// dedupTables are the tables migration 0006 gives an insert
// de-duplication window: those the exporter writes and the rollup targets.
var dedupTables = []string{"api_calls", "provider_usage", "provider_gauges", "provider_health",
	"api_calls_1m", "api_calls_1h", "api_calls_1d"}

// callTotals reads calls and input tokens from the raw table and from each
// rollup, as "raw=… 1m=… 1h=… 1d=…" so that a failure shows them all.
func callTotals(t testing.TB, s store.Store, db string) string {
	t.Helper()
	return scalar(t, s, fmt.Sprintf("SELECT concat("+
		"'raw=', toString((SELECT count() FROM %[1]s.api_calls)), '/', toString((SELECT sum(input_tokens) FROM %[1]s.api_calls)), "+
		"' 1m=', toString((SELECT sum(calls) FROM %[1]s.api_calls_1m)), '/', toString((SELECT sum(input_tokens) FROM %[1]s.api_calls_1m)), "+
		"' 1h=', toString((SELECT sum(calls) FROM %[1]s.api_calls_1h)), '/', toString((SELECT sum(input_tokens) FROM %[1]s.api_calls_1h)), "+
		"' 1d=', toString((SELECT sum(calls) FROM %[1]s.api_calls_1d)), '/', toString((SELECT sum(input_tokens) FROM %[1]s.api_calls_1d)))", db))
}

func totals(calls, tokens int) string {
	c := fmt.Sprintf("%d/%d", calls, tokens)
	return "raw=" + c + " 1m=" + c + " 1h=" + c + " 1d=" + c
}

// streamInsert sends rows as one RowBinary block through the engine's
// streaming insert on a write connection of the embedded store — the path
// its batches take — with the de-duplication settings of a retried insert.
func streamInsert(t *testing.T, ext *chstore, table string, cols []string, token string, rows ...[]any) {
	t.Helper()
	ctx := context.Background()
	types, err := ext.embedded.cols.types(ctx, ext.embedded, ext.embedded.db, table, cols)
	if err != nil {
		t.Fatal(err)
	}
	enc := codec.NewRowEncoder(types)
	var body []byte
	for _, r := range rows {
		if body, err = enc.Append(body, r...); err != nil {
			t.Fatal(err)
		}
	}
	c, release, err := ext.embedded.conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	q := fmt.Sprintf("INSERT INTO %s.%s (%s) SETTINGS insert_deduplication_token = '%s', "+
		"deduplicate_blocks_in_dependent_materialized_views = 1", quoteIdent(ext.embedded.db), quoteIdent(table), joinIdents(cols), token)
	if _, err := c.Insert(q, "RowBinary", body); err != nil {
		t.Fatal(err)
	}
}

// TestRetriedInsertCountsOnce: a block sent twice with the same token
// counts once in api_calls and in every rollup; the provider tables drop
// the retry too. Measured on the real engine through its streaming insert.
func TestRetriedInsertCountsOnce(t *testing.T) {
	ext, s := startEmbedded(t, "dedup_test", nil)
	for _, table := range dedupTables {
		if engine := scalar(t, s, "SELECT engine_full FROM system.tables WHERE database = 'dedup_test' AND name = '"+table+"'"); !strings.Contains(engine, "non_replicated_deduplication_window = 10000") {
			t.Errorf("%s has no de-duplication window: %s", table, engine)
		}
	}

	now := time.Now().UTC().Truncate(time.Hour)
	cols := []string{"timestamp", "provider", "model", "span_id", "input_tokens"}
	call := func(at time.Time, span string, tokens uint64) []any {
		return []any{at, "openai", "gpt-x", span, tokens}
	}
	// Two calls in one minute, one an hour earlier: every rollup gets a
	// block of more than one row.
	block1 := [][]any{call(now.Add(time.Second), "a", 10), call(now.Add(2*time.Second), "b", 20), call(now.Add(-time.Hour), "c", 30)}
	streamInsert(t, ext, "api_calls", cols, "tok-1", block1...)
	streamInsert(t, ext, "api_calls", cols, "tok-1", block1...)
	if got, want := callTotals(t, s, "dedup_test"), totals(3, 60); got != want {
		t.Fatalf("after a retried block: %s, want %s", got, want)
	}
	// Another block whose rollup rows equal the first's (same buckets, same
	// sums) is new data, not a retry: a different token counts it.
	streamInsert(t, ext, "api_calls", cols, "tok-2", call(now.Add(3*time.Second), "d", 10), call(now.Add(4*time.Second), "e", 20), call(now.Add(-time.Hour+time.Second), "f", 30))
	streamInsert(t, ext, "api_calls", cols, "tok-2", call(now.Add(3*time.Second), "d", 10), call(now.Add(4*time.Second), "e", 20), call(now.Add(-time.Hour+time.Second), "f", 30))
	if got, want := callTotals(t, s, "dedup_test"), totals(6, 120); got != want {
		t.Fatalf("after a second block and its retry: %s, want %s", got, want)
	}
	// A retry after other inserts still falls inside the window.
	streamInsert(t, ext, "api_calls", cols, "tok-1", block1...)
	if got, want := callTotals(t, s, "dedup_test"), totals(6, 120); got != want {
		t.Fatalf("after a late retry: %s, want %s", got, want)
	}

	ts := now.Add(time.Minute)
	streamInsert(t, ext, "provider_health", store.ProviderHealthColumns, "h", []any{ts, "openai", true, "", uint16(200), 12.5, ""})
	streamInsert(t, ext, "provider_health", store.ProviderHealthColumns, "h", []any{ts, "openai", true, "", uint16(200), 12.5, ""})
	streamInsert(t, ext, "provider_gauges", store.ProviderGaugeColumns, "g", []any{ts, "openai", "acct", "balance", "", "", "", "12.5"})
	streamInsert(t, ext, "provider_gauges", store.ProviderGaugeColumns, "g", []any{ts, "openai", "acct", "balance", "", "", "", "12.5"})
	usageCols := []string{"provider", "account", "kind", "bucket_start", "bucket_end", "value", "polled_at"}
	usage := []any{"openai", "acct", "cost_usd", now, now.Add(time.Hour), "1.25", ts}
	streamInsert(t, ext, "provider_usage", usageCols, "u", usage)
	streamInsert(t, ext, "provider_usage", usageCols, "u", usage)
	// provider_usage is read without FINAL: the retry must not even land.
	for _, table := range []string{"provider_health", "provider_gauges", "provider_usage"} {
		if n := scalar(t, s, "SELECT toString(count()) FROM dedup_test."+table); n != "1" {
			t.Errorf("%s: %s rows after a retried insert, want 1", table, n)
		}
	}
}

// TestRetriedInsertSelectCountsOnce runs the same through Exec (INSERT …
// SELECT with the settings in its text), the way the store's writes go in
// both modes; TestRemoteOverEmbeddedHTTP runs it in remote mode.
func TestRetriedInsertSelectCountsOnce(t *testing.T) {
	_, s := startEmbedded(t, "dedup_exec", nil)
	retriedInsertSelect(t, s, "dedup_exec")
}

func retriedInsertSelect(t *testing.T, s store.Store, db string) {
	t.Helper()
	ctx := context.Background()
	insert := func(token string, spans ...string) {
		t.Helper()
		q := "INSERT INTO " + db + ".api_calls (timestamp, provider, model, span_id, input_tokens) " +
			"SETTINGS insert_deduplication_token = '" + token + "', deduplicate_blocks_in_dependent_materialized_views = 1 " +
			"SELECT now64(9, 'UTC'), 'openai', 'gpt-x', arrayJoin({spans:Array(String)}), 7"
		arr := "['" + strings.Join(spans, "','") + "']"
		if err := s.Exec(ctx, q, store.Params{"spans": arr}); err != nil {
			t.Fatal(err)
		}
	}
	var calls, tokens int
	if _, err := fmt.Sscanf(scalar(t, s, "SELECT concat(toString(count()), ' ', toString(sum(input_tokens))) FROM "+db+".api_calls"), "%d %d", &calls, &tokens); err != nil {
		t.Fatal(err)
	}
	insert("x", "a", "b")
	insert("x", "a", "b")
	if got, want := callTotals(t, s, db), totals(calls+2, tokens+14); got != want {
		t.Fatalf("%s: after a retried INSERT SELECT: %s, want %s", db, got, want)
	}
}

func TestClusterDedupWindowIsReplicated(t *testing.T) {
	for cluster, want := range map[string]string{
		"":     "non_replicated_deduplication_window = 10000",
		"prod": "replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800",
	} {
		ms, err := loadMigrations("nexus", cluster)
		if err != nil {
			t.Fatal(err)
		}
		var text string
		for _, m := range ms {
			if m.version == 6 {
				text = strings.Join(strings.Fields(m.text), " ")
			}
		}
		for _, table := range dedupTables {
			stmt := "ALTER TABLE `nexus`." + table + " "
			if cluster != "" {
				stmt += "ON CLUSTER `prod` "
			}
			stmt += "MODIFY SETTING " + want + ";"
			if !strings.Contains(text, stmt) {
				t.Errorf("cluster %q: 0006 lacks %q", cluster, stmt)
			}
		}
		if cluster != "" && strings.Contains(text, "non_replicated") {
			t.Errorf("cluster: 0006 sets the non-replicated window:\n%s", text)
		}
	}
}

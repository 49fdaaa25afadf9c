package nexusexporter

import (
	"context"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestEngineDropsABlockSentAgain measures what exactly-once rests on, with
// the real store's batches on the embedded engine: an insert carrying the
// token of a block already committed is dropped by the table and, with
// deduplicate_blocks_in_dependent_materialized_views, by a view's target
// table, but only by tables that have a de-duplication window.
func TestEngineDropsABlockSentAgain(t *testing.T) {
	s, _ := storetest.Start(t, "exp_tok")
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE exp_tok.src (t DateTime64(9, 'UTC'), v UInt64) ENGINE = MergeTree PARTITION BY toDate(t) ORDER BY t " +
			"SETTINGS non_replicated_deduplication_window = 100",
		"CREATE TABLE exp_tok.dst (ts DateTime('UTC'), n SimpleAggregateFunction(sum, UInt64)) ENGINE = AggregatingMergeTree " +
			"PARTITION BY toYYYYMM(ts) ORDER BY ts SETTINGS non_replicated_deduplication_window = 100",
		"CREATE MATERIALIZED VIEW exp_tok.mv TO exp_tok.dst AS SELECT toStartOfMinute(t) AS ts, count() AS n FROM exp_tok.src GROUP BY ts",
		// The same view into a table without a window.
		"CREATE TABLE exp_tok.dst_nowindow AS exp_tok.dst ENGINE = AggregatingMergeTree PARTITION BY toYYYYMM(ts) ORDER BY ts",
		"CREATE MATERIALIZED VIEW exp_tok.mv_nowindow TO exp_tok.dst_nowindow AS SELECT toStartOfMinute(t) AS ts, count() AS n FROM exp_tok.src GROUP BY ts",
	} {
		if err := s.Exec(ctx, q, nil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	base := recent()
	insert := func(token string, rows ...time.Time) {
		t.Helper()
		b, err := s.PrepareBatch(store.WithInsertSettings(ctx, store.DedupSettings(token)), "src", []string{"t", "v"})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if err := b.Append(r, uint64(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(ctx); err != nil {
			t.Fatal(err)
		}
	}
	counts := func() string {
		return storetest.Scalar(t, s, "SELECT toString(tuple((SELECT count() FROM exp_tok.src), "+
			"(SELECT sum(n) FROM exp_tok.dst), (SELECT sum(n) FROM exp_tok.dst_nowindow)))")
	}
	// A token with quote and backslash: settings travel in the INSERT's text.
	const tok = `block 'one' \ 1`
	two := []time.Time{base, base.Add(time.Minute)}
	insert(tok, two...)
	if got := counts(); got != "(2,2,2)" {
		t.Fatalf("first insert: %s", got)
	}
	insert(tok, two...)
	// The table and the view's target with a window drop it; the target
	// without one adds it again.
	if got := counts(); got != "(2,2,4)" {
		t.Fatalf("same block, same token: %s, want (2,2,4)", got)
	}
	// The token names the block, not its content: other rows under a
	// token already seen are dropped too (why tokens hash every row).
	insert(tok, base.Add(2*time.Minute))
	if got := counts(); got != "(2,2,5)" {
		t.Fatalf("other rows, same token: %s, want (2,2,5)", got)
	}
	// The same rows under another token are another block.
	insert("block two", two...)
	if got := counts(); got != "(4,4,7)" {
		t.Fatalf("same rows, other token: %s, want (4,4,7)", got)
	}
}

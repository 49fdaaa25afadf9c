package nexusexporter

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.uber.org/zap/zaptest"

	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestJournalCompletesRollupsAfterACrash reproduces the state a kill
// between an insert's commits leaves on the real engine: api_calls holds a
// block, the rollups do not (their views were detached while it was
// written). The next run's exporter sends the journalled block again:
// api_calls drops it by its token, every rollup takes it, and the
// persistent queue's replay of the same calls, batched otherwise, then
// changes nothing.
func TestJournalCompletesRollupsAfterACrash(t *testing.T) {
	const db = "exp_journal"
	s, h := storetest.Start(t, db)
	ctx := context.Background()
	startStorage, fsID := fileStorage(t, h)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	q := cfg.QueueConfig.Get()
	q.StorageID = &fsID
	run := func() *nexusExporter {
		set := exportertest.NewNopSettings(componentType)
		set.Logger = zaptest.NewLogger(t)
		set.ID = component.NewID(componentType)
		e, err := newNexusExporter(cfg, set, "traces")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.start(ctx, h); err != nil {
			t.Fatal(err)
		}
		if e.journal == nil {
			t.Fatal("no journal with a persistent queue")
		}
		return e
	}
	views := []string{"api_calls_1m_mv", "api_calls_1h_mv", "api_calls_1d_mv"}
	exec := func(q string) {
		t.Helper()
		if err := s.Exec(ctx, q, nil); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	// The first run journals a block and dies after api_calls committed
	// it, before the views did.
	fs1 := startStorage()
	h.Extensions[fsID] = fs1
	e1 := run()
	td := calls(40, recent())
	rows := callRows(td, newWindow(time.Now(), 0, time.Minute))
	token := blockToken("crash", &apiCalls, rows)
	if _, err := e1.journal.begin(ctx, &apiCalls, token, rows); err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		exec("DETACH TABLE " + db + "." + v)
	}
	b, err := s.PrepareBatch(store.WithInsertSettings(ctx, store.DedupSettings(token)), "api_calls", apiCalls.columns)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := b.Append(r.vals...); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		exec("ATTACH TABLE " + db + "." + v)
	}
	if err := e1.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fs1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := callCounts(t, s, db); got != "(40,40,0,0,40,0)" {
		t.Fatalf("the crash state: %s, want the calls raw and in no rollup", got)
	}

	// The restart: the journal goes first, then the queue's replay.
	fs2 := startStorage()
	h.Extensions[fsID] = fs2
	e2 := run()
	if err := e2.pushTraces(ctx, calls(55, recent())); err != nil {
		t.Fatal(err)
	}
	if got := callCounts(t, s, db); got != "(55,55,55,55,55,55)" {
		t.Fatalf("after the restart: %s, want each call once everywhere", got)
	}
	// Settled blocks leave the journal.
	for slot := range maxJournalSlots {
		if v, err := e2.journal.client.Get(ctx, journalKey(slot)); err != nil || v != nil {
			t.Fatalf("slot %d still holds %d bytes (%v)", slot, len(v), err)
		}
	}
	if err := e2.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fs2.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestJournalEncodingRoundTrips: a journalled block reads back to the
// values it was written from, type for type, and a truncated one is
// refused as corrupt rather than sent.
func TestJournalEncodingRoundTrips(t *testing.T) {
	rows := callRows(calls(3, recent()), newWindow(time.Now(), 0, time.Minute))
	rows = append(rows, row{vals: []any{nil, "x", true, uint16(7), uint64(1 << 60), int64(-3), float32(1.5), 2.25,
		time.Unix(5e9, 123).UTC(), map[string]uint64{"b": 2, "a": 1}}})
	var enc bytes.Buffer
	(&valueWriter{w: &enc}).rows(rows)
	r := valueReader{b: enc.Bytes()}
	got, err := r.rows()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if a, b := blockToken("p", &apiCalls, rows[i:i+1]), blockToken("p", &apiCalls, []row{{vals: got[i]}}); a != b {
			t.Fatalf("row %d reads back as %v, was %v", i, got[i], rows[i].vals)
		}
	}
	for _, cut := range []int{1, 9, len(enc.Bytes()) / 2, len(enc.Bytes()) - 1} {
		r := valueReader{b: enc.Bytes()[:cut]}
		if _, err := r.rows(); err == nil {
			t.Fatalf("truncated at %d: read without error", cut)
		}
	}
}

// TestEncodedRowsAreTheSameBytes: rows encoded ahead (encodeRows) hash and
// journal to exactly the bytes of rows encoded value by value, so a block
// keeps its token whichever path named it (a replay after a crash, a
// bisected half, a build before encodeRows existed).
func TestEncodedRowsAreTheSameBytes(t *testing.T) {
	rows := callRows(calls(5, recent()), newWindow(time.Now(), 0, time.Minute))
	rows = append(rows, row{vals: []any{nil, "", map[string]string{"b": "2", "a": "1"}, decimal.New(-5, -12)}})
	var plain bytes.Buffer
	(&valueWriter{w: &plain}).rows(rows)
	want := blockToken("p", &apiCalls, rows)
	encodeRows(rows)
	for i, r := range rows {
		if len(r.enc) == 0 {
			t.Fatalf("row %d not encoded", i)
		}
	}
	var pre bytes.Buffer
	(&valueWriter{w: &pre}).rows(rows)
	if !bytes.Equal(plain.Bytes(), pre.Bytes()) {
		t.Fatalf("encoded ahead: %d bytes differ from %d bytes encoded value by value", pre.Len(), plain.Len())
	}
	if got := blockToken("p", &apiCalls, rows); got != want {
		t.Fatalf("token %s, want %s", got, want)
	}
	if a, b := blockToken("p", &apiCalls, rows[1:3]), blockToken("p", &apiCalls, []row{{vals: rows[1].vals}, {vals: rows[2].vals}}); a != b {
		t.Fatalf("half of a block: token %s, want %s", a, b)
	}
}

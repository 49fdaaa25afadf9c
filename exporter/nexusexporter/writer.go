package nexusexporter

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/nexus-otel/nexus/internal/store"
)

// tableSpec is a table the exporter inserts into.
type tableSpec struct {
	name    string
	columns []string
}

// blockOf numbers the insert block a row goes into: the calendar month
// (UTC) of its time. Every table the exporter writes is partitioned by
// month of that time, and so are the rollups api_calls feeds (the day
// rollup by year): one partition each a block, far below the engine's
// max_partitions_per_insert_block of 100. A month is a fixed boundary, so a request always splits
// into the same blocks, and the usual request (a few minutes of calls) is
// one block.
func blockOf(t time.Time) int64 { u := t.UTC(); return int64(u.Year())*12 + int64(u.Month()) - 1 }

// row is one row for a table, with what the writer needs to know about it.
type row struct {
	vals []any     // in the table's column order
	at   time.Time // the time the table is partitioned by
	// refused is set when the row was judged unfit before sending.
	refused reason
	// what identifies the row in logs (a metric's name); for a call it is
	// left empty and describe names it by its ids, only when logged.
	what string
	// enc is vals encoded (encodeRows), nil until then.
	enc []byte
}

// describe names r in logs: what, or for a call its trace and span ids.
func (r row) describe() string {
	if r.what != "" || len(r.vals) != len(apiCallsColumns) {
		return r.what
	}
	trace, _ := r.vals[apiCallsIdentity.trace].(string)
	span, _ := r.vals[apiCallsIdentity.span].(string)
	return "trace " + trace + " span " + span
}

// maxBisections bounds the inserts one push spends isolating refused rows,
// so that a table refusing every row (a broken view, a constraint no row
// meets) costs a bounded number of inserts, not two per row. When it is
// spent, a block still refused is refused whole. A variable for tests.
var maxBisections = 256

// write inserts rows into t: one block per month (blockOf), each carrying
// a de-duplication token derived from its content.
//
// However far apart the times in a request, no insert touches more
// partitions than the engine allows. An error is returned only for what
// sending again may cure (an outage); the caller's retry then sends every
// block again, and the engine drops what it already committed by the
// tokens (per partition: it suffixes the token with the part's number). A
// block the engine refuses for its data is bisected until the rows at
// fault are isolated; those are refused (counted in rep), the others
// stored.
func (e *nexusExporter) write(ctx context.Context, t *tableSpec, rows []row, rep *pushReport) error {
	// Blocks a crash left in flight go first, before calls they hold could
	// be taken for stored and dropped.
	if err := e.journal.recover(ctx, e.store); err != nil {
		return err
	}
	for _, g := range groupByBlock(rows) {
		encodeRows(g.rows)
		// The token covers the rows refused by time too: whether a row
		// near the edge of the window is accepted can change between
		// attempts, and the block must keep its name across them.
		token := blockToken(fmt.Sprintf("%s/%d", t.name, g.key), t, g.rows)
		accepted := make([]row, 0, len(g.rows))
		for _, r := range g.rows {
			if r.refused != "" {
				rep.refuse(t.name, r, r.refused, nil)
				continue
			}
			accepted = append(accepted, r)
		}
		if len(accepted) > 0 && t == &apiCalls {
			var dup int
			var err error
			if accepted, dup, err = e.dropStored(ctx, accepted); err != nil {
				return err
			}
			rep.duplicates += dup
		}
		if len(accepted) == 0 {
			continue
		}
		if err := e.insert(ctx, t, accepted, token, rep); err != nil {
			return err
		}
	}
	return nil
}

// insert sends one block under token, bisecting it when the engine
// refuses it for its data.
func (e *nexusExporter) insert(ctx context.Context, t *tableSpec, rows []row, token string, rep *pushReport) error {
	bctx := store.WithInsertSettings(ctx, store.DedupSettings(token))
	b, err := e.store.PrepareBatch(bctx, t.name, t.columns)
	if err != nil {
		return fmt.Errorf("prepare %s insert: %w", t.name, err)
	}
	fit := make([]row, 0, len(rows))
	for _, r := range rows {
		// A row the table cannot take is bad data, not an outage.
		if err := b.Append(r.vals...); err != nil {
			rep.refuse(t.name, r, reasonInvalid, err)
			continue
		}
		fit = append(fit, r)
	}
	if len(fit) == 0 {
		_ = b.Abort() // nothing was sent: nothing to retry
		return nil
	}
	slot, err := e.journal.begin(bctx, t, token, fit)
	if err != nil {
		_ = b.Abort()
		return err
	}
	err = b.Send(bctx)
	e.journal.end(ctx, slot, err == nil || store.IsDataError(err))
	switch {
	case err == nil:
		rep.stored += len(fit)
		return nil
	case !store.IsDataError(err):
		return fmt.Errorf("insert %d %s rows: %w", len(fit), t.name, err)
	case len(fit) == 1 || rep.bisections >= maxBisections:
		for _, r := range fit {
			rep.refuse(t.name, r, reasonRefusedByEngine, err)
		}
		return nil
	}
	rep.bisections++
	half := len(fit) / 2
	for _, part := range [][]row{fit[:half], fit[half:]} {
		if err := e.insert(ctx, t, part, blockToken(token, t, part), rep); err != nil {
			return err
		}
	}
	return nil
}

// blockGroup is the rows of one block, in the order they came.
type blockGroup struct {
	key  int64
	rows []row
}

// groupByBlock splits rows by block, in block order, so that the same
// request always yields the same blocks.
func groupByBlock(rows []row) []blockGroup {
	index := map[int64]int{}
	var groups []blockGroup
	for _, r := range rows {
		k := blockOf(r.at)
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, blockGroup{key: k})
		}
		groups[i].rows = append(groups[i].rows, r)
	}
	slices.SortFunc(groups, func(a, b blockGroup) int { return cmp.Compare(a.key, b.key) })
	return groups
}

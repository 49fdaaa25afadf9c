package nexusexporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/store"
)

// The insert journal closes the one gap block tokens leave after a crash.
// An insert into api_calls commits the table's block, then each
// materialized view's block into its rollup: a process killed between the
// two leaves calls stored raw but missing from a rollup. The persistent
// queue replays the request, but batched beside others, so under other
// tokens; the stored calls are then dropped as already stored (seen.go)
// and the rollup never gets them. So each block is written to the
// exporter's storage (the persistent queue's) before it is sent and
// deleted once the store confirms it; after a restart, blocks left in the
// journal are sent again, first and exactly as they were. Under their own
// token the engine drops what committed and completes what did not, views
// included (deduplicate_blocks_in_dependent_materialized_views).

const (
	journalVersion = "nexus-journal-v1"
	journalPrefix  = "insert-journal/"
	// maxJournalSlots bounds the blocks in flight at once, and so what a
	// restart reads back.
	maxJournalSlots = 256
)

type journal struct {
	client storage.Client
	logger *zap.Logger
	slots  chan int

	// recovered is set once the blocks of the last run are sent again;
	// every insert waits for it.
	mu        sync.Mutex
	recovered bool
}

// openJournal returns the journal in the storage of the exporter's
// persistent queue, or nil without one: data only in memory is lost in a
// crash anyway, and a journal could not make it whole.
func openJournal(ctx context.Context, host component.Host, cfg *Config, id component.ID, signal string, logger *zap.Logger) (*journal, error) {
	if !cfg.QueueConfig.HasValue() || cfg.QueueConfig.Get().StorageID == nil {
		return nil, nil
	}
	sid := *cfg.QueueConfig.Get().StorageID
	ext, ok := host.GetExtensions()[sid]
	if !ok {
		return nil, fmt.Errorf("insert journal: storage extension %q not found", sid)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("insert journal: extension %q is not a storage extension", sid)
	}
	client, err := se.GetClient(ctx, component.KindExporter, id, signal+"-insert-journal")
	if err != nil {
		return nil, fmt.Errorf("insert journal: open storage client: %w", err)
	}
	n := min(max(cfg.QueueConfig.Get().NumConsumers, 1), maxJournalSlots)
	j := &journal{client: client, logger: logger, slots: make(chan int, n)}
	for i := range n {
		j.slots <- i
	}
	return j, nil
}

func journalKey(slot int) string { return journalPrefix + strconv.Itoa(slot) }

// begin records a block about to be sent and returns its slot, to be
// passed to end once the store has answered.
func (j *journal) begin(ctx context.Context, t *tableSpec, token string, rows []row) (int, error) {
	if j == nil {
		return -1, nil
	}
	var slot int
	select {
	case slot = <-j.slots:
	case <-ctx.Done():
		return -1, ctx.Err()
	}
	var buf bytes.Buffer
	size := 256
	for _, r := range rows {
		size += len(r.enc)
	}
	buf.Grow(size)
	w := valueWriter{w: &buf}
	w.str(journalVersion)
	w.str(t.name)
	w.str(token)
	w.uint(uint64(len(t.columns)))
	for _, c := range t.columns {
		w.str(c)
	}
	w.rows(rows)
	if err := j.client.Set(ctx, journalKey(slot), buf.Bytes()); err != nil {
		j.slots <- slot
		return -1, fmt.Errorf("insert journal: record %s block: %w", t.name, err)
	}
	return slot, nil
}

// end frees the slot. settled says whether the block's fate is known
// (stored, or refused for its data); an insert that failed for an outage
// stays recorded until the slot is used again, since the outage may have
// hidden a commit.
func (j *journal) end(ctx context.Context, slot int, settled bool) {
	if j == nil || slot < 0 {
		return
	}
	if settled {
		if err := j.client.Delete(ctx, journalKey(slot)); err != nil {
			// Harmless: a restart sends the block again and the engine
			// drops it by its token.
			j.logger.Warn("insert journal: could not clear a stored block", zap.Error(err))
		}
	}
	j.slots <- slot
}

// recover sends again, once, the blocks the last run left in the journal.
// An error means the store is unreachable: the caller's push fails and is
// retried, and recovery with it.
func (j *journal) recover(ctx context.Context, s store.Store) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.recovered {
		return nil
	}
	var replayed int
	for slot := range maxJournalSlots {
		key := journalKey(slot)
		data, err := j.client.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("insert journal: read %s: %w", key, err)
		}
		if data == nil {
			continue
		}
		err = resend(ctx, s, data)
		var corrupt, refused bool
		switch {
		case errors.Is(err, errCorrupt):
			corrupt = true
		case err != nil && store.IsDataError(err):
			refused = true
		case err != nil:
			return err
		}
		if corrupt || refused {
			j.logger.Warn("insert journal: dropped a block that cannot be sent again",
				zap.Bool("corrupt", corrupt), zap.Error(err))
		} else {
			replayed++
		}
		if err := j.client.Delete(ctx, key); err != nil {
			return fmt.Errorf("insert journal: clear %s: %w", key, err)
		}
	}
	if replayed > 0 {
		j.logger.Info("insert journal: sent again the blocks in flight when the last run stopped", zap.Int("blocks", replayed))
	}
	j.recovered = true
	return nil
}

// resend sends a journalled block again under its own token.
func resend(ctx context.Context, s store.Store, data []byte) error {
	r := valueReader{b: data}
	version, err := r.str()
	if err != nil {
		return err
	}
	if version != journalVersion {
		return fmt.Errorf("%w: journal version %q", errCorrupt, version)
	}
	table, err := r.str()
	if err != nil {
		return err
	}
	token, err := r.str()
	if err != nil {
		return err
	}
	ncols, err := r.count(9)
	if err != nil {
		return err
	}
	cols := make([]string, ncols)
	for i := range cols {
		if cols[i], err = r.str(); err != nil {
			return err
		}
	}
	rows, err := r.rows()
	if err != nil {
		return err
	}
	bctx := store.WithInsertSettings(ctx, store.DedupSettings(token))
	b, err := s.PrepareBatch(bctx, table, cols)
	if err != nil {
		return fmt.Errorf("insert journal: prepare %s insert: %w", table, err)
	}
	for _, vals := range rows {
		if err := b.Append(vals...); err != nil {
			_ = b.Abort()
			return fmt.Errorf("%w: %s row: %w", errCorrupt, table, err)
		}
	}
	if err := b.Send(bctx); err != nil {
		return fmt.Errorf("insert journal: send %s block again: %w", table, err)
	}
	return nil
}

func (j *journal) close(ctx context.Context) error {
	if j == nil {
		return nil
	}
	return j.client.Close(ctx)
}

package store

import (
	"context"
	"maps"
	"time"
)

// InsertSettings are ClickHouse settings of one insert, by name, with
// values in ClickHouse's text form ("1", "abc").
type InsertSettings map[string]string

// Settings that make an insert idempotent: ClickHouse drops a block whose
// token it has already committed (within the table's de-duplication
// window: non_replicated_deduplication_window on a MergeTree,
// replicated_deduplication_window on a ReplicatedMergeTree), and with
// deduplicate_blocks_in_dependent_materialized_views the materialized
// views' target tables do the same.
const (
	SettingDedupToken   = "insert_deduplication_token"
	SettingDedupInViews = "deduplicate_blocks_in_dependent_materialized_views"
)

// DedupSettings are the settings of an insert whose retries must land
// once: token names the block's content, so a block sent again after a
// timeout that hid a commit, or replayed from a persistent queue after a
// crash, is dropped by the engine, rollups included.
func DedupSettings(token string) InsertSettings {
	return InsertSettings{SettingDedupToken: token, SettingDedupInViews: "1"}
}

type insertSettingsKey struct{}

// WithInsertSettings returns ctx carrying settings for the inserts that
// Store.PrepareBatch starts with it; settings already in ctx are kept
// unless s names them again. A context value rather than a new parameter
// keeps the Store interface as it was for every implementation and caller.
func WithInsertSettings(ctx context.Context, s InsertSettings) context.Context {
	merged := maps.Clone(InsertSettingsFrom(ctx))
	if merged == nil {
		merged = make(InsertSettings, len(s))
	}
	maps.Copy(merged, s)
	return context.WithValue(ctx, insertSettingsKey{}, merged)
}

// InsertSettingsFrom returns the insert settings ctx carries (nil when
// none). Store implementations read it in PrepareBatch; callers must not
// modify the map.
func InsertSettingsFrom(ctx context.Context) InsertSettings {
	s, _ := ctx.Value(insertSettingsKey{}).(InsertSettings)
	return s
}

// RetentionReporter is implemented by a store (or the extension that
// provides it) that knows how long its tables keep rows, so that writers
// need not accept rows the store would delete at once.
type RetentionReporter interface {
	// Retention is how long table keeps its rows; 0 means for ever. ok is
	// false when the store does not know (no such table, no setting).
	Retention(table string) (keep time.Duration, ok bool)
}

// ClusterReporter is implemented by a store whose tables live on a
// cluster: mutations that are not inserts (deleting a person's rows) must
// run ON CLUSTER to reach every replica's shard.
type ClusterReporter interface {
	// Cluster is the cluster's name, "" for a single server.
	Cluster() string
}

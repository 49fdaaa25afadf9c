package apikeys

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/refresh"
	"github.com/nexus-otel/nexus/internal/schema"
)

// Every collector behind a load balancer shares the store, and a key
// created or revoked through one of them must work, or stop working, on
// all of them: each reads the keys again every refresh interval. The
// table's fingerprint is read first, a single cheap aggregate, and the keys
// themselves only when it changed. Keeping the copy in step is the keys'
// business, not the API's: the API only learns that they changed.

// fingerprint sums up the api_keys table (sql/api_keys_fingerprint.sql).
func (ks *Store) fingerprint(ctx context.Context) (string, error) {
	return refresh.Scalar(ctx, ks.store, schema.SQL(ks.store, "api_keys_fingerprint"), nil, "API keys' versions")
}

// Refresh reloads the keys when the table changed; it reports whether the
// keys were replaced.
func (ks *Store) Refresh(ctx context.Context) (bool, error) {
	fp, err := ks.fingerprint(ctx)
	if err != nil {
		return false, err
	}
	ks.mu.RLock()
	same, gen := fp == ks.seen, ks.gen
	ks.mu.RUnlock()
	if same {
		return false, nil
	}
	byID, err := ks.read(ctx)
	if err != nil {
		return false, err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.gen != gen {
		// A write of this process landed meanwhile and may be missing
		// from what was read: keep the map, and since seen is not
		// updated, read again at the next tick.
		return false, nil
	}
	ks.byID, ks.seen = byID, fp
	ks.changedLocked()
	return true, nil
}

// RunRefresh reads the keys every interval until ctx ends, calling changed
// after each reload that replaced them. A failed read keeps the keys as
// they were and is logged once until reads succeed again.
func (ks *Store) RunRefresh(ctx context.Context, every time.Duration, changed func(), logger *zap.Logger) {
	refresh.Loop(ctx, every, "API keys", logger, ks.Refresh, changed)
}

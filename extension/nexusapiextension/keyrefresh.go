package nexusapiextension

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Keys are held in memory (every request is authenticated against them)
// and written through to the store, which every collector behind a load
// balancer shares. A key created or revoked through one collector must
// work, or stop working, on all of them: each reads the keys again every
// keys_refresh_interval. The table's fingerprint is read first, a single
// cheap aggregate, and the keys themselves only when it changed.

// fingerprint sums up the api_keys table: any write adds a row (a new
// version), which changes the count and the hash sum, even when another
// collector's clock put its version below the newest.
func (ks *keyStore) fingerprint(ctx context.Context) (string, error) {
	rows, err := ks.store.Query(ctx, "SELECT concat(toString(count()), '/', toString(max(version)), '/',"+
		" toString(sum(cityHash64(id, version)))) FROM "+ks.store.Database()+".api_keys", nil)
	if err != nil {
		return "", fmt.Errorf("read API keys' versions: %w", err)
	}
	defer rows.Close()
	var fp string
	if rows.Next() {
		if err := rows.Scan(&fp); err != nil {
			return "", fmt.Errorf("read API keys' versions: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read API keys' versions: %w", err)
	}
	return fp, nil
}

// refresh reloads the keys when the table changed; it reports whether the
// map was replaced.
func (ks *keyStore) refresh(ctx context.Context) (bool, error) {
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
	return true, nil
}

// usable tells whether key id still authenticates with a role that may
// stream: it exists, is not revoked, and its role is known.
func (ks *keyStore) usable(id string) bool {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	k, ok := ks.byID[id]
	return ok && k.RevokedAt == nil && roleRank[k.Role] >= roleRank[roleViewer]
}

// keysChanged applies a change of the keys to what outlives a request:
// open streams of keys that no longer authenticate are closed, and their
// rate-limit buckets dropped.
func (a *api) keysChanged() {
	if n := a.streams.closeUnless(a.keys.usable); n > 0 {
		a.logger.Info("closed live streams of revoked API keys", zap.Int("streams", n))
	}
	a.limiters.retain(a.keys.usable)
}

// startKeyRefresh reads the keys every keys_refresh_interval until
// stopKeyRefresh. A failed read keeps the keys as they were and is
// logged once until reads succeed again.
func (a *api) startKeyRefresh() {
	ctx, cancel := context.WithCancel(context.Background())
	a.refreshStop, a.refreshDone = cancel, make(chan struct{})
	every := a.cfg.KeysRefreshInterval
	go func() {
		defer close(a.refreshDone)
		tick := time.NewTicker(every)
		defer tick.Stop()
		failing := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			// A read never takes longer than a few refresh periods: a slow
			// store must not pile up refreshes.
			rctx, rcancel := context.WithTimeout(ctx, max(every*3, 5*time.Second))
			changed, err := a.keys.refresh(rctx)
			rcancel()
			switch {
			case err != nil && ctx.Err() == nil:
				if !failing {
					a.logger.Warn("cannot read API keys again; the keys as last read stay in force", zap.Error(err))
				}
				failing = true
				continue
			case err != nil:
				return
			case failing:
				a.logger.Info("API keys are read again")
				failing = false
			}
			if changed {
				a.keysChanged()
			}
		}
	}()
}

func (a *api) stopKeyRefresh() {
	if a.refreshStop != nil {
		a.refreshStop()
		<-a.refreshDone
	}
}

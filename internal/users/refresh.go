package users

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/schema"
)

// Every collector behind a load balancer shares the store, and a user
// created, changed or locked out through one of them must be so on all of
// them: each reads the users again every refresh interval. The table's
// fingerprint is read first, a single cheap aggregate, and the users
// themselves only when it changed.

// fingerprint sums up the users table: any write adds a row (a new
// version), which changes the count and the hash sum, even when another
// collector's clock put its version below the newest.
func (s *Store) fingerprint(ctx context.Context) (string, error) {
	rows, err := s.store.Query(ctx, "SELECT concat(toString(count()), '/', toString(max(version)), '/', "+
		"toString(sum(cityHash64(id, version)))) FROM "+schema.Table(s.store, Table), nil)
	if err != nil {
		return "", fmt.Errorf("read users' versions: %w", err)
	}
	defer rows.Close()
	var fp string
	if rows.Next() {
		if err := rows.Scan(&fp); err != nil {
			return "", fmt.Errorf("read users' versions: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read users' versions: %w", err)
	}
	return fp, nil
}

// Refresh reloads the users when the table changed; it reports whether
// they were replaced.
func (s *Store) Refresh(ctx context.Context) (bool, error) {
	fp, err := s.fingerprint(ctx)
	if err != nil {
		return false, err
	}
	s.mu.RLock()
	same, gen := fp == s.seen, s.gen
	s.mu.RUnlock()
	if same {
		return false, nil
	}
	byID, err := s.read(ctx)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		// A write of this process landed meanwhile and may be missing
		// from what was read: keep the map, and since seen is not
		// updated, read again at the next tick.
		return false, nil
	}
	s.byID, s.seen = byID, fp
	return true, nil
}

// RunRefresh reads the users every interval until ctx ends. A failed read
// keeps the users as they were and is logged once until reads succeed
// again.
func (s *Store) RunRefresh(ctx context.Context, every time.Duration, logger *zap.Logger) {
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
		_, err := s.Refresh(rctx)
		rcancel()
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				logger.Warn("cannot read users again; the users as last read stay in force", zap.Error(err))
			}
			failing = true
		case err != nil:
			return
		case failing:
			logger.Info("users are read again")
			failing = false
		}
	}
}

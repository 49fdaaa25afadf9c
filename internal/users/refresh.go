package users

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/refresh"
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
	return refresh.Scalar(ctx, s.store, "SELECT concat(toString(count()), '/', toString(max(version)), '/', "+
		"toString(sum(cityHash64(id, version)))) FROM "+schema.Table(s.store, Table), nil, "users' versions")
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
	refresh.Loop(ctx, every, "users", logger, s.Refresh, nil)
}

package sessions

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/refresh"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Table is the sessions' table.
const Table = "sessions"

// columns is the order of every read and write of the table.
var columns = []string{"id_hash", "user_id", "via", "client_addr", "user_agent", "created_at", "expires_at",
	"last_seen_at", "revoked_at", "version"}

var publicID = regexp.MustCompile(`^[0-9a-f]{16}$`)

const timeParam = "2006-01-02 15:04:05.000"

// nextVersion is a version above after, at the time when it can be: the
// table keeps the highest version of a session.
func nextVersion(after time.Time) time.Time {
	v := time.Now().UTC().Truncate(time.Microsecond)
	if !v.After(after) {
		v = after.Add(time.Microsecond)
	}
	return v
}

// revoked is r revoked at now, as its newest version.
func revoked(r record, now time.Time) record {
	at := now
	r.RevokedAt = &at
	r.version = nextVersion(r.version)
	return r
}

// send writes rows in one insert.
func (s *Store) send(ctx context.Context, rows ...record) error {
	b, err := s.store.PrepareBatch(ctx, Table, columns)
	if err != nil {
		return fmt.Errorf("write sessions: %w", err)
	}
	for _, r := range rows {
		var revokedAt any
		if r.RevokedAt != nil {
			revokedAt = *r.RevokedAt
		}
		if err := b.Append(r.hash, r.UserID, r.Via, r.ClientAddr, r.UserAgent, r.CreatedAt, r.ExpiresAt, r.LastSeenAt,
			revokedAt, r.version); err != nil {
			_ = b.Abort()
			return fmt.Errorf("write sessions: %w", err)
		}
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("write sessions: %w", err)
	}
	return nil
}

// read reads the newest version of the sessions not expired at now that
// match where (with params).
func (s *Store) read(ctx context.Context, now time.Time, where string, params store.Params) (map[string]*record, error) {
	if params == nil {
		params = store.Params{}
	}
	params["now"] = now.Format(timeParam)
	q := "SELECT " + strings.Join(columns, ", ") + " FROM " + schema.Table(s.store, Table) +
		" FINAL WHERE expires_at > {now:DateTime64(3, 'UTC')}"
	if where != "" {
		q += " AND " + where
	}
	rows, err := s.store.Query(ctx, q, params)
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	defer rows.Close()
	out := map[string]*record{}
	for rows.Next() {
		r := &record{}
		if err := rows.Scan(&r.hash, &r.UserID, &r.Via, &r.ClientAddr, &r.UserAgent, &r.CreatedAt, &r.ExpiresAt,
			&r.LastSeenAt, &r.RevokedAt, &r.version); err != nil {
			return nil, fmt.Errorf("read sessions: %w", err)
		}
		if len(r.hash) < 16 {
			continue
		}
		r.ID = r.hash[:16]
		r.CreatedAt, r.ExpiresAt, r.LastSeenAt, r.version = r.CreatedAt.UTC(), r.ExpiresAt.UTC(), r.LastSeenAt.UTC(), r.version.UTC()
		if r.RevokedAt != nil {
			t := r.RevokedAt.UTC()
			r.RevokedAt = &t
		}
		r.stored = r.LastSeenAt
		out[r.hash] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	return out, nil
}

// fetch reads the session of a secret not in memory (made on another
// collector since the last refresh) into memory. Only well-formed secrets
// are looked up, a few at a time: when more are waiting, the secret is
// answered as unknown.
func (s *Store) fetch(ctx context.Context, secret, h string) error {
	if !wellFormed(secret) {
		return ErrNoSession
	}
	select {
	case s.misses <- struct{}{}:
	default:
		return ErrNoSession
	}
	defer func() { <-s.misses }()
	now := s.now()
	got, err := s.read(ctx, now, "id_hash = {h:String}", store.Params{"h": h})
	if err != nil {
		return fmt.Errorf("%w (the store could not be asked: %w)", ErrNoSession, err)
	}
	r, ok := got[h]
	if !ok {
		return ErrNoSession
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byHash[h]; !ok {
		s.admitLocked(r, now)
	}
	return nil
}

// fingerprint sums up the sessions table: any write adds a row (a new
// version), which changes the count and the hash sum. A session in use
// writes a row a minute, so a busy installation reads its sessions again
// about every refresh.
func (s *Store) fingerprint(ctx context.Context) (string, error) {
	return refresh.Scalar(ctx, s.store, "SELECT concat(toString(count()), '/', toString(max(version)), '/', "+
		"toString(sum(cityHash64(id_hash, version)))) FROM "+schema.Table(s.store, Table), nil, "sessions' versions")
}

// Load reads the sessions from the store.
func (s *Store) Load(ctx context.Context) error {
	_, err := s.reload(ctx, true)
	return err
}

// Refresh reads the sessions again when the table changed; it reports
// whether it did. Sessions past their expiry are forgotten.
func (s *Store) Refresh(ctx context.Context) (bool, error) {
	return s.reload(ctx, false)
}

func (s *Store) reload(ctx context.Context, always bool) (bool, error) {
	fp, err := s.fingerprint(ctx)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	same := fp == s.seen
	s.mu.Unlock()
	if same && !always {
		return false, nil
	}
	began := time.Now()
	now := s.now()
	read, err := s.read(ctx, now, "", nil)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mergeLocked(read, began, now)
	s.seen = fp
	return true, nil
}

// mergeLocked makes read the sessions in memory, keeping what this process
// knows better: a version it wrote above the one read, a later last use,
// and sessions it wrote after the read began. The caller holds s.mu.
func (s *Store) mergeLocked(read map[string]*record, began, now time.Time) {
	for h, mine := range s.byHash {
		if !now.Before(mine.ExpiresAt) {
			continue
		}
		theirs, ok := read[h]
		switch {
		case !ok:
			if mine.wrote.After(began) {
				read[h] = mine
			}
		case mine.version.After(theirs.version):
			if theirs.LastSeenAt.After(mine.LastSeenAt) {
				mine.LastSeenAt = theirs.LastSeenAt
			}
			read[h] = mine
		default:
			if mine.LastSeenAt.After(theirs.LastSeenAt) {
				theirs.LastSeenAt = mine.LastSeenAt
			}
			if mine.stored.After(theirs.stored) {
				theirs.stored = mine.stored
			}
		}
	}
	s.byHash = make(map[string]*record, min(len(read), s.max))
	all := make([]*record, 0, len(read))
	for _, r := range read {
		all = append(all, r)
	}
	if len(all) > s.max {
		// Beyond the bound, the sessions used most recently are kept.
		leastRecentFirst(all)
		all = all[len(all)-s.max:]
	}
	for _, r := range all {
		s.byHash[r.hash] = r
	}
}

// RunRefresh reads the sessions every interval until ctx ends. A failed
// read keeps the sessions as they were and is logged once until reads
// succeed again.
func (s *Store) RunRefresh(ctx context.Context, every time.Duration, logger *zap.Logger) {
	refresh.Loop(ctx, every, "sessions", logger, s.Refresh, nil)
}

// Revoke ends the session of public id. A session unknown, expired or
// already revoked is a *domainerr.NotFoundError. The table is asked, not
// memory: the session may have been made on another collector a moment
// ago.
func (s *Store) Revoke(ctx context.Context, id string) (Session, error) {
	if !publicID.MatchString(id) {
		return Session{}, domainerr.NotFound("no session " + id)
	}
	now := s.now()
	got, err := s.read(ctx, now, "startsWith(id_hash, {id:String}) AND revoked_at IS NULL", store.Params{"id": id})
	if err != nil {
		return Session{}, fmt.Errorf("revoke session %s: %w", id, err)
	}
	if len(got) == 0 {
		return Session{}, domainerr.NotFound("no session " + id)
	}
	rs, err := s.revoke(ctx, got, now)
	if err != nil {
		return Session{}, fmt.Errorf("revoke session %s: %w", id, err)
	}
	return rs[0], nil
}

// RevokeUser ends every session of userID (signing out everywhere), on
// every collector, and tells how many it ended.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	now := s.now()
	got, err := s.read(ctx, now, "user_id = {user:String} AND revoked_at IS NULL", store.Params{"user": userID})
	if err != nil {
		return 0, fmt.Errorf("revoke the sessions of user %s: %w", userID, err)
	}
	// Sessions this process wrote after the read began are in memory.
	s.mu.Lock()
	for h, r := range s.byHash {
		if _, ok := got[h]; !ok && r.UserID == userID && r.RevokedAt == nil && now.Before(r.ExpiresAt) {
			c := *r
			got[h] = &c
		}
	}
	s.mu.Unlock()
	if len(got) == 0 {
		return 0, nil
	}
	rs, err := s.revoke(ctx, got, now)
	if err != nil {
		return 0, fmt.Errorf("revoke the sessions of user %s: %w", userID, err)
	}
	return len(rs), nil
}

// revoke writes sessions revoked at now, above both the version read and
// the one in memory, and marks the ones in memory revoked.
func (s *Store) revoke(ctx context.Context, sessions map[string]*record, now time.Time) ([]Session, error) {
	rows := make([]record, 0, len(sessions))
	s.mu.Lock()
	for h, r := range sessions {
		if mine, ok := s.byHash[h]; ok && mine.version.After(r.version) {
			r.version = mine.version
		}
		rows = append(rows, revoked(*r, now))
	}
	s.mu.Unlock()
	if err := s.send(ctx, rows...); err != nil {
		return nil, err
	}
	out := make([]Session, 0, len(rows))
	s.mu.Lock()
	defer s.mu.Unlock()
	wrote := time.Now()
	for _, r := range rows {
		if _, ok := s.byHash[r.hash]; ok {
			r.wrote = wrote
			s.byHash[r.hash] = &r
		}
		out = append(out, r.Session)
	}
	return out, nil
}

// Package sessions is the browser sessions of people signed in to Nexus,
// held server-side: the cookie carries a random secret, the sessions table
// only its SHA-256. A session ends at its expiry, after an idle timeout
// without use, or when revoked (signing out, or an admin signing a user
// out everywhere). Sessions are kept in memory — every request of a
// browser looks its session up — and written through to the table, which
// every collector behind a load balancer reads again when it changes
// (table.go). A secret this collector has not read yet (a sign-in on
// another collector a moment ago) is looked up in the table.
//
// CSRF tokens are derived from the session secret (CSRFToken), so that
// nothing more is stored and a token is worth nothing without the cookie.
package sessions

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/store"
)

// Prefix marks session secrets (API keys have nxs_), so that a secret
// scanner recognises them.
const Prefix = "nxss_"

// How a session was signed in.
const (
	ViaPassword = "password"
	ViaOIDC     = "oidc"
)

// The errors of Lookup. Each is an ErrNoSession (errors.Is): a caller
// answers them all alike, and tells them apart only in its logs.
var (
	ErrNoSession = errors.New("no such session")
	ErrExpired   = fmt.Errorf("%w: expired", ErrNoSession)
	ErrIdle      = fmt.Errorf("%w: idle too long", ErrNoSession)
	ErrRevoked   = fmt.Errorf("%w: revoked", ErrNoSession)
)

// Bounds: a session's fields come from request headers, and all of them
// are kept in memory.
const (
	// maxSessions is how many sessions a collector keeps in memory.
	maxSessions = 100_000
	// maxPerUser stops one account that signs in again and again from
	// pushing everyone else's sessions out: its own oldest go first.
	maxPerUser    = 100
	maxUserID     = 128
	maxClientAddr = 64
	maxUserAgent  = 512
	// touchEvery is how often a session in use has its last use stored:
	// often enough for every collector's idle timeout, rarely enough not
	// to write a row per request.
	touchEvery = time.Minute
)

// Session is a session as shown: never its secret.
type Session struct {
	// ID is the public id (the first 16 hex characters of the secret's
	// hash), for listing and revoking.
	ID         string     `json:"id"`
	UserID     string     `json:"userId"`
	Via        string     `json:"via"`
	ClientAddr string     `json:"clientAddr"`
	UserAgent  string     `json:"userAgent"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	LastSeenAt time.Time  `json:"lastSeenAt"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
}

// Options tune a Store; zero fields take their defaults.
type Options struct {
	// TTL is how long a session lasts at most: 12 hours by default.
	TTL time.Duration
	// IdleTimeout ends a session unused this long: 30 minutes by default.
	IdleTimeout time.Duration
	// Now is the clock (tests); time.Now by default.
	Now func() time.Time
}

// record is a session as stored.
type record struct {
	Session
	hash    string
	version time.Time
	// stored is the last use the table holds.
	stored time.Time
	// wrote is when this process wrote the record (zero when read): a
	// reload that began before it cannot have seen it.
	wrote time.Time
}

// Store keeps the sessions in memory and writes every change through to
// the sessions table.
type Store struct {
	store store.Store
	o     Options
	// max is maxSessions (smaller in tests).
	max int
	// misses bounds the table reads for secrets not in memory: anyone can
	// send made-up cookies, and a flood of them must not become a flood
	// of queries.
	misses chan struct{}

	mu     sync.Mutex
	byHash map[string]*record
	seen   string
}

// NewStore is the sessions of s, empty until Load.
func NewStore(s store.Store, o Options) *Store {
	if o.TTL <= 0 {
		o.TTL = 12 * time.Hour
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{store: s, o: o, max: maxSessions, misses: make(chan struct{}, 4),
		byHash: map[string]*record{}}
}

func (s *Store) now() time.Time { return s.o.Now().UTC().Truncate(time.Millisecond) }

// hashOf is SHA-256: a secret is 256 random bits, so a slow hash adds
// nothing but latency to every request.
func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// wellFormed tells whether secret could be one Create made: only those
// are worth a table read.
func wellFormed(secret string) bool {
	if !strings.HasPrefix(secret, Prefix) || len(secret) != len(Prefix)+43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(secret[len(Prefix):])
	return err == nil && len(b) == 32
}

// clean is s as valid printable UTF-8 of at most n bytes, cut at a
// character: the fields are recorded whatever a client sends.
func clean(s string, n int) string {
	s = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return -1
		}
		return c
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// live tells whether r may be used at now, and why not.
func (s *Store) live(r *record, now time.Time) error {
	switch {
	case r.RevokedAt != nil:
		return ErrRevoked
	case !now.Before(r.ExpiresAt):
		return ErrExpired
	case now.Sub(r.LastSeenAt) >= s.o.IdleTimeout:
		return ErrIdle
	}
	return nil
}

// Create starts a session of userID and returns its secret, which is
// nowhere else ever again (the caller puts it in the cookie). via is
// ViaPassword or ViaOIDC; clientAddr and userAgent are recorded cut to
// bounds. A user's sessions beyond a hundred, and the oldest of a
// collector's beyond its bound, are revoked.
func (s *Store) Create(ctx context.Context, userID, via, clientAddr, userAgent string) (string, Session, error) {
	var fields []domainerr.Field
	if userID == "" || len(userID) > maxUserID || clean(userID, maxUserID) != userID {
		fields = append(fields, domainerr.Field{Field: "user_id", Message: "required, at most 128 printable characters"})
	}
	if via != ViaPassword && via != ViaOIDC {
		fields = append(fields, domainerr.Field{Field: "via", Message: "must be password or oidc"})
	}
	if err := domainerr.Invalid("invalid session", fields...); err != nil {
		return "", Session{}, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Session{}, fmt.Errorf("generate a session secret: %w", err)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	h := hashOf(secret)
	now := s.now()
	r := &record{Session: Session{ID: h[:16], UserID: userID, Via: via, ClientAddr: clean(clientAddr, maxClientAddr),
		UserAgent: clean(userAgent, maxUserAgent), CreatedAt: now, ExpiresAt: now.Add(s.o.TTL), LastSeenAt: now},
		hash: h, version: nextVersion(time.Time{}), stored: now}
	evict := s.evictees(userID, now)
	rows := []record{*r}
	for _, e := range evict {
		rows = append(rows, revoked(e, now))
	}
	if err := s.send(ctx, rows...); err != nil {
		return "", Session{}, fmt.Errorf("create session: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.wrote = time.Now()
	for _, e := range rows[1:] {
		if old, ok := s.byHash[e.hash]; ok && e.version.After(old.version) {
			e.wrote = r.wrote
			s.byHash[e.hash] = &e
		}
	}
	s.admitLocked(r, now)
	return secret, r.Session, nil
}

// evictees is the sessions to revoke for a new one of userID: the user's
// least recently used beyond maxPerUser, and the collector's beyond max.
// Dead sessions (revoked, expired) are only forgotten, which needs no
// write.
func (s *Store) evictees(userID string, now time.Time) []record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byHash) >= s.max {
		s.dropDeadLocked(now)
	}
	var mine, all []*record
	for _, r := range s.byHash {
		if r.RevokedAt != nil || !now.Before(r.ExpiresAt) {
			continue
		}
		if r.UserID == userID {
			mine = append(mine, r)
		}
		all = append(all, r)
	}
	var out []record
	chosen := map[string]bool{}
	if n := len(mine) - maxPerUser + 1; n > 0 {
		leastRecentFirst(mine)
		for _, r := range mine[:n] {
			chosen[r.hash] = true
			out = append(out, *r)
		}
	}
	if n := len(all) - len(out) - s.max + 1; n > 0 {
		leastRecentFirst(all)
		for _, r := range all {
			if n == 0 {
				break
			}
			if !chosen[r.hash] {
				out = append(out, *r)
				n--
			}
		}
	}
	return out
}

// admitLocked keeps r, making room within max by dropping the dead and
// then the oldest from memory; the caller holds s.mu.
func (s *Store) admitLocked(r *record, now time.Time) {
	if _, ok := s.byHash[r.hash]; !ok && len(s.byHash) >= s.max {
		s.dropDeadLocked(now)
		if len(s.byHash) >= s.max {
			all := make([]*record, 0, len(s.byHash))
			for _, o := range s.byHash {
				all = append(all, o)
			}
			leastRecentFirst(all)
			for _, o := range all[:len(all)-s.max+1] {
				s.forgetLocked(o)
			}
		}
	}
	s.byHash[r.hash] = r
}

// dropDeadLocked forgets the sessions that can never be used again.
func (s *Store) dropDeadLocked(now time.Time) {
	for _, r := range s.byHash {
		if r.RevokedAt != nil || !now.Before(r.ExpiresAt) {
			s.forgetLocked(r)
		}
	}
}

func (s *Store) forgetLocked(r *record) { delete(s.byHash, r.hash) }

// leastRecentFirst orders sessions by last use: the ones to let go first
// are those no one is using.
func leastRecentFirst(rs []*record) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		return a.LastSeenAt.Before(b.LastSeenAt) || (a.LastSeenAt.Equal(b.LastSeenAt) && a.ID < b.ID)
	})
}

func oldestFirst(rs []*record) {
	sort.Slice(rs, func(i, j int) bool {
		return rs[i].CreatedAt.Before(rs[j].CreatedAt) || (rs[i].CreatedAt.Equal(rs[j].CreatedAt) && rs[i].ID < rs[j].ID)
	})
}

// Lookup is the session of secret, when it may be used: otherwise
// ErrNoSession, ErrExpired, ErrIdle or ErrRevoked, all of them
// ErrNoSession. Using a session marks it seen, in memory at once and in
// the table at most once a minute.
func (s *Store) Lookup(ctx context.Context, secret string) (Session, error) {
	if secret == "" || len(secret) > 256 {
		return Session{}, ErrNoSession
	}
	h := hashOf(secret)
	s.mu.Lock()
	_, ok := s.byHash[h]
	s.mu.Unlock()
	if !ok {
		if err := s.fetch(ctx, secret, h); err != nil {
			return Session{}, err
		}
	}
	now := s.now()
	s.mu.Lock()
	r, ok := s.byHash[h]
	if !ok {
		s.mu.Unlock()
		return Session{}, ErrNoSession
	}
	if err := s.live(r, now); err != nil {
		if errors.Is(err, ErrExpired) {
			s.forgetLocked(r)
		}
		s.mu.Unlock()
		return Session{}, err
	}
	if now.After(r.LastSeenAt) {
		r.LastSeenAt = now
	}
	if now.Sub(r.stored) < touchEvery {
		defer s.mu.Unlock()
		return r.Session, nil
	}
	// The touch's version is just above the one this process knows, not
	// the time: a revocation written meanwhile by another collector
	// (versioned at its time) stays above it, and is not undone.
	r.version = r.version.Add(time.Microsecond)
	r.stored, r.wrote = now, time.Now()
	row := *r
	s.mu.Unlock()
	if err := s.send(ctx, row); err != nil {
		// The session is fine; only its last use is not stored. Other
		// collectors may end it as idle early: try again next request.
		s.mu.Lock()
		if r.stored.Equal(now) {
			r.stored = time.Time{}
		}
		s.mu.Unlock()
	}
	return row.Session, nil
}

// List is the sessions of userID that may be used now, oldest first.
func (s *Store) List(userID string) []Session {
	now := s.now()
	s.mu.Lock()
	var rs []*record
	for _, r := range s.byHash {
		if r.UserID == userID && s.live(r, now) == nil {
			rs = append(rs, r)
		}
	}
	oldestFirst(rs)
	out := make([]Session, len(rs))
	for i, r := range rs {
		out[i] = r.Session
	}
	s.mu.Unlock()
	return out
}

// csrfLabel versions the derivation, so that the key serves nothing else.
const csrfLabel = "nexus-csrf-v1"

// CSRFToken is the anti-forgery token of the session of secret:
// HMAC-SHA256 keyed with the secret, URL-safe. It is derived, not stored:
// a page gets it from the server, and a forged request from another site,
// which cannot read the cookie, cannot make it.
func CSRFToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF tells whether token is the CSRF token of secret, in constant
// time.
func CheckCSRF(secret, token string) bool {
	if secret == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(CSRFToken(secret)), []byte(token)) == 1
}

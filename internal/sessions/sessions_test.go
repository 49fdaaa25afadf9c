package sessions

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newClock starts at the present: the table's TTL drops rows long past
// their expiry as they are inserted.
func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Minute)} }

func newStore(t *testing.T, s store.Store, o Options) *Store {
	t.Helper()
	ss := NewStore(s, o)
	if err := ss.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return ss
}

func create(t *testing.T, ss *Store, user string) (string, Session) {
	t.Helper()
	secret, sess, err := ss.Create(t.Context(), user, ViaPassword, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return secret, sess
}

// rowsOf counts the stored versions of the session of secret.
func rowsOf(t *testing.T, s store.Store, secret string) int {
	t.Helper()
	rows, err := s.Query(t.Context(), "SELECT count() FROM "+schema.Table(s, Table)+" WHERE id_hash = {h:String}",
		store.Params{"h": hashOf(secret)})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n uint64
	if !rows.Next() || rows.Scan(&n) != nil {
		t.Fatalf("count: %v", rows.Err())
	}
	return int(n)
}

// A session is found by its secret, which is stored nowhere: the table
// has its SHA-256, the public id the hash's first 16 characters. What a
// client sends is recorded cut to bounds; a bad session is refused field
// by field.
func TestCreateAndLookup(t *testing.T) {
	s, _ := storetest.Start(t, "sessions_create")
	ctx := t.Context()
	ss := newStore(t, s, Options{})
	secret, sess, err := ss.Create(ctx, "usr_1", ViaOIDC, "2001:db8::1", "Mozilla/5.0\x00\n"+strings.Repeat("é", 400))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, Prefix) || len(secret) != len(Prefix)+43 || sess.ID != hashOf(secret)[:16] || strings.Contains(sess.ID, secret) {
		t.Fatalf("secret %q session %+v", secret, sess)
	}
	if len(sess.UserAgent) > maxUserAgent || strings.ContainsAny(sess.UserAgent, "\x00\n") || !strings.HasPrefix(sess.UserAgent, "Mozilla/5.0é") {
		t.Fatalf("user agent %q", sess.UserAgent)
	}
	if !sess.ExpiresAt.Equal(sess.CreatedAt.Add(12 * time.Hour)) {
		t.Fatalf("expires %v, created %v", sess.ExpiresAt, sess.CreatedAt)
	}
	if rowsOf(t, s, secret) != 1 {
		t.Fatal("the session's hash is not stored")
	}
	leaked := storetest.Scalar(t, s, "SELECT toString(countIf(position(id_hash, 'nxs_') > 0)) FROM "+schema.Table(s, Table))
	if leaked != "0" {
		t.Fatal("a secret is stored")
	}
	got, err := ss.Lookup(ctx, secret)
	if err != nil || got.ID != sess.ID || got.UserID != "usr_1" || got.Via != ViaOIDC {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	for _, bad := range []string{"", Prefix, "nxs_" + strings.Repeat("A", 43), secret + "x", Prefix + strings.Repeat("A", 43), strings.Repeat("x", 10_000)} {
		if _, err := ss.Lookup(ctx, bad); err != ErrNoSession { //nolint:errorlint // the very same error
			t.Fatalf("lookup %.20q: %v", bad, err)
		}
	}
	_, _, err = ss.Create(ctx, "", "magic-link", "", "")
	if inv, ok := domainerr.AsInvalid(err); !ok || len(inv.Fields) != 2 || inv.Fields[0].Field != "user_id" || inv.Fields[1].Field != "via" {
		t.Fatalf("invalid session: %v", err)
	}
}

// A session ends after the idle timeout without use and at its expiry
// whatever its use; both are ErrNoSession. Its last use is stored at most
// once a minute, and another store reads it; expired sessions are
// forgotten on refresh.
func TestExpiryIdleAndTouch(t *testing.T) {
	s, _ := storetest.Start(t, "sessions_expiry")
	ctx := t.Context()
	clk := newClock()
	opts := Options{TTL: time.Hour, IdleTimeout: 10 * time.Minute, Now: clk.Now}
	ss := newStore(t, s, opts)
	idle, _ := create(t, ss, "usr_idle")
	busy, _ := create(t, ss, "usr_busy")

	clk.Add(20 * time.Second)
	if _, err := ss.Lookup(ctx, busy); err != nil {
		t.Fatal(err)
	}
	if rowsOf(t, s, busy) != 1 {
		t.Fatal("a use within a minute was stored")
	}
	clk.Add(50 * time.Second)
	if got, err := ss.Lookup(ctx, busy); err != nil || !got.LastSeenAt.Equal(clk.Now()) {
		t.Fatalf("lookup: %+v %v", got, err)
	}
	if rowsOf(t, s, busy) != 2 {
		t.Fatal("a use after a minute was not stored")
	}
	other := newStore(t, s, opts)
	if got := other.List("usr_busy"); len(got) != 1 || !got[0].LastSeenAt.Equal(clk.Now()) {
		t.Fatalf("another store read %+v", got)
	}

	clk.Add(9 * time.Minute)
	if _, err := ss.Lookup(ctx, busy); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Lookup(ctx, idle); !errors.Is(err, ErrIdle) || !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle: %v", err)
	}
	if got := ss.List("usr_idle"); len(got) != 0 {
		t.Fatalf("an idle session listed: %+v", got)
	}
	expiry := clk.Now().Add(time.Hour - 10*time.Minute - 10*time.Second)
	for clk.Now().Add(9 * time.Minute).Before(expiry) {
		clk.Add(9 * time.Minute)
		if _, err := ss.Lookup(ctx, busy); err != nil {
			t.Fatalf("in use at %v: %v", clk.Now(), err)
		}
	}
	clk.Add(time.Hour)
	if _, err := ss.Lookup(ctx, busy); !errors.Is(err, ErrExpired) || !errors.Is(err, ErrNoSession) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	other.mu.Lock()
	n := len(other.byHash)
	other.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d expired sessions kept after a refresh", n)
	}
}

// Revoking ends a session at once on its store and, after a refresh, on
// another; a session revoked or unknown is not found. A session made on
// another collector is found before any refresh.
func TestRevoke(t *testing.T) {
	s, _ := storetest.Start(t, "sessions_revoke")
	ctx := t.Context()
	a := newStore(t, s, Options{})
	b := newStore(t, s, Options{})
	s1, sess1 := create(t, a, "usr_ann")
	s2, sess2 := create(t, a, "usr_ann")
	if got, err := b.Lookup(ctx, s1); err != nil || got.ID != sess1.ID {
		t.Fatalf("a session of another collector: %+v %v", got, err)
	}
	revoked, err := a.Revoke(ctx, sess1.ID)
	if err != nil || revoked.RevokedAt == nil || revoked.ID != sess1.ID {
		t.Fatalf("revoke: %+v %v", revoked, err)
	}
	if _, err := a.Lookup(ctx, s1); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after revoking: %v", err)
	}
	if _, err := b.Lookup(ctx, s1); err != nil {
		t.Fatalf("the other store knew before reading: %v", err)
	}
	if changed, err := b.Refresh(ctx); err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if _, err := b.Lookup(ctx, s1); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after refresh: %v", err)
	}
	for _, id := range []string{sess1.ID, "0123456789abcdef", "' OR 1=1 --", ""} {
		if _, err := a.Revoke(ctx, id); err == nil {
			t.Fatalf("revoked %q", id)
		} else if _, ok := domainerr.AsNotFound(err); !ok {
			t.Fatalf("revoke %q: %v", id, err)
		}
	}
	if got := a.List("usr_ann"); len(got) != 1 || got[0].ID != sess2.ID {
		t.Fatalf("list %+v", got)
	}
	if _, err := a.Lookup(ctx, s2); err != nil {
		t.Fatal(err)
	}
}

// Signing a user out everywhere ends the sessions made on every
// collector, and no one else's.
func TestRevokeUser(t *testing.T) {
	s, _ := storetest.Start(t, "sessions_revoke_user")
	ctx := t.Context()
	a := newStore(t, s, Options{})
	b := newStore(t, s, Options{})
	onA1, _ := create(t, a, "usr_ann")
	onA2, _ := create(t, a, "usr_ann")
	onB, _ := create(t, b, "usr_ann")
	bob, _ := create(t, a, "usr_bob")
	if n, err := a.RevokeUser(ctx, "usr_ann"); err != nil || n != 3 {
		t.Fatalf("revoke user: %d %v", n, err)
	}
	if _, err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for st, secret := range map[*Store]string{a: onA1, b: onA2} {
		if _, err := st.Lookup(ctx, secret); !errors.Is(err, ErrRevoked) {
			t.Fatalf("a session lived on: %v", err)
		}
	}
	if _, err := b.Lookup(ctx, onB); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the other collector's session lived on: %v", err)
	}
	if _, err := a.Lookup(ctx, bob); err != nil {
		t.Fatalf("another user's session: %v", err)
	}
	if len(a.List("usr_ann")) != 0 || len(b.List("usr_ann")) != 0 || len(a.List("usr_bob")) != 1 {
		t.Fatal("lists after signing out everywhere")
	}
	if n, err := a.RevokeUser(ctx, "usr_ann"); err != nil || n != 0 {
		t.Fatalf("again: %d %v", n, err)
	}
}

// A collector that has not seen a revocation yet and stores a use of the
// session does not undo it: the revocation's version stays above.
func TestTouchDoesNotUndoRevocation(t *testing.T) {
	s, _ := storetest.Start(t, "sessions_touch_revoked")
	ctx := t.Context()
	clk := newClock()
	opts := Options{Now: clk.Now}
	a := newStore(t, s, opts)
	secret, sess := create(t, a, "usr_ann")
	b := newStore(t, s, opts)
	if _, err := b.Revoke(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Minute)
	if _, err := a.Lookup(ctx, secret); err != nil {
		t.Fatalf("the stale store: %v", err)
	}
	if rowsOf(t, s, secret) != 3 {
		t.Fatal("the use was not stored")
	}
	fresh := newStore(t, s, opts)
	if _, err := fresh.Lookup(ctx, secret); !errors.Is(err, ErrRevoked) {
		t.Fatalf("a use undid a revocation: %v", err)
	}
	if _, err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Lookup(ctx, secret); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after refresh: %v", err)
	}
}

// Memory is bounded: beyond a collector's bound the least recently used
// session is revoked, and one user's sessions beyond a hundred push out
// only that user's own.
func TestBounds(t *testing.T) {
	s, _ := storetest.Start(t, "sessions_bounds")
	ctx := t.Context()
	clk := newClock()
	ss := newStore(t, s, Options{Now: clk.Now})
	ss.max = 5
	var secrets []string
	for i := 0; i < 6; i++ {
		clk.Add(time.Second)
		secret, _ := create(t, ss, "usr_"+strconv.Itoa(i))
		secrets = append(secrets, secret)
	}
	if _, err := ss.Lookup(ctx, secrets[0]); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the least recently used session: %v", err)
	}
	ss.mu.Lock()
	n := len(ss.byHash)
	ss.mu.Unlock()
	if n > 5 {
		t.Fatalf("%d sessions in memory", n)
	}
	for _, secret := range secrets[1:] {
		if _, err := ss.Lookup(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}

	per := newStore(t, s, Options{Now: clk.Now})
	first, _ := create(t, per, "usr_many")
	other, _ := create(t, per, "usr_other")
	for i := 0; i < maxPerUser; i++ {
		clk.Add(time.Millisecond)
		create(t, per, "usr_many")
	}
	if _, err := per.Lookup(ctx, first); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the user's oldest session: %v", err)
	}
	if got := per.List("usr_many"); len(got) != maxPerUser {
		t.Fatalf("%d sessions of one user", len(got))
	}
	if _, err := per.Lookup(ctx, other); err != nil {
		t.Fatalf("another user's session: %v", err)
	}
}

// The CSRF token is derived from the session secret: right for its
// session only.
func TestCSRF(t *testing.T) {
	a, b := Prefix+strings.Repeat("a", 43), Prefix+strings.Repeat("b", 43)
	tok := CSRFToken(a)
	if len(tok) != 43 || tok == CSRFToken(b) || tok != CSRFToken(a) || strings.Contains(tok, "aaaa") {
		t.Fatalf("token %q", tok)
	}
	if !CheckCSRF(a, tok) || CheckCSRF(b, tok) || CheckCSRF(a, tok[:42]) || CheckCSRF(a, "") || CheckCSRF("", CSRFToken("")) {
		t.Fatal("CSRF check")
	}
}

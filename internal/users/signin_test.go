package users

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

const annPassword = "ann's long password"

func lockedUntil(t *testing.T, err error) time.Time {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("not locked out: %v", err)
	}
	return le.Until
}

// Every refusal but a lock-out is the same error; MaxFailures failures in
// a row lock an email out, account or not, until the lock-out ends; a
// success starts the count again; and the lock-out of a user is in the
// table, for a second store to see.
func TestAuthenticate(t *testing.T) {
	s, _ := storetest.Start(t, "users_authenticate")
	ctx := t.Context()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts := Options{MaxFailures: 3, LockOut: 10 * time.Minute, Now: clk.Now}
	us := newStore(t, s, opts)
	ann, err := us.Create(ctx, NewUser{Email: "ann@example.com", Name: "Ann", Password: annPassword})
	if err != nil {
		t.Fatal(err)
	}
	old, err := us.Create(ctx, NewUser{Email: "old@example.com", Name: "Old", Password: annPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := us.Deactivate(ctx, old.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := us.Create(ctx, NewUser{Email: "sso@example.com", Name: "SSO"}); err != nil {
		t.Fatal(err)
	}

	if u, err := us.Authenticate(ctx, "ANN@example.com", annPassword); err != nil || u.ID != ann.ID {
		t.Fatalf("right password: %+v %v", u, err)
	}
	for name, try := range map[string][2]string{
		"wrong password": {"ann@example.com", "not ann's password"},
		"unknown email":  {"nobody@example.com", annPassword},
		"inactive user":  {"old@example.com", annPassword},
		"no password":    {"sso@example.com", ""},
		"huge email":     {strings.Repeat("a", 300) + "@example.com", annPassword},
	} {
		if _, err := us.Authenticate(ctx, try[0], try[1]); err != ErrBadCredentials { //nolint:errorlint // the very same error
			t.Fatalf("%s: %v", name, err)
		}
	}

	// One failure above, one more, then a success: the count starts again.
	if _, err := us.Authenticate(ctx, "ann@example.com", "wrong"); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	if _, err := us.Authenticate(ctx, "ann@example.com", annPassword); err != nil {
		t.Fatal(err)
	}
	if r, _ := us.get(ann.ID); r.failures != 0 {
		t.Fatalf("a success left %d failures", r.failures)
	}
	for i := 0; i < 2; i++ {
		if _, err := us.Authenticate(ctx, "ann@example.com", "wrong"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	until := lockedUntil(t, func() error { _, err := us.Authenticate(ctx, "ann@example.com", "wrong"); return err }())
	if !until.Equal(clk.Now().Add(10 * time.Minute)) {
		t.Fatalf("locked until %v", until)
	}
	if _, err := us.Authenticate(ctx, "ann@example.com", annPassword); !lockedUntil(t, err).Equal(until) {
		t.Fatal("the right password passed a lock-out")
	}

	// Emails without an account lock out alike.
	for i := 0; i < 2; i++ {
		if _, err := us.Authenticate(ctx, "ghost@example.com", "guess"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("unknown failure %d: %v", i+1, err)
		}
	}
	if ghost := lockedUntil(t, func() error { _, err := us.Authenticate(ctx, "ghost@example.com", "guess"); return err }()); !ghost.Equal(until) {
		t.Fatalf("an unknown email locked until %v, a known one %v", ghost, until)
	}

	// The lock-out is stored: another store (a restart, another collector)
	// keeps it.
	us.bg.Wait()
	other := newStore(t, s, opts)
	if _, err := other.Authenticate(ctx, "ann@example.com", annPassword); !lockedUntil(t, err).Equal(until) {
		t.Fatal("the lock-out was not stored")
	}

	clk.Add(10*time.Minute + time.Second)
	if _, err := us.Authenticate(ctx, "ghost@example.com", "guess"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("after the lock-out, an unknown email: %v", err)
	}
	if _, err := us.Authenticate(ctx, "ann@example.com", annPassword); err != nil {
		t.Fatalf("after the lock-out: %v", err)
	}
	if changed, err := other.Refresh(ctx); err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if r, _ := other.get(ann.ID); r.failures != 0 || r.lockedUntil != nil {
		t.Fatalf("the success was not stored: %d failures, locked until %v", r.failures, r.lockedUntil)
	}
}

// The failures of made-up emails are remembered up to a bound, the least
// recently tried forgotten first.
func TestUnknownFailuresBounded(t *testing.T) {
	f := newFailures(3)
	now := time.Now()
	for _, e := range []string{"a", "b", "c", "a", "d", "e"} {
		f.fail(e, now, 2, time.Minute)
	}
	if f.len() != 3 {
		t.Fatalf("%d emails remembered", f.len())
	}
	// a, tried again, stayed (and locked on its second failure); b and c
	// were forgotten.
	if _, locked := f.locked("a", now); !locked {
		t.Fatal("a was forgotten although tried recently")
	}
	if _, ok := f.m["b"]; ok {
		t.Fatal("b, tried least recently, was remembered")
	}
	if _, locked := f.fail("e", now, 2, time.Minute); !locked {
		t.Fatal("e's second failure did not lock it")
	}
}

// New hashes use RFC 9106's second option by default; a hash made at
// another cost still verifies, and a sign-in brings it up to the
// default.
func TestDefaultArgon2AndUpgrade(t *testing.T) {
	s, _ := storetest.Start(t, "users_argon2")
	ctx := t.Context()
	cheap := newStore(t, s, Options{})
	ann, err := cheap.Create(ctx, NewUser{Email: "ann@example.com", Name: "Ann", Password: annPassword})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := cheap.get(ann.ID); !strings.HasPrefix(r.hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("cheap hash %s", r.hash)
	}
	def := NewStore(s, Options{})
	if err := def.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := def.Authenticate(ctx, "ann@example.com", annPassword); err != nil {
		t.Fatalf("a hash of another cost: %v", err)
	}
	stored := storedHash(t, s, ann.ID)
	parts := strings.Split(stored, "$")
	if !strings.HasPrefix(stored, "$argon2id$v=19$m=65536,t=3,p=2$") || len(parts) != 6 {
		t.Fatalf("upgraded hash %s", stored)
	}
	salt, _ := base64.RawStdEncoding.DecodeString(parts[4])
	key, _ := base64.RawStdEncoding.DecodeString(parts[5])
	if len(salt) != 16 || len(key) != 32 || strings.Contains(stored, annPassword) {
		t.Fatalf("salt %d bytes, key %d bytes", len(salt), len(key))
	}
	if _, err := def.Authenticate(ctx, "ann@example.com", annPassword); err != nil {
		t.Fatalf("the upgraded hash: %v", err)
	}
	if _, err := def.Authenticate(ctx, "ann@example.com", "wrong"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password against the default cost: %v", err)
	}
}

// Single sign-on finds the user by subject, else links the one with the
// email, else creates one without a password; the provider's roles
// replace the user's every time.
func TestLinkSSO(t *testing.T) {
	s, _ := storetest.Start(t, "users_sso")
	ctx := t.Context()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	us := newStore(t, s, Options{Now: clk.Now})
	const sub = "https://idp.example.com|1234"
	u, err := us.LinkSSO(ctx, sub, "Carol@Example.com", "Carol\x00 C.", map[string]string{"acme": apikeys.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	if u.HasPassword || u.SSOSubject != sub || u.Email != "carol@example.com" || u.Name != "Carol C." || u.Roles["acme"] != apikeys.RoleViewer || !u.Active {
		t.Fatalf("created %+v", u)
	}
	clk.Add(time.Minute)
	again, err := us.LinkSSO(ctx, sub, "carol@example.com", "", map[string]string{"acme": apikeys.RoleViewer})
	if err != nil || again.ID != u.ID || !again.UpdatedAt.Equal(u.UpdatedAt) {
		t.Fatalf("an unchanged sign-in wrote the user: %+v %v", again, err)
	}
	other := newStore(t, s, Options{})
	updated, err := us.LinkSSO(ctx, sub, "carol@example.com", "", map[string]string{"beta": apikeys.RoleAdmin})
	if err != nil || updated.ID != u.ID || len(updated.Roles) != 1 || updated.Roles["beta"] != apikeys.RoleAdmin {
		t.Fatalf("roles not replaced: %+v %v", updated, err)
	}
	if _, err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := other.Get(u.ID); RoleIn(got, "beta") != apikeys.RoleAdmin || RoleIn(got, "acme") != "" {
		t.Fatalf("another store read %+v", got)
	}

	pw, err := us.Create(ctx, NewUser{Email: "dan@example.com", Name: "Dan", Password: annPassword})
	if err != nil {
		t.Fatal(err)
	}
	linked, err := us.LinkSSO(ctx, "sub-dan", "DAN@example.com", "Daniel", nil)
	if err != nil || linked.ID != pw.ID || linked.SSOSubject != "sub-dan" || !linked.HasPassword || linked.Name != "Dan" {
		t.Fatalf("linked by email: %+v %v", linked, err)
	}
	if _, err := us.LinkSSO(ctx, "sub-mallory", "dan@example.com", "", nil); err == nil {
		t.Fatal("an email linked to one subject was taken by another")
	} else if _, ok := domainerr.AsConflict(err); !ok {
		t.Fatalf("another subject: %v", err)
	}
	if _, err := us.Deactivate(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := us.LinkSSO(ctx, sub, "carol@example.com", "", nil); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("an inactive user signed in: %v", err)
	}
	_, err = us.LinkSSO(ctx, "", "not an email", "", map[string]string{"acme": "owner"})
	if got := fieldsOf(t, err); strings.Join(got, " ") != "email roles.acme subject" {
		t.Fatalf("fields %v", got)
	}
}

// storedHash is user id's password hash as the table holds it.
func storedHash(t *testing.T, s store.Store, id string) string {
	t.Helper()
	rows, err := s.Query(t.Context(), "SELECT password_hash FROM "+schema.Table(s, Table)+" FINAL WHERE id = {id:String}", store.Params{"id": id})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var h string
	if !rows.Next() || rows.Scan(&h) != nil {
		t.Fatalf("no stored user %s: %v", id, rows.Err())
	}
	return h
}

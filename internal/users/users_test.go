package users

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// fast is a hash cost for tests: the defaults take 64 MiB and tens of
// milliseconds a hash. One test checks the defaults themselves.
var fast = Argon2Params{Time: 1, Memory: 64, Threads: 1}

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

func newStore(t *testing.T, s store.Store, o Options) *Store {
	t.Helper()
	if o.Argon2 == (Argon2Params{}) {
		o.Argon2 = fast
	}
	us := NewStore(s, o)
	if err := us.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	return us
}

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	inv, ok := domainerr.AsInvalid(err)
	if !ok {
		t.Fatalf("not invalid: %v", err)
	}
	var out []string
	for _, f := range inv.Fields {
		out = append(out, f.Field)
	}
	sort.Strings(out)
	return out
}

// A user is created, found by id and by email in any case, listed by
// tenant, changed, and deactivated; another store over the same table sees
// it all after Refresh, and what a caller gets back is its own copy.
func TestUserLifecycle(t *testing.T) {
	s, _ := storetest.Start(t, "users_lifecycle")
	ctx := t.Context()
	us := newStore(t, s, Options{})
	admin, err := us.Create(ctx, NewUser{Email: " Root@Example.COM ", Name: "Root", Password: "correct horse battery", InstallationAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	if admin.Email != "root@example.com" || !admin.Active || !admin.HasPassword || !strings.HasPrefix(admin.ID, "usr_") {
		t.Fatalf("admin %+v", admin)
	}
	ann, err := us.Create(ctx, NewUser{Email: "ann@example.com", Name: "Ann", Roles: map[string]string{"acme": apikeys.RoleEditor},
		Preferences: Preferences{TimeZone: "Europe/Paris", Contacts: map[string]string{"email": "ann@example.com", "sms": "+33612345678"},
			Notify: map[string][]string{"critical": {"sms", "email"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ann.HasPassword {
		t.Fatal("a user created without a password has one")
	}
	bob, err := us.Create(ctx, NewUser{Email: "bob@example.com", Name: "Bob", Roles: map[string]string{"beta": apikeys.RoleViewer}})
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := us.ByEmail("ANN@example.com"); !ok || u.ID != ann.ID {
		t.Fatalf("by email: %+v %v", u, ok)
	}
	ids := func(us []User) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	if got := ids(us.List("acme")); len(got) != 2 || got[0] != admin.ID || got[1] != ann.ID {
		t.Fatalf("acme's users %v", got)
	}
	if got := ids(us.List("")); len(got) != 3 || got[2] != bob.ID {
		t.Fatalf("all users %v", got)
	}
	if RoleIn(ann, "acme") != apikeys.RoleEditor || RoleIn(ann, "beta") != "" || RoleIn(admin, "beta") != apikeys.RoleAdmin {
		t.Fatal("roles in tenants")
	}

	// Copies: changing what was returned changes nothing stored.
	ann.Roles["acme"] = apikeys.RoleAdmin
	ann.Preferences.Notify["critical"][0] = "webhook"
	if u, _ := us.Get(ann.ID); u.Roles["acme"] != apikeys.RoleEditor || u.Preferences.Notify["critical"][0] != "sms" {
		t.Fatalf("the store shares its maps: %+v", u)
	}

	other := newStore(t, s, Options{})
	name := "Ann B."
	before, after, err := us.Update(ctx, ann.ID, Update{Name: &name, Roles: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if before.Name != "Ann" || after.Name != name || len(after.Roles) != 0 || after.Preferences.TimeZone != "Europe/Paris" {
		t.Fatalf("update: before %+v after %+v", before, after)
	}
	if _, _, err := us.Update(ctx, "usr_missing", Update{Name: &name}); err == nil {
		t.Fatal("updated a missing user")
	} else if _, ok := domainerr.AsNotFound(err); !ok {
		t.Fatalf("missing user: %v", err)
	}
	if _, err := us.Deactivate(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := us.Deactivate(ctx, bob.ID); err == nil {
		t.Fatal("deactivated twice")
	} else if _, ok := domainerr.AsConflict(err); !ok {
		t.Fatalf("deactivated twice: %v", err)
	}
	if u, _ := other.Get(ann.ID); u.Name != "Ann" {
		t.Fatal("the other store knew of the change before reading it")
	}
	if changed, err := other.Refresh(ctx); err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if changed, err := other.Refresh(ctx); err != nil || changed {
		t.Fatalf("refresh of an unchanged table: %v %v", changed, err)
	}
	got, _ := other.Get(ann.ID)
	if got.Name != name || len(got.Roles) != 0 || got.Preferences.Contacts["sms"] != "+33612345678" ||
		strings.Join(got.Preferences.Notify["critical"], ",") != "sms,email" || !got.CreatedAt.Equal(ann.CreatedAt) {
		t.Fatalf("read back: %+v", got)
	}
	if u, _ := other.Get(bob.ID); u.Active || RoleIn(u, "beta") != "" {
		t.Fatalf("deactivated user read back: %+v", u)
	}
}

// Every bad field is named, in one answer.
func TestValidationNamesFields(t *testing.T) {
	s, _ := storetest.Start(t, "users_validation")
	us := newStore(t, s, Options{})
	_, err := us.Create(t.Context(), NewUser{Email: "Root <root@example.com>", Name: "", Password: "short",
		Roles: map[string]string{"Bad Tenant": apikeys.RoleAdmin, "acme": "root"},
		Preferences: Preferences{TimeZone: "Mars/Olympus", DefaultTenant: "../x",
			Contacts: map[string]string{"pager": "x", "webhook": "ftp://example.com", "email": "ann@example.com"},
			Notify:   map[string][]string{"critical": {"sms"}, "debug": {"email"}}}})
	want := []string{"email", "name", "password", "preferences.contacts.pager", "preferences.contacts.webhook",
		"preferences.default_tenant", "preferences.notify.critical", "preferences.notify.debug",
		"preferences.time_zone", "roles.Bad Tenant", "roles.acme"}
	if got := fieldsOf(t, err); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("fields %v\nwant   %v", got, want)
	}
	many := map[string]string{}
	for _, k := range []string{"email", "sms", "slack", "webhook", "a", "b", "c", "d", "e"} {
		many[k] = "x"
	}
	huge := strings.Repeat("x", maxPasswordBytes+1)
	_, err = us.Create(t.Context(), NewUser{Email: "a@b.c", Name: "A", Password: huge, Preferences: Preferences{Contacts: many}})
	if got := fieldsOf(t, err); strings.Join(got, " ") != "password preferences.contacts" {
		t.Fatalf("bounds: %v", got)
	}
	if len(us.List("")) != 0 {
		t.Fatal("an invalid user was stored")
	}
}

// An email belongs to one user whatever its case; the last active
// installation admin can neither step down nor be deactivated.
func TestDuplicateEmailAndLastAdmin(t *testing.T) {
	s, _ := storetest.Start(t, "users_conflicts")
	ctx := t.Context()
	us := newStore(t, s, Options{})
	root, err := us.Create(ctx, NewUser{Email: "root@example.com", Name: "Root", InstallationAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := us.Create(ctx, NewUser{Email: "ROOT@example.com", Name: "Again"}); err == nil {
		t.Fatal("accepted a duplicate email")
	} else if _, ok := domainerr.AsConflict(err); !ok {
		t.Fatalf("duplicate: %v", err)
	}
	no := false
	for name, try := range map[string]func() error{
		"step down":  func() error { _, _, err := us.Update(ctx, root.ID, Update{InstallationAdmin: &no}); return err },
		"inactive":   func() error { _, _, err := us.Update(ctx, root.ID, Update{Active: &no}); return err },
		"deactivate": func() error { _, err := us.Deactivate(ctx, root.ID); return err },
	} {
		if err := try(); err == nil {
			t.Fatalf("%s: the last installation admin went", name)
		} else if _, ok := domainerr.AsConflict(err); !ok {
			t.Fatalf("%s: %v", name, err)
		}
	}
	yes := true
	second, err := us.Create(ctx, NewUser{Email: "ops@example.com", Name: "Ops"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := us.Update(ctx, second.ID, Update{InstallationAdmin: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := us.Deactivate(ctx, root.ID); err != nil {
		t.Fatalf("with another admin: %v", err)
	}
	if _, _, err := us.Update(ctx, second.ID, Update{InstallationAdmin: &no}); err == nil {
		t.Fatal("the new last admin stepped down")
	}
}

// A fresh install gets an admin whose generated password is in a file
// only its owner can read; once a user exists, nothing happens.
func TestBootstrap(t *testing.T) {
	s, _ := storetest.Start(t, "users_bootstrap")
	ctx := t.Context()
	us := newStore(t, s, Options{})
	if _, _, err := us.Bootstrap(ctx, "", "short", "NEXUS_ADMIN_PASSWORD", ""); err == nil ||
		!strings.Contains(err.Error(), "NEXUS_ADMIN_PASSWORD") {
		t.Fatalf("short password: %v", err)
	}
	path := filepath.Join(t.TempDir(), "data", "admin.password")
	created, wrote, err := us.Bootstrap(ctx, "", "", "NEXUS_ADMIN_PASSWORD", path)
	if err != nil || !created || wrote != path {
		t.Fatalf("bootstrap: %v %q %v", created, wrote, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", fi, err)
	}
	raw, _ := os.ReadFile(path)
	u, err := us.Authenticate(ctx, DefaultAdminEmail, strings.TrimSpace(string(raw)))
	if err != nil || !u.InstallationAdmin || RoleIn(u, "any-tenant") != apikeys.RoleAdmin {
		t.Fatalf("the file's password does not sign in: %+v %v", u, err)
	}
	if created, wrote, err := us.Bootstrap(ctx, "", "", "NEXUS_ADMIN_PASSWORD", path+".2"); err != nil || created || wrote != "" {
		t.Fatalf("second bootstrap: %v %q %v", created, wrote, err)
	}
	if _, err := os.Stat(path + ".2"); !os.IsNotExist(err) {
		t.Fatalf("second bootstrap wrote a file: %v", err)
	}

	s2, _ := storetest.Start(t, "users_bootstrap_env")
	us2 := newStore(t, s2, Options{})
	if created, wrote, err := us2.Bootstrap(ctx, "Ops@Example.com", "an operator's long password", "NEXUS_ADMIN_PASSWORD", path+".3"); err != nil || !created || wrote != "" {
		t.Fatalf("bootstrap from the environment: %v %q %v", created, wrote, err)
	}
	if _, err := us2.Authenticate(ctx, "ops@example.com", "an operator's long password"); err != nil {
		t.Fatal(err)
	}
}

// A stored hash asking for absurd costs is not computed: it fails as a
// wrong password would.
func TestParsePHCBounds(t *testing.T) {
	good := phc(fast, make([]byte, 16), make([]byte, 32))
	if _, _, _, err := parsePHC(good); err != nil {
		t.Fatalf("%s: %v", good, err)
	}
	for _, h := range []string{
		strings.Replace(good, "m=64", "m=4294967295", 1),
		strings.Replace(good, "t=1", "t=1000", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		"$argon2id$v=19$m=64,t=1,p=1$AAAA$AAAA",
		"",
		"plain text",
	} {
		if _, _, _, err := parsePHC(h); err == nil {
			t.Errorf("accepted %q", h)
		}
	}
}

// Hashing waits for a slot, and gives up when the caller does.
func TestHashingHonoursContext(t *testing.T) {
	s, _ := storetest.Start(t, "users_hash_slots")
	us := newStore(t, s, Options{MaxConcurrentHashes: 1})
	us.hashes <- struct{}{} // the only slot, taken
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := us.Authenticate(ctx, "nobody@example.com", "whatever password")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrBadCredentials) {
		t.Fatalf("waiting for a hash slot: %v", err)
	}
	<-us.hashes
	if _, err := us.Authenticate(t.Context(), "nobody@example.com", "whatever password"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("with a free slot: %v", err)
	}
}

// Configured costs are brought within what a stored hash may ask for, so
// that every hash made can be checked again.
func TestArgon2ParamsBounded(t *testing.T) {
	p := Argon2Params{Time: 1000, Memory: 1, Threads: 4, SaltLength: 1, KeyLength: 4096}.withDefaults()
	if _, _, _, err := parsePHC(phc(p, make([]byte, p.SaltLength), make([]byte, p.KeyLength))); err != nil {
		t.Fatalf("%+v makes hashes that cannot be checked: %v", p, err)
	}
	if d := (Argon2Params{}).withDefaults(); d != DefaultArgon2() || d.Memory != 65536 || d.Time != 3 || d.Threads != 2 {
		t.Fatalf("defaults %+v", d)
	}
}

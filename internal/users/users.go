// Package users is the people who sign in to Nexus: their accounts, roles
// per tenant, preferences and passwords (argon2id, never stored in usable
// form), signing in with a password or through single sign-on, the lock-out
// after repeated failures, and the first installation admin of a fresh
// install. Users are kept in memory — every sign-in and every session reads
// them — and written through to the users table, which every collector
// behind a load balancer reads again when it changes (refresh.go).
//
// Limits. Checks that span users (a unique email, the last active
// installation admin) are made under a lock of this process: two
// collectors creating the same email at the same instant can both succeed.
// Reads then resolve such a duplicate to the oldest user.
package users

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Table is the users' table.
const Table = "users"

// columns is the order of every read and write of the table.
var columns = []string{"id", "email", "name", "password_hash", "sso_subject", "installation_admin", "roles",
	"preferences", "active", "failed_sign_ins", "locked_until", "created_at", "updated_at", "version"}

// Preferences are a user's own settings.
type Preferences struct {
	// TimeZone is an IANA name ("Europe/Paris"), "" for UTC.
	TimeZone      string `json:"time_zone,omitempty"`
	DefaultTenant string `json:"default_tenant,omitempty"`
	// Contacts maps a kind (email, sms, slack, webhook) to an address.
	Contacts map[string]string `json:"contacts,omitempty"`
	// Notify maps an alert severity (info, warning, critical) to the
	// kinds of Contacts to notify.
	Notify map[string][]string `json:"notify,omitempty"`
}

// User is a user as shown: never the password hash, only whether there
// is one.
type User struct {
	ID, Email, Name   string
	InstallationAdmin bool
	// Roles maps a tenant to the user's role in it.
	Roles       map[string]string
	Preferences Preferences
	Active      bool
	HasPassword bool
	// SSOSubject is the identity provider's subject the user is linked
	// to, "" for none.
	SSOSubject           string
	CreatedAt, UpdatedAt time.Time
}

// NewUser is what a new user is. Password "" makes a user who signs in
// only through single sign-on.
type NewUser struct {
	Email, Name, Password string
	InstallationAdmin     bool
	Roles                 map[string]string
	Preferences           Preferences
}

// Update is a change to a user; nil fields are unchanged. Password ""
// removes the password (the user then signs in only through single
// sign-on). Roles nil is unchanged, an empty map removes every role.
type Update struct {
	Name, Password    *string
	InstallationAdmin *bool
	Roles             map[string]string
	Preferences       *Preferences
	Active            *bool
}

// Options tune a Store; zero fields take their defaults.
type Options struct {
	// MinPasswordLength is in characters, 12 by default. A password is
	// at most 1024 bytes whatever this says.
	MinPasswordLength int
	// Argon2 is the cost of new password hashes (DefaultArgon2 by
	// default); stored hashes keep the cost they were made with.
	Argon2 Argon2Params
	// MaxFailures consecutive failed sign-ins lock an email out for
	// LockOut: 5 and 15 minutes by default.
	MaxFailures int
	LockOut     time.Duration
	// MaxConcurrentHashes bounds the memory a flood of sign-ins can
	// take (each hash takes Argon2.Memory): 2 by default.
	MaxConcurrentHashes int
	// Now is the clock (tests); time.Now by default.
	Now func() time.Time
	// Logger hears of failed background writes (a failed sign-in's
	// count); a no-op by default.
	Logger *zap.Logger
}

func (o Options) withDefaults() Options {
	if o.MinPasswordLength <= 0 {
		o.MinPasswordLength = 12
	}
	o.Argon2 = o.Argon2.withDefaults()
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.LockOut <= 0 {
		o.LockOut = 15 * time.Minute
	}
	if o.MaxConcurrentHashes <= 0 {
		o.MaxConcurrentHashes = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return o
}

// record is a user as stored.
type record struct {
	User
	hash        string
	failures    uint32
	lockedUntil *time.Time
	version     time.Time
}

// Store keeps the users in memory and writes every change through to the
// users table.
type Store struct {
	store  store.Store
	o      Options
	hashes chan struct{}
	// dummy is verified against for emails that cannot sign in, so that
	// they take as long as the ones that can.
	dummy   string
	unknown *failures
	// bg counts failed sign-ins still being written (signin.go).
	bg sync.WaitGroup

	// wmu serialises changes: a check (email taken, last admin) and the
	// write it allows are one step for this process.
	wmu  sync.Mutex
	mu   sync.RWMutex
	byID map[string]record
	// gen counts this process's writes, so that a reload that read the
	// table before a write does not put back what the write replaced.
	gen  uint64
	seen string
}

// NewStore is the users of s, empty until Load.
func NewStore(s store.Store, o Options) *Store {
	o = o.withDefaults()
	return &Store{store: s, o: o, hashes: make(chan struct{}, o.MaxConcurrentHashes),
		dummy: dummyHash(o.Argon2), unknown: newFailures(maxTrackedEmails), byID: map[string]record{}}
}

func (s *Store) now() time.Time { return s.o.Now().UTC().Truncate(time.Millisecond) }

// Load reads the users from the store.
func (s *Store) Load(ctx context.Context) error {
	fp, err := s.fingerprint(ctx)
	if err != nil {
		return err
	}
	byID, err := s.read(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID, s.seen = byID, fp
	return nil
}

// read reads the latest version of every user.
func (s *Store) read(ctx context.Context) (map[string]record, error) {
	rows, err := s.store.Query(ctx, "SELECT "+strings.Join(columns, ", ")+" FROM "+schema.Table(s.store, Table)+" FINAL", nil)
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	defer rows.Close()
	byID := map[string]record{}
	for rows.Next() {
		var r record
		var prefs string
		if err := rows.Scan(&r.ID, &r.Email, &r.Name, &r.hash, &r.SSOSubject, &r.InstallationAdmin, &r.Roles,
			&prefs, &r.Active, &r.failures, &r.lockedUntil, &r.CreatedAt, &r.UpdatedAt, &r.version); err != nil {
			return nil, fmt.Errorf("load users: %w", err)
		}
		// A preference the table holds but this version cannot read is
		// dropped, not fatal: the user must still be able to sign in.
		r.Preferences = decodePreferences(prefs)
		r.CreatedAt, r.UpdatedAt, r.version = r.CreatedAt.UTC(), r.UpdatedAt.UTC(), r.version.UTC()
		if r.lockedUntil != nil {
			t := r.lockedUntil.UTC()
			r.lockedUntil = &t
		}
		r.HasPassword = r.hash != ""
		byID[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	return byID, nil
}

// nextVersion is a version above r's: the table keeps the highest, and
// this process's writes of one user must land in order even within one
// clock tick.
func nextVersion(r record) time.Time {
	v := time.Now().UTC().Truncate(time.Microsecond)
	if !v.After(r.version) {
		v = r.version.Add(time.Microsecond)
	}
	return v
}

// send writes r as its newest version.
func (s *Store) send(ctx context.Context, r record) error {
	prefs, err := encodePreferences(r.Preferences)
	if err != nil {
		return fmt.Errorf("write user %s: %w", r.ID, err)
	}
	b, err := s.store.PrepareBatch(ctx, Table, columns)
	if err != nil {
		return fmt.Errorf("write user %s: %w", r.ID, err)
	}
	var locked any
	if r.lockedUntil != nil {
		locked = *r.lockedUntil
	}
	roles := r.Roles
	if roles == nil {
		roles = map[string]string{}
	}
	if err := b.Append(r.ID, r.Email, r.Name, r.hash, r.SSOSubject, r.InstallationAdmin, roles, prefs, r.Active,
		r.failures, locked, r.CreatedAt, r.UpdatedAt, r.version); err != nil {
		_ = b.Abort()
		return fmt.Errorf("write user %s: %w", r.ID, err)
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("write user %s: %w", r.ID, err)
	}
	return nil
}

// write stores r and then keeps it; the caller holds wmu.
func (s *Store) write(ctx context.Context, r record) (record, error) {
	r.version = nextVersion(r)
	r.HasPassword = r.hash != ""
	if err := s.send(ctx, r); err != nil {
		return record{}, err
	}
	s.keep(r)
	return r, nil
}

func (s *Store) keep(r record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[r.ID] = r
	s.gen++
}

func (s *Store) get(id string) (record, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.byID[id]
	return r, ok
}

// byEmail finds the user of a normalized email; of duplicates (two
// collectors creating one email at once), the oldest.
func (s *Store) byEmail(email string) (record, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var found record
	ok := false
	for _, r := range s.byID {
		if r.Email == email && (!ok || older(r.User, found.User)) {
			found, ok = r, true
		}
	}
	return found, ok
}

func (s *Store) bySubject(subject string) (record, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var found record
	ok := false
	for _, r := range s.byID {
		if r.SSOSubject == subject && (!ok || older(r.User, found.User)) {
			found, ok = r, true
		}
	}
	return found, ok
}

func older(a, b User) bool {
	return a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID)
}

// Get is user id, active or not.
func (s *Store) Get(id string) (User, bool) {
	r, ok := s.get(id)
	return clone(r.User), ok
}

// ByEmail is the user of email (any case), active or not.
func (s *Store) ByEmail(email string) (User, bool) {
	r, ok := s.byEmail(normalizeEmail(email))
	return clone(r.User), ok
}

// List is every user ("") or the users of tenant: those with a role in it,
// and the installation admins. Oldest first, then by id, so that pages are
// stable.
func (s *Store) List(tenant string) []User {
	s.mu.RLock()
	out := make([]User, 0, len(s.byID))
	for _, r := range s.byID {
		if _, member := r.Roles[tenant]; tenant == "" || member || r.InstallationAdmin {
			out = append(out, clone(r.User))
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return older(out[i], out[j]) })
	return out
}

// RoleIn is u's role in tenant: admin everywhere for an installation
// admin, "" when u has none there or is not active.
func RoleIn(u User, tenant string) string {
	switch {
	case !u.Active:
		return ""
	case u.InstallationAdmin:
		return apikeys.RoleAdmin
	}
	return u.Roles[tenant]
}

// activeAdmins counts the active installation admins.
func (s *Store) activeAdmins() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, r := range s.byID {
		if r.Active && r.InstallationAdmin {
			n++
		}
	}
	return n
}

// Package apikeys is the API keys of Nexus and their roles: making a key
// (random, shown once, stored only as a hash), checking one, revoking one,
// keeping every collector's copy in step with the store, and the first
// admin key of a fresh install. Keys are kept in memory — every request is
// authenticated against them — and written through to the api_keys table.
package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/ids"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Roles, each including the ones before it: viewer reads, editor also
// writes, admin also manages keys.
const (
	RoleViewer = "viewer"
	RoleEditor = "editor"
	RoleAdmin  = "admin"
)

// Rank orders roles (viewer 1, editor 2, admin 3); 0 for an unknown role.
func Rank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Prefix marks Nexus API keys, so that they are recognisable in a config
// or a secret scanner.
const Prefix = "nxs_"

// Key is a key as stored: never the key itself, only its hash.
//
// Tenant is the tenant the key reads and writes: every request made with
// it is confined there. InstallationAdmin keys also manage the tenants of
// the installation and keys of any tenant.
type Key struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	Role              string     `json:"role"`
	Tenant            string     `json:"tenant"`
	InstallationAdmin bool       `json:"installationAdmin"`
	Prefix            string     `json:"prefix"`
	CreatedAt         time.Time  `json:"createdAt"`
	RevokedAt         *time.Time `json:"revokedAt,omitempty"`
	// OwnerUser is the user the key acts for ("" for a service account's
	// key): it never has more than that user's role, and stops working
	// with the user. ExpiresAt, when set, ends it.
	OwnerUser string     `json:"ownerUser,omitempty"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	hash      string
}

// Live tells whether k authenticates at now: not revoked, not expired.
func (k Key) Live(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// NewKey is what a new key is: its name, role and tenant ("" is the
// default tenant), and whether it administers the installation.
type NewKey struct {
	Name              string
	Role              string
	Tenant            string
	InstallationAdmin bool
	OwnerUser         string
	ExpiresAt         *time.Time
}

// Generate makes a random key: 32 random bytes, URL-safe, with the prefix.
func Generate() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate a key: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hash is SHA-256: keys are 256-bit random, so a slow password hash adds
// nothing but latency to every request.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Validate names each bad field of a new key.
func Validate(name, role string) []domainerr.Field {
	var details []domainerr.Field
	if name == "" || len(name) > 100 {
		details = append(details, domainerr.Field{Field: "name", Message: "required, at most 100 characters"})
	}
	if Rank(role) == 0 {
		details = append(details, domainerr.Field{Field: "role", Message: "must be viewer, editor or admin"})
	}
	return details
}

// Store keeps the keys in memory and writes every change through to the
// api_keys table.
type Store struct {
	store store.Store
	mu    sync.RWMutex
	byID  map[string]Key
	// gen counts this process's writes, so that a reload that read the
	// table before a write does not put back what the write replaced
	// (refresh.go).
	gen uint64
	// seen is the fingerprint of the table the map was loaded from.
	seen string
	// onChange is told every new set of keys (see NewStore).
	onChange func(map[string]Key)
}

// NewStore is the keys of s, empty until Load. onChange, when not nil, is
// called with a copy of the keys by id after each change (a write or a
// reload), in order, under the store's lock: it must not call the Store.
func NewStore(s store.Store, onChange func(byID map[string]Key)) *Store {
	return &Store{store: s, byID: map[string]Key{}, onChange: onChange}
}

// changedLocked tells onChange; the caller holds ks.mu for writing.
func (ks *Store) changedLocked() {
	if ks.onChange == nil {
		return
	}
	cp := make(map[string]Key, len(ks.byID))
	for id, k := range ks.byID {
		cp[id] = k
	}
	ks.onChange(cp)
}

// Load reads the keys from the store.
func (ks *Store) Load(ctx context.Context) error {
	fp, err := ks.fingerprint(ctx)
	if err != nil {
		return err
	}
	byID, err := ks.read(ctx)
	if err != nil {
		return err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.byID, ks.seen = byID, fp
	ks.changedLocked()
	return nil
}

// read reads the latest version of every key.
func (ks *Store) read(ctx context.Context) (map[string]Key, error) {
	rows, err := ks.store.Query(ctx, schema.SQL(ks.store, "api_keys"), nil)
	if err != nil {
		return nil, fmt.Errorf("load API keys: %w", err)
	}
	defer rows.Close()
	byID := map[string]Key{}
	for rows.Next() {
		var k Key
		var revoked, expires *time.Time
		if err := rows.Scan(&k.ID, &k.Name, &k.Role, &k.Prefix, &k.hash, &k.CreatedAt, &revoked, &k.Tenant, &k.InstallationAdmin,
			&k.OwnerUser, &expires); err != nil {
			return nil, fmt.Errorf("load API keys: %w", err)
		}
		k.RevokedAt, k.ExpiresAt = revoked, expires
		byID[k.ID] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load API keys: %w", err)
	}
	return byID, nil
}

// Lookup finds a live key by its secret, comparing hashes in constant
// time. A key past its expiry is found (its expiry is the answer's
// reason) but not live: callers check Live.
func (ks *Store) Lookup(secret string) (Key, bool) {
	h := hash(secret)
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.byID {
		if k.RevokedAt == nil && subtle.ConstantTimeCompare([]byte(k.hash), []byte(h)) == 1 {
			return k, true
		}
	}
	return Key{}, false
}

// Get is key id, revoked or not.
func (ks *Store) Get(id string) (Key, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	k, ok := ks.byID[id]
	return k, ok
}

// List is every key of tenant ("" for every tenant), revoked ones
// included, oldest first (then by id, so that pages are stable).
func (ks *Store) List(tenant string) []Key {
	ks.mu.RLock()
	out := make([]Key, 0, len(ks.byID))
	for _, k := range ks.byID {
		if tenant == "" || k.Tenant == tenant {
			out = append(out, k)
		}
	}
	ks.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		return out[i].CreatedAt.Before(out[j].CreatedAt) || (out[i].CreatedAt.Equal(out[j].CreatedAt) && out[i].ID < out[j].ID)
	})
	return out
}

// active counts the keys not revoked with role ("" for any) whose key
// passes match (nil for any).
func (ks *Store) active(role string, match func(Key) bool) int {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	n := 0
	for _, k := range ks.byID {
		if k.RevokedAt == nil && (role == "" || k.Role == role) && (match == nil || match(k)) {
			n++
		}
	}
	return n
}

// Usable tells whether key id still authenticates with a role that may
// read: it exists, is not revoked, and its role is known.
func (ks *Store) Usable(id string) bool {
	k, ok := ks.Get(id)
	return ok && k.RevokedAt == nil && Rank(k.Role) >= Rank(RoleViewer)
}

func (ks *Store) write(ctx context.Context, k Key) error {
	b, err := ks.store.PrepareBatch(ctx, schema.TableKeys, schema.KeyColumns)
	if err != nil {
		return fmt.Errorf("write API key %s: %w", k.ID, err)
	}
	var revoked, expires any
	if k.RevokedAt != nil {
		revoked = *k.RevokedAt
	}
	if k.ExpiresAt != nil {
		expires = *k.ExpiresAt
	}
	if err := b.Append(k.ID, k.Name, k.Role, k.Prefix, k.hash, k.CreatedAt, revoked, time.Now(), k.Tenant, k.InstallationAdmin,
		k.OwnerUser, expires); err != nil {
		_ = b.Abort()
		return fmt.Errorf("write API key %s: %w", k.ID, err)
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("write API key %s: %w", k.ID, err)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.byID[k.ID] = k
	ks.gen++
	ks.changedLocked()
	return nil
}

// Create stores a new key for secret (generated when empty) and returns it
// with its secret, which is nowhere else ever again. Refused name or role
// is a *domainerr.InvalidError. Whether the tenant exists, and whether the
// caller may create such a key, is the caller's to check.
func (ks *Store) Create(ctx context.Context, nk NewKey, secret string) (Key, string, error) {
	if err := domainerr.Invalid("invalid key", Validate(nk.Name, nk.Role)...); err != nil {
		return Key{}, "", err
	}
	if nk.Tenant == "" {
		nk.Tenant = schema.DefaultTenant
	}
	if secret == "" {
		var err error
		if secret, err = Generate(); err != nil {
			return Key{}, "", err
		}
	}
	k := Key{ID: ids.New("key_"), Name: nk.Name, Role: nk.Role, Tenant: nk.Tenant, InstallationAdmin: nk.InstallationAdmin, Prefix: secret[:min(len(secret), 12)],
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond), OwnerUser: nk.OwnerUser, ExpiresAt: nk.ExpiresAt, hash: hash(secret)}
	if k.ExpiresAt != nil {
		t := k.ExpiresAt.UTC().Truncate(time.Millisecond)
		k.ExpiresAt = &t
	}
	return k, secret, ks.write(ctx, k)
}

// Revoke revokes key id of tenant ("" for any tenant) on behalf of key
// by. No such key, or another tenant's, is a *domainerr.NotFoundError (the
// same answer: a caller learns nothing of other tenants); a key already
// revoked, or by revoking itself as the last admin key of its tenant or
// the last installation admin, a *domainerr.ConflictError.
func (ks *Store) Revoke(ctx context.Context, tenant, id, by string) (Key, error) {
	k, ok := ks.Get(id)
	if !ok || (tenant != "" && k.Tenant != tenant) {
		return Key{}, domainerr.NotFound("no API key " + id)
	}
	if k.RevokedAt != nil {
		return Key{}, domainerr.Conflict("API key " + id + " is already revoked")
	}
	if id == by && k.Role == RoleAdmin && ks.active(RoleAdmin, func(o Key) bool { return o.Tenant == k.Tenant }) == 1 {
		return Key{}, domainerr.Conflict("this is the last admin key; create another admin key first")
	}
	if id == by && k.InstallationAdmin && ks.active("", func(o Key) bool { return o.InstallationAdmin }) == 1 {
		return Key{}, domainerr.Conflict("this is the last installation admin key; create another one first")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	k.RevokedAt = &now
	return k, ks.write(ctx, k)
}

// RevokeTenant revokes every active key of tenant, as deleting the tenant
// does; it returns how many it revoked.
func (ks *Store) RevokeTenant(ctx context.Context, tenant string) (int, error) {
	n := 0
	for _, k := range ks.List(tenant) {
		if k.RevokedAt != nil {
			continue
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		k.RevokedAt = &now
		if err := ks.write(ctx, k); err != nil {
			return n, fmt.Errorf("revoke the keys of tenant %s: %w", tenant, err)
		}
		n++
	}
	return n, nil
}

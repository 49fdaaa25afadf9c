// Package tenants is the tenants of a Nexus installation: isolated
// organisations (or projects) whose calls, budgets, alerts and keys no
// other tenant sees. The default tenant always exists without a row (rows
// written before tenants existed belong to it) and cannot be deleted.
// Deleting a tenant revokes its API keys and ingest keys; its stored data
// stays until retention removes it, and is read by no one. Tenants are
// read from the table (FINAL) on every call, as budgets are: few, and
// shared by every collector behind a load balancer.
package tenants

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// idPattern is what a tenant id may be: a slug, safe in URLs, labels and
// file names, and never confusable with a generated id (those have "_").
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

const maxName = 100

// DefaultName is the default tenant's name where no one gave it another.
const DefaultName = "Default"

// Tenant is one tenant.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	deleted   bool
	version   time.Time
}

// KeyRevoker revokes every API key of a tenant (internal/apikeys' Store).
type KeyRevoker interface {
	RevokeTenant(ctx context.Context, tenant string) (int, error)
}

// Service manages the tenants of one store.
type Service struct {
	store store.Store
	keys  KeyRevoker
	// writes serialises the read-check-write of changes: the table cannot
	// refuse a duplicate id.
	writes sync.Mutex
}

// New is the tenants of s; keys, when not nil, revokes a deleted tenant's
// API keys.
func New(s store.Store, keys KeyRevoker) *Service { return &Service{store: s, keys: keys} }

// ValidID tells whether id is a well-formed tenant id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// validName names a bad name, "" for a good one.
func validName(name string) string {
	if name == "" || len(name) > maxName || strings.ContainsFunc(name, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return "required, 1 to 100 printable characters"
	}
	return ""
}

// read reads the latest version of every tenant, or of id, deleted ones
// included (sql/tenants.sql).
func (s *Service) read(ctx context.Context, id string) ([]Tenant, error) {
	rows, err := s.store.Query(ctx, schema.SQL(s.store, "tenants"), store.Params{"id": id})
	if err != nil {
		return nil, fmt.Errorf("read tenants: %w", err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		var t Tenant
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.UpdatedAt, &t.deleted, &t.version); err != nil {
			return nil, fmt.Errorf("read tenants: %w", err)
		}
		t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read tenants: %w", err)
	}
	return out, nil
}

// defaultTenant is the default tenant as it stands: its row when renamed,
// otherwise one made up (created at the zero time: it predates every
// other).
func defaultTenant(stored []Tenant) Tenant {
	for _, t := range stored {
		if t.ID == schema.DefaultTenant && !t.deleted {
			return t
		}
	}
	return Tenant{ID: schema.DefaultTenant, Name: DefaultName}
}

// List is every tenant, the default one first, then oldest first.
func (s *Service) List(ctx context.Context) ([]Tenant, error) {
	all, err := s.read(ctx, "")
	if err != nil {
		return nil, err
	}
	out := []Tenant{defaultTenant(all)}
	for _, t := range all {
		if !t.deleted && t.ID != schema.DefaultTenant {
			out = append(out, t)
		}
	}
	sort.SliceStable(out[1:], func(i, j int) bool {
		a, b := out[1+i], out[1+j]
		return a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID)
	})
	return out, nil
}

// Get is tenant id; a *domainerr.NotFoundError when there is none.
func (s *Service) Get(ctx context.Context, id string) (Tenant, error) {
	if !ValidID(id) {
		return Tenant{}, domainerr.NotFound("no tenant " + id)
	}
	found, err := s.read(ctx, id)
	if err != nil {
		return Tenant{}, err
	}
	if id == schema.DefaultTenant {
		return defaultTenant(found), nil
	}
	if len(found) == 0 || found[0].deleted {
		return Tenant{}, domainerr.NotFound("no tenant " + id)
	}
	return found[0], nil
}

// Exists tells whether tenant id exists (the default one always does).
func (s *Service) Exists(ctx context.Context, id string) (bool, error) {
	_, err := s.Get(ctx, id)
	if _, ok := domainerr.AsNotFound(err); ok {
		return false, nil
	}
	return err == nil, err
}

// Create stores tenant id named name. A bad id or name is a
// *domainerr.InvalidError; an id in use (or once used: a deleted tenant's
// rows are still in the store, and a new tenant must not inherit them), a
// *domainerr.ConflictError.
func (s *Service) Create(ctx context.Context, id, name string) (Tenant, error) {
	name = strings.TrimSpace(name)
	var details []domainerr.Field
	if !ValidID(id) {
		details = append(details, domainerr.Field{Field: "id", Message: "must match ^[a-z][a-z0-9-]{1,62}$: a lower-case letter, then 1 to 62 lower-case letters, digits or dashes"})
	}
	if msg := validName(name); msg != "" {
		details = append(details, domainerr.Field{Field: "name", Message: msg})
	}
	if err := domainerr.Invalid("invalid tenant", details...); err != nil {
		return Tenant{}, err
	}
	s.writes.Lock()
	defer s.writes.Unlock()
	found, err := s.read(ctx, id)
	if err != nil {
		return Tenant{}, err
	}
	if id == schema.DefaultTenant || len(found) > 0 {
		return Tenant{}, domainerr.Conflict("tenant id " + id + " is taken (ids of deleted tenants are never reused)")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	t := Tenant{ID: id, Name: name, CreatedAt: now, UpdatedAt: now}
	return t, s.write(ctx, &t)
}

// Update renames tenant id; errors as Get's and Create's.
func (s *Service) Update(ctx context.Context, id, name string) (Tenant, error) {
	name = strings.TrimSpace(name)
	if msg := validName(name); msg != "" {
		return Tenant{}, domainerr.Invalid("invalid tenant", domainerr.Field{Field: "name", Message: msg})
	}
	s.writes.Lock()
	defer s.writes.Unlock()
	t, err := s.Get(ctx, id)
	if err != nil {
		return Tenant{}, err
	}
	t.Name, t.UpdatedAt = name, time.Now().UTC().Truncate(time.Millisecond)
	return t, s.write(ctx, &t)
}

// Delete deletes tenant id and revokes its API keys and ingest keys, so
// that nothing reads or writes as it any more. The default tenant is a
// *domainerr.ConflictError; no such tenant a *domainerr.NotFoundError.
func (s *Service) Delete(ctx context.Context, id string) (Tenant, error) {
	if id == schema.DefaultTenant {
		return Tenant{}, domainerr.Conflict("the default tenant cannot be deleted")
	}
	s.writes.Lock()
	defer s.writes.Unlock()
	t, err := s.Get(ctx, id)
	if err != nil {
		return Tenant{}, err
	}
	// Keys first: a failure then leaves the tenant in place, to be deleted
	// again, rather than a deleted tenant whose keys still work.
	if s.keys != nil {
		if _, err := s.keys.RevokeTenant(ctx, id); err != nil {
			return Tenant{}, fmt.Errorf("delete tenant %s: %w", id, err)
		}
	}
	if err := s.revokeIngestKeys(ctx, id); err != nil {
		return Tenant{}, fmt.Errorf("delete tenant %s: %w", id, err)
	}
	t.deleted, t.UpdatedAt = true, time.Now().UTC().Truncate(time.Millisecond)
	return t, s.write(ctx, &t)
}

// revokeIngestKeys writes a revoked version of every active ingest key of
// tenant, in the store, so that every collector's copy (internal/
// ingestkeys reads the table) drops them at its next refresh.
func (s *Service) revokeIngestKeys(ctx context.Context, tenant string) error {
	tbl := schema.Table(s.store, schema.TableIngestKeys)
	q := "INSERT INTO " + tbl + " (id, tenant, name, prefix, key_hash, created_at, revoked_at, version) " +
		"SELECT id, tenant, name, prefix, key_hash, created_at, now64(3, 'UTC'), now64(6, 'UTC') FROM " + tbl + " FINAL " +
		"WHERE tenant = {tenant:String} AND revoked_at IS NULL"
	if err := s.store.Exec(ctx, q, store.Params{"tenant": tenant}); err != nil {
		return fmt.Errorf("revoke ingest keys: %w", err)
	}
	return nil
}

func (s *Service) write(ctx context.Context, t *Tenant) error {
	b, err := s.store.PrepareBatch(ctx, schema.TableTenants, []string{"id", "name", "created_at", "updated_at", "deleted", "version"})
	if err != nil {
		return fmt.Errorf("write tenant %s: %w", t.ID, err)
	}
	// Versions only grow, even within one clock tick (FINAL keeps the
	// highest).
	v := time.Now().UTC().Truncate(time.Microsecond)
	if !v.After(t.version) {
		v = t.version.Add(time.Microsecond)
	}
	if err := b.Append(t.ID, t.Name, t.CreatedAt, t.UpdatedAt, t.deleted, v); err != nil {
		_ = b.Abort()
		return fmt.Errorf("write tenant %s: %w", t.ID, err)
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("write tenant %s: %w", t.ID, err)
	}
	t.version = v
	return nil
}

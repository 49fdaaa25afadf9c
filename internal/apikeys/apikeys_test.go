package apikeys

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// A key works from its creation until it is revoked; revoking twice or
// the last admin key revoking itself is a conflict, an unknown key not
// found. Another store over the same table sees the changes on Refresh,
// and onChange hears every one.
func TestKeysOnStore(t *testing.T) {
	s, _ := storetest.Start(t, "apikeys_lifecycle")
	ctx := t.Context()
	var seen []int
	ks := NewStore(s, func(byID map[string]Key) { seen = append(seen, len(byID)) })
	if err := ks.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.Create(ctx, NewKey{Name: "", Role: "root"}, ""); err == nil {
		t.Fatal("accepted an invalid key")
	} else if inv, ok := domainerr.AsInvalid(err); !ok || len(inv.Fields) != 2 {
		t.Fatalf("invalid key: %v", err)
	}
	admin, secret, err := ks.Create(ctx, NewKey{Name: "ops", Role: RoleAdmin}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, Prefix) || admin.Prefix != secret[:12] {
		t.Fatalf("secret %q, key %+v", secret, admin)
	}
	if k, ok := ks.Lookup(secret); !ok || k.ID != admin.ID || !ks.Usable(admin.ID) {
		t.Fatalf("lookup: %+v %v", k, ok)
	}
	if _, err := ks.Revoke(ctx, "", admin.ID, admin.ID); err == nil {
		t.Fatal("the last admin key revoked itself")
	} else if _, ok := domainerr.AsConflict(err); !ok {
		t.Fatalf("last admin: %v", err)
	}
	viewer, _, err := ks.Create(ctx, NewKey{Name: "ci", Role: RoleViewer}, "")
	if err != nil {
		t.Fatal(err)
	}

	other := NewStore(s, nil)
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Revoke(ctx, "", viewer.ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Revoke(ctx, "", viewer.ID, admin.ID); err == nil {
		t.Fatal("revoked twice")
	} else if _, ok := domainerr.AsConflict(err); !ok {
		t.Fatalf("revoked twice: %v", err)
	}
	if _, err := ks.Revoke(ctx, "", "key_missing", admin.ID); err == nil {
		t.Fatal("revoked a missing key")
	} else if _, ok := domainerr.AsNotFound(err); !ok {
		t.Fatalf("missing key: %v", err)
	}
	if !other.Usable(viewer.ID) {
		t.Fatal("the other store knew of the revocation before reading it")
	}
	if changed, err := other.Refresh(ctx); err != nil || !changed || other.Usable(viewer.ID) {
		t.Fatalf("refresh: %v %v usable %v", changed, err, other.Usable(viewer.ID))
	}
	if changed, err := other.Refresh(ctx); err != nil || changed {
		t.Fatalf("refresh of an unchanged table: %v %v", changed, err)
	}
	if len(seen) != 4 || seen[3] != 2 {
		t.Fatalf("onChange saw %v", seen)
	}
	if got := ks.List(""); len(got) != 2 || got[0].ID != admin.ID {
		t.Fatalf("list %+v", got)
	}
}

// A fresh install gets a generated admin key in a file only its owner can
// read; once a key exists, nothing is written.
func TestBootstrapWritesKeyFile(t *testing.T) {
	s, _ := storetest.Start(t, "apikeys_bootstrap")
	ks := NewStore(s, nil)
	if err := ks.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Bootstrap(t.Context(), "short", "NEXUS_ADMIN_KEY", ""); err == nil {
		t.Fatal("accepted a short admin key")
	}
	path := filepath.Join(t.TempDir(), "data", "admin.key")
	wrote, err := ks.Bootstrap(t.Context(), "", "NEXUS_ADMIN_KEY", path)
	if err != nil || wrote != path {
		t.Fatalf("bootstrap: %q %v", wrote, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	raw, _ := os.ReadFile(path)
	if k, ok := ks.Lookup(strings.TrimSpace(string(raw))); !ok || k.Role != RoleAdmin || k.Tenant != schema.DefaultTenant || !k.InstallationAdmin {
		t.Fatalf("the file's key does not authenticate: %+v", k)
	}
	if wrote, err := ks.Bootstrap(t.Context(), "", "NEXUS_ADMIN_KEY", path+".2"); err != nil || wrote != "" {
		t.Fatalf("second bootstrap: %q %v", wrote, err)
	}
}

// Keys belong to a tenant: a tenant's list holds only its keys, another
// tenant's key id is not found for it (as a missing one is), the tenant
// survives a reload, and revoking a tenant's keys leaves the others'.
func TestKeysPerTenant(t *testing.T) {
	s, _ := storetest.Start(t, "apikeys_tenants")
	ctx := t.Context()
	ks := NewStore(s, nil)
	if err := ks.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a, _, err := ks.Create(ctx, NewKey{Name: "a admin", Role: RoleAdmin}, "")
	if err != nil {
		t.Fatal(err)
	}
	b, bSecret, err := ks.Create(ctx, NewKey{Name: "b admin", Role: RoleAdmin, Tenant: "beta"}, "")
	if err != nil {
		t.Fatal(err)
	}
	b2, _, err := ks.Create(ctx, NewKey{Name: "b viewer", Role: RoleViewer, Tenant: "beta"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Tenant != schema.DefaultTenant || a.InstallationAdmin {
		t.Fatalf("a key without a tenant: %+v", a)
	}
	if got := ks.List("beta"); len(got) != 2 || got[0].ID != b.ID || got[1].ID != b2.ID {
		t.Fatalf("beta's keys: %+v", got)
	}
	if got := ks.List(schema.DefaultTenant); len(got) != 1 || got[0].ID != a.ID {
		t.Fatalf("default's keys: %+v", got)
	}
	if _, err := ks.Revoke(ctx, schema.DefaultTenant, b2.ID, a.ID); err == nil {
		t.Fatal("a tenant revoked another tenant's key")
	} else if _, ok := domainerr.AsNotFound(err); !ok {
		t.Fatalf("another tenant's key: %v", err)
	}
	other := NewStore(s, nil)
	if err := other.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if k, ok := other.Lookup(bSecret); !ok || k.Tenant != "beta" || k.Role != RoleAdmin {
		t.Fatalf("reloaded key: %+v %v", k, ok)
	}
	if n, err := ks.RevokeTenant(ctx, "beta"); err != nil || n != 2 {
		t.Fatalf("revoke beta: %d %v", n, err)
	}
	if ks.Usable(b.ID) || ks.Usable(b2.ID) || !ks.Usable(a.ID) {
		t.Fatal("revoking beta's keys revoked the wrong ones")
	}
}

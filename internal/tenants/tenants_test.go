package tenants

import (
	"testing"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// Tenants are created, renamed, listed (the default one first, without a
// row) and deleted; a deleted tenant's id is not reused, the default one
// cannot go, and deleting a tenant revokes its API and ingest keys and
// nobody else's.
func TestTenantsLifecycle(t *testing.T) {
	s, _ := storetest.Start(t, "tenants_lifecycle")
	ctx := t.Context()
	keys := apikeys.NewStore(s, nil)
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	svc := New(s, keys)

	for _, bad := range []string{"", "a", "Acme", "1acme", "acme_corp", "acme corp", "ac'me", string(make([]byte, 64))} {
		if _, err := svc.Create(ctx, bad, "Acme"); err == nil {
			t.Fatalf("accepted id %q", bad)
		} else if _, ok := domainerr.AsInvalid(err); !ok {
			t.Fatalf("id %q: %v", bad, err)
		}
	}
	if _, err := svc.Create(ctx, "acme", " \x01 "); err == nil {
		t.Fatal("accepted a bad name")
	}
	if _, err := svc.Create(ctx, schema.DefaultTenant, "Again"); err == nil {
		t.Fatal("created the default tenant again")
	} else if _, ok := domainerr.AsConflict(err); !ok {
		t.Fatalf("default again: %v", err)
	}
	acme, err := svc.Create(ctx, "acme", "Acme Corp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, "acme", "Acme twice"); err == nil {
		t.Fatal("created acme twice")
	}
	if _, err := svc.Create(ctx, "globex", "Globex"); err != nil {
		t.Fatal(err)
	}
	list, err := svc.List(ctx)
	if err != nil || len(list) != 3 || list[0].ID != schema.DefaultTenant || list[1].ID != "acme" || list[2].ID != "globex" {
		t.Fatalf("list %+v %v", list, err)
	}
	if got, err := svc.Update(ctx, "acme", "ACME"); err != nil || got.Name != "ACME" || !got.CreatedAt.Equal(acme.CreatedAt) {
		t.Fatalf("rename %+v %v", got, err)
	}
	if got, err := svc.Get(ctx, "acme"); err != nil || got.Name != "ACME" {
		t.Fatalf("get %+v %v", got, err)
	}

	// Keys of acme and of the default tenant; an ingest key of each.
	aKey, _, err := keys.Create(ctx, apikeys.NewKey{Name: "acme ops", Role: apikeys.RoleAdmin, Tenant: "acme"}, "")
	if err != nil {
		t.Fatal(err)
	}
	dKey, _, err := keys.Create(ctx, apikeys.NewKey{Name: "ops", Role: apikeys.RoleAdmin}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "INSERT INTO "+schema.Table(s, schema.TableIngestKeys)+
		" (id, tenant, name, prefix, key_hash, created_at, revoked_at, version) VALUES "+
		"('ing_a', 'acme', 'a', 'p', 'h', now64(3), NULL, now64(6) - 1), ('ing_d', 'default', 'd', 'p', 'h', now64(3), NULL, now64(6) - 1)", nil); err != nil {
		t.Fatal(err)
	}

	if _, err := svc.Delete(ctx, schema.DefaultTenant); err == nil {
		t.Fatal("deleted the default tenant")
	} else if _, ok := domainerr.AsConflict(err); !ok {
		t.Fatalf("delete default: %v", err)
	}
	if _, err := svc.Delete(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, "acme"); err == nil {
		t.Fatal("a deleted tenant is still there")
	} else if _, ok := domainerr.AsNotFound(err); !ok {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := svc.Delete(ctx, "acme"); err == nil {
		t.Fatal("deleted twice")
	}
	if _, err := svc.Create(ctx, "acme", "Acme reborn"); err == nil {
		t.Fatal("reused a deleted tenant's id")
	}
	if keys.Usable(aKey.ID) || !keys.Usable(dKey.ID) {
		t.Fatalf("after delete: acme key usable %v, default key usable %v", keys.Usable(aKey.ID), keys.Usable(dKey.ID))
	}
	rows, err := s.Query(ctx, "SELECT id, revoked_at IS NOT NULL FROM "+schema.Table(s, schema.TableIngestKeys)+" FINAL ORDER BY id", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	revoked := map[string]bool{}
	for rows.Next() {
		var id string
		var r uint8
		if err := rows.Scan(&id, &r); err != nil {
			t.Fatal(err)
		}
		revoked[id] = r == 1
	}
	if !revoked["ing_a"] || revoked["ing_d"] || len(revoked) != 2 {
		t.Fatalf("ingest keys revoked: %v", revoked)
	}
	if ok, err := svc.Exists(ctx, schema.DefaultTenant); err != nil || !ok {
		t.Fatalf("default exists: %v %v", ok, err)
	}
}

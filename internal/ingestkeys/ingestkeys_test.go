package ingestkeys

import (
	"errors"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// A key checks from its creation (once the checker has read it) until it
// is revoked (once the checker has read that); a tenant neither sees nor
// revokes another's keys, and hostile secrets are refused from memory.
func TestKeysOnStore(t *testing.T) {
	s, _ := storetest.Start(t, "ingestkeys_lifecycle")
	ctx := t.Context()
	svc := New(s)
	chk := NewChecker(s)
	if err := chk.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Create(ctx, "", ""); err == nil {
		t.Fatal("accepted a key without tenant or name")
	} else if inv, ok := domainerr.AsInvalid(err); !ok || len(inv.Fields) != 2 {
		t.Fatalf("invalid key: %v", err)
	}
	secretA, a, err := svc.Create(ctx, "acme", "web")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secretA, Prefix) || len(secretA) < len(Prefix)+43 || a.Prefix != secretA[:12] || a.Tenant != "acme" {
		t.Fatalf("secret %q, key %+v", secretA, a)
	}
	secretB, b, err := svc.Create(ctx, "globex", "batch")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chk.Check(ctx, secretA); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("checked a key before reading it: %v", err)
	}
	if changed, err := chk.Refresh(ctx); err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if k, err := chk.Check(ctx, secretA); err != nil || k.ID != a.ID || k.Tenant != "acme" {
		t.Fatalf("check A: %+v %v", k, err)
	}
	if k, err := chk.Check(ctx, secretB); err != nil || k.Tenant != "globex" {
		t.Fatalf("check B: %+v %v", k, err)
	}
	for _, bad := range []string{"", Prefix, secretA + "x", strings.ToUpper(secretA), "nxs_" + secretA[4:], Prefix + strings.Repeat("a", 1<<20)} {
		if _, err := chk.Check(ctx, bad); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("accepted %.40q: %v", bad, err)
		}
	}

	// Another tenant's id is not found, and stays usable.
	if err := svc.Revoke(ctx, "acme", b.ID); err == nil {
		t.Fatal("acme revoked globex's key")
	} else if _, ok := domainerr.AsNotFound(err); !ok {
		t.Fatalf("other tenant's key: %v", err)
	}
	if list, err := svc.List(ctx, "acme"); err != nil || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("acme's keys: %+v %v", list, err)
	}
	if err := svc.Revoke(ctx, "acme", a.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Revoke(ctx, "acme", a.ID); err == nil {
		t.Fatal("revoked twice")
	} else if _, ok := domainerr.AsConflict(err); !ok {
		t.Fatalf("revoked twice: %v", err)
	}
	if _, err := chk.Check(ctx, secretA); err != nil {
		t.Fatalf("revocation seen before a refresh: %v", err)
	}
	if changed, err := chk.Refresh(ctx); err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if _, err := chk.Check(ctx, secretA); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("revoked key still checks: %v", err)
	}
	if _, err := chk.Check(ctx, secretB); err != nil {
		t.Fatalf("globex's key stopped working: %v", err)
	}
	if changed, err := chk.Refresh(ctx); err != nil || changed {
		t.Fatalf("refresh of an unchanged table: %v %v", changed, err)
	}
	list, err := svc.List(ctx, "acme")
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
		t.Fatalf("acme's keys after revoke: %+v %v", list, err)
	}
	if list, err := svc.List(ctx, "globex"); err != nil || len(list) != 1 || list[0].RevokedAt != nil {
		t.Fatalf("globex's keys: %+v %v", list, err)
	}
}

package credentials_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/credentials"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// storetest starts the chstore extension, which imports this package:
// these tests are an external package.
func TestMain(m *testing.M) { storetest.Main(m) }

// fields stands for providers.CredentialFields.
func fields(provider string) ([]string, bool) {
	switch provider {
	case "openai":
		return []string{"admin_key"}, true
	case "twilio":
		return []string{"account_sid", "auth_token"}, true
	}
	return nil, false
}

// newKEK writes a fresh random key to a file and loads it.
func newKEK(t *testing.T, name string) *credentials.KEK {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := credentials.LoadKEK(p, "")
	if err != nil || k == nil {
		t.Fatalf("load %s: %v", p, err)
	}
	return k
}

// rawRows is every stored version of the table, every column as text.
func rawRows(t *testing.T, s store.Store) []string {
	t.Helper()
	rows, err := s.Query(context.Background(), "SELECT concat(tenant, '|', provider, '|', ciphertext, '|', kek_id, '|', fingerprint, '|', set_by) FROM "+
		s.Database()+".provider_credentials", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestSetInfoListDelete(t *testing.T) {
	s, _ := storetest.Start(t, "credentials_crud")
	ctx := t.Context()
	kek := newKEK(t, "kek")
	cs := credentials.NewStore(s, &credentials.Keyring{Current: kek}, fields)
	if !cs.Available() {
		t.Fatal("a store with a key is not available")
	}
	secret := "sk-admin-Q7f3kLm9Zp2Xw8Rt4Yv6Bn1Hc5Jd0Ge"
	info, err := cs.Set(ctx, "acme", "openai", map[string]string{"admin_key": secret}, "usr_alice")
	if err != nil {
		t.Fatal(err)
	}
	if info.Tenant != "acme" || info.Provider != "openai" || info.SetBy != "usr_alice" || info.KEKID != kek.ID ||
		!strings.HasPrefix(info.Fingerprint, "sha256:") || len(info.Fingerprint) != len("sha256:")+12 || info.UpdatedAt.IsZero() {
		t.Fatalf("info %+v", info)
	}
	if _, err := cs.Set(ctx, "acme", "twilio", map[string]string{"account_sid": "AC0123456789", "auth_token": "tok-Secret-0987654321"}, "usr_bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Set(ctx, "globex", "openai", map[string]string{"admin_key": secret}, "usr_carol"); err != nil {
		t.Fatal(err)
	}

	// The table holds neither a value nor any 8 bytes of one.
	stored := strings.Join(rawRows(t, s), "\n")
	for _, v := range []string{secret, "tok-Secret-0987654321", "AC0123456789"} {
		for i := 0; i+8 <= len(v); i++ {
			if strings.Contains(stored, v[i:i+8]) {
				t.Fatalf("the stored rows hold %q of a secret:\n%s", v[i:i+8], stored)
			}
		}
	}

	got, ok, err := cs.Info(ctx, "acme", "openai")
	if err != nil || !ok || got != info {
		t.Fatalf("Info: %+v %v %v, want %+v", got, ok, err, info)
	}
	if _, ok, err := cs.Info(ctx, "acme", "exa"); ok || err != nil {
		t.Fatalf("Info of none: %v %v", ok, err)
	}
	list, err := cs.List(ctx, "acme")
	if err != nil || len(list) != 2 || list[0].Provider != "openai" || list[1].Provider != "twilio" {
		t.Fatalf("List: %+v %v", list, err)
	}
	if other, _, _ := cs.Info(ctx, "globex", "openai"); other.Fingerprint != info.Fingerprint {
		t.Fatalf("the same secret has another fingerprint: %s, %s", other.Fingerprint, info.Fingerprint)
	}

	// Replacing changes the fingerprint; the latest version wins.
	replaced, err := cs.Set(ctx, "acme", "openai", map[string]string{"admin_key": secret + "2"}, "usr_dave")
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := cs.Info(ctx, "acme", "openai"); got.Fingerprint != replaced.Fingerprint || got.Fingerprint == info.Fingerprint || got.SetBy != "usr_dave" {
		t.Fatalf("after replacing: %+v", got)
	}

	all, err := cs.All(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("All: %d %v", len(all), err)
	}
	byKey := map[string]credentials.Credential{}
	for _, c := range all {
		byKey[c.Tenant+"/"+c.Provider] = c
	}
	if byKey["acme/openai"].Values["admin_key"] != secret+"2" || byKey["acme/twilio"].Values["auth_token"] != "tok-Secret-0987654321" ||
		byKey["globex/openai"].Values["admin_key"] != secret {
		t.Fatal("All does not open the latest values")
	}

	if err := cs.Delete(ctx, "acme", "openai", "usr_alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := cs.Info(ctx, "acme", "openai"); ok {
		t.Fatal("a deleted credential is still there")
	}
	for _, tc := range [][2]string{{"acme", "openai"}, {"acme", "exa"}, {"initech", "openai"}, {"", ""}} {
		if err := cs.Delete(ctx, tc[0], tc[1], "usr_alice"); err == nil {
			t.Fatalf("deleted %v again", tc)
		} else if _, ok := domainerr.AsNotFound(err); !ok {
			t.Fatalf("delete %v: %v", tc, err)
		}
	}
	if list, _ := cs.List(ctx, "acme"); len(list) != 1 || list[0].Provider != "twilio" {
		t.Fatalf("List after delete: %+v", list)
	}
	if all, err := cs.All(ctx); err != nil || len(all) != 2 {
		t.Fatalf("All after delete: %d %v", len(all), err)
	}
	// Set again after a delete: back.
	if _, err := cs.Set(ctx, "acme", "openai", map[string]string{"admin_key": secret}, "usr_alice"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := cs.Info(ctx, "acme", "openai"); !ok {
		t.Fatal("set after delete is not there")
	}
}

func TestSetRefuses(t *testing.T) {
	s, _ := storetest.Start(t, "credentials_invalid")
	ctx := t.Context()
	cs := credentials.NewStore(s, &credentials.Keyring{Current: newKEK(t, "kek")}, fields)
	invalid := func(tenant, provider string, values map[string]string, setBy string, want ...string) {
		t.Helper()
		_, err := cs.Set(ctx, tenant, provider, values, setBy)
		inv, ok := domainerr.AsInvalid(err)
		if !ok {
			t.Fatalf("%s %v: %v, want invalid", provider, values, err)
		}
		named := map[string]bool{}
		for _, f := range inv.Fields {
			named[f.Field] = true
		}
		for _, w := range want {
			if !named[w] {
				t.Fatalf("%s %v: %v does not name %q", provider, values, err, w)
			}
		}
		if len(inv.Fields) != len(want) {
			t.Fatalf("%s %v: %v names more than %v", provider, values, err, want)
		}
		for _, v := range values {
			if len(v) >= 8 && strings.Contains(err.Error(), v) {
				t.Fatalf("the error quotes a value: %v", err)
			}
		}
	}
	invalid("acme", "nosuch", map[string]string{"admin_key": "sk-1234567890"}, "u", "provider")
	invalid("acme", "openai", map[string]string{"admin_key": "sk-1234567890", "api_key": "x", "org": "y"}, "u", "api_key", "org")
	invalid("acme", "twilio", map[string]string{"account_sid": "AC1"}, "u", "auth_token")
	invalid("acme", "twilio", map[string]string{"account_sid": "", "auth_token": strings.Repeat("t", 4097)}, "u", "account_sid", "auth_token")
	invalid("acme", "openai", nil, "u", "admin_key")
	invalid("Acme; DROP", "openai", map[string]string{"admin_key": "sk-1234567890"}, "", "tenant", "setBy")
	// Hostile input: many long unknown names are reported bounded.
	many := map[string]string{"admin_key": "sk-1234567890"}
	for i := range 1000 {
		many[strings.Repeat("f", 500)+string(rune('a'+i%26))+strings.Repeat("x", i)] = "v"
	}
	_, err := cs.Set(ctx, "acme", "openai", many, "u")
	if inv, ok := domainerr.AsInvalid(err); !ok || len(inv.Fields) > 17 || len(err.Error()) > 4000 {
		t.Fatalf("1000 unknown fields: %d bytes of error", len(err.Error()))
	}
	if rows := rawRows(t, s); len(rows) != 0 {
		t.Fatalf("a refused set wrote %d rows", len(rows))
	}

	none := credentials.NewStore(s, nil, fields)
	if none.Available() {
		t.Fatal("a store without a key is available")
	}
	if _, err := none.Set(ctx, "acme", "openai", map[string]string{"admin_key": "sk-1234567890"}, "u"); !errors.Is(err, credentials.ErrNoKEK) {
		t.Fatalf("set without a key: %v", err)
	}
	if all, err := none.All(ctx); err != nil || all != nil {
		t.Fatalf("All without a key or rows: %v %v", all, err)
	}
	if err := none.Check(ctx); err != nil {
		t.Fatalf("Check without a key or rows: %v", err)
	}
}

// Check proves the keys open every row, naming the source and the row
// when they do not; Rotate re-seals under the current key, once.
func TestCheckAndRotate(t *testing.T) {
	s, _ := storetest.Start(t, "credentials_rotate")
	ctx := t.Context()
	oldKEK, newKEKv, wrong := newKEK(t, "old"), newKEK(t, "new"), newKEK(t, "wrong")
	old := credentials.NewStore(s, &credentials.Keyring{Current: oldKEK}, fields)
	values := map[string]map[string]string{
		"acme/openai":   {"admin_key": "sk-acme-0123456789abcdef"},
		"acme/twilio":   {"account_sid": "AC-acme-01234567", "auth_token": "tok-acme-0123456789"},
		"globex/openai": {"admin_key": "sk-globex-0123456789abcdef"},
	}
	for k, v := range values {
		tenant, provider, _ := strings.Cut(k, "/")
		if _, err := old.Set(ctx, tenant, provider, v, "usr_setup"); err != nil {
			t.Fatal(err)
		}
	}
	before, _, _ := old.Info(ctx, "acme", "openai")
	if err := old.Check(ctx); err != nil {
		t.Fatalf("check with the key that sealed: %v", err)
	}
	fp0, err := old.Fingerprint(ctx)
	if err != nil || fp0 == "" {
		t.Fatalf("fingerprint: %q %v", fp0, err)
	}

	err = credentials.NewStore(s, &credentials.Keyring{Current: wrong}, fields).Check(ctx)
	if err == nil || !strings.Contains(err.Error(), wrong.Source) || !strings.Contains(err.Error(), "acme/openai") {
		t.Fatalf("check with a wrong key: %v", err)
	}
	err = credentials.NewStore(s, nil, fields).Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "NEXUS_KEK") || !strings.Contains(err.Error(), "credentials.kek_file") {
		t.Fatalf("check without a key: %v", err)
	}
	if _, err := credentials.NewStore(s, nil, fields).All(ctx); !errors.Is(err, credentials.ErrNoKEK) {
		t.Fatalf("All without a key: %v", err)
	}
	// The wrong key knows none of the rows: All names them and opens none.
	if all, err := credentials.NewStore(s, &credentials.Keyring{Current: wrong}, fields).All(ctx); len(all) != 0 || err == nil ||
		!strings.Contains(err.Error(), "3 provider credentials do not open") {
		t.Fatalf("All with a wrong key: %d %v", len(all), err)
	}

	// The rotation's versions stay beside the old ones until the merge
	// below.
	if err := s.Exec(ctx, "SYSTEM STOP MERGES "+s.Database()+".provider_credentials", nil); err != nil {
		t.Fatal(err)
	}
	ring := &credentials.Keyring{Current: newKEKv, Previous: []*credentials.KEK{oldKEK}}
	rotating := credentials.NewStore(s, ring, fields)
	if err := rotating.Check(ctx); err != nil {
		t.Fatalf("check with the old key as previous: %v", err)
	}
	if n, err := rotating.Rotate(ctx); err != nil || n != 3 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	if n, err := rotating.Rotate(ctx); err != nil || n != 0 {
		t.Fatalf("rotate again: %d %v", n, err)
	}
	if fp, _ := rotating.Fingerprint(ctx); fp == fp0 {
		t.Fatal("the fingerprint did not change with the rotation")
	}
	after, _, _ := rotating.Info(ctx, "acme", "openai")
	if after.KEKID != newKEKv.ID || after.Fingerprint != before.Fingerprint || !after.UpdatedAt.Equal(before.UpdatedAt) || after.SetBy != before.SetBy {
		t.Fatalf("rotated info %+v, before %+v", after, before)
	}
	// The new key alone opens every row now, with the same values.
	only := credentials.NewStore(s, &credentials.Keyring{Current: newKEKv}, fields)
	if err := only.Check(ctx); err != nil {
		t.Fatalf("check with the new key alone: %v", err)
	}
	all, err := only.All(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("All after rotation: %d %v", len(all), err)
	}
	for _, c := range all {
		want := values[c.Tenant+"/"+c.Provider]
		for k, v := range want {
			if c.Values[k] != v {
				t.Fatalf("%s/%s %s changed in the rotation", c.Tenant, c.Provider, k)
			}
		}
	}
	if err := old.Check(ctx); err == nil || !strings.Contains(err.Error(), oldKEK.Source) {
		t.Fatalf("the old key alone after rotation: %v", err)
	}
	fp1, _ := only.Fingerprint(ctx)
	// A merge drops the superseded versions (the rotation wrote three,
	// kept apart until now): not a write, so the fingerprint holds.
	tbl := s.Database() + ".provider_credentials"
	for _, q := range []string{"SYSTEM START MERGES " + tbl, "OPTIMIZE TABLE " + tbl + " FINAL"} {
		if err := s.Exec(ctx, q, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := storetest.Scalar(t, s, "SELECT count() FROM "+tbl); n != "3" {
		t.Fatalf("%s rows after the merge, want the 3 latest versions", n)
	}
	if fp2, _ := only.Fingerprint(ctx); fp2 != fp1 {
		t.Fatal("the fingerprint changed without a write")
	}
}

// A row altered in the store, or copied to another tenant, does not open:
// Check names it.
func TestCheckNamesAlteredRow(t *testing.T) {
	s, _ := storetest.Start(t, "credentials_altered")
	ctx := t.Context()
	kek := newKEK(t, "kek")
	cs := credentials.NewStore(s, &credentials.Keyring{Current: kek}, fields)
	if _, err := cs.Set(ctx, "acme", "openai", map[string]string{"admin_key": "sk-0123456789abcdef"}, "usr_a"); err != nil {
		t.Fatal(err)
	}
	// Copy acme's row to globex, as someone with write access to the
	// table might.
	err := s.Exec(ctx, "INSERT INTO "+s.Database()+".provider_credentials SELECT 'globex', provider, ciphertext, kek_id, fingerprint, set_by, updated_at, deleted, version FROM "+
		s.Database()+".provider_credentials FINAL WHERE tenant = 'acme'", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = cs.Check(ctx)
	if err == nil || !strings.Contains(err.Error(), "globex/openai") || !strings.Contains(err.Error(), kek.Source) {
		t.Fatalf("a copied row: %v", err)
	}
	all, err := cs.All(ctx)
	if len(all) != 1 || all[0].Tenant != "acme" || err == nil || !strings.Contains(err.Error(), "globex/openai") {
		t.Fatalf("All with a copied row: %v %v", all, err)
	}
}

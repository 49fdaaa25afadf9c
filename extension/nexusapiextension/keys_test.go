package nexusapiextension

import (
	"strings"
	"testing"
)

func TestKeysAndRoles(t *testing.T) {
	ta := startAPI(t, "api_keys_test", nil)

	if e := ta.do("GET", "/api/v1/keys", "", nil); e.status != 401 || e.Error.Code != "UNAUTHORIZED" {
		t.Fatalf("no key: %d %+v", e.status, e.Error)
	}
	if e := ta.do("GET", "/api/v1/keys", "nxs_not_a_key", nil); e.status != 401 {
		t.Fatalf("wrong key: %d", e.status)
	}
	viewer := ta.key("viewer")
	if !strings.HasPrefix(viewer, "nxs_") || len(viewer) < 4+43 {
		t.Fatalf("key %q is not a prefixed 32-byte random key", viewer)
	}
	if e := ta.do("POST", "/api/v1/keys", viewer, map[string]string{"name": "x", "role": "admin"}); e.status != 403 || e.Error.Code != "FORBIDDEN" {
		t.Fatalf("viewer creating a key: %d %+v", e.status, e.Error)
	}
	// Bad input names the field.
	e := ta.do("POST", "/api/v1/keys", ta.admin, map[string]string{"name": "", "role": "root"})
	if e.status != 400 || len(e.Error.Details) != 2 || e.Error.Details[0].Field != "name" || e.Error.Details[1].Field != "role" {
		t.Fatalf("bad key request: %d %+v", e.status, e.Error)
	}
	if e := ta.do("POST", "/api/v1/keys", ta.admin, []byte(`{"name":"x","role":"viewer","extra":1}`)); e.status != 400 || e.Error.Details[0].Field != "extra" {
		t.Fatalf("unknown field: %d %+v", e.status, e.Error)
	}
	if e := ta.do("POST", "/api/v1/keys", ta.admin, []byte(`{"name":`)); e.status != 400 {
		t.Fatalf("invalid JSON: %d", e.status)
	}

	// Listing shows no secret; revoking makes the key useless.
	e = ta.do("GET", "/api/v1/keys", ta.admin, nil)
	if e.status != 200 || e.Pagination == nil || e.Pagination.Total != 2 || strings.Contains(string(e.Data), viewer) {
		t.Fatalf("list: %d %+v %s", e.status, e.Pagination, e.Data)
	}
	var keys []apiKey
	e.decode(t, &keys)
	var viewerID string
	for _, k := range keys {
		if k.Role == "viewer" {
			viewerID = k.ID
		}
	}
	if e := ta.do("DELETE", "/api/v1/keys/"+viewerID, ta.admin, nil); e.status != 200 {
		t.Fatalf("revoke: %d %+v", e.status, e.Error)
	}
	if e := ta.do("GET", "/api/v1/keys", viewer, nil); e.status != 401 {
		t.Fatalf("revoked key still accepted: %d", e.status)
	}
	if e := ta.do("DELETE", "/api/v1/keys/"+viewerID, ta.admin, nil); e.status != 409 {
		t.Fatalf("revoking twice: %d", e.status)
	}
	if e := ta.do("DELETE", "/api/v1/keys/key_nope", ta.admin, nil); e.status != 404 || e.Error.Code != "NOT_FOUND" {
		t.Fatalf("unknown id: %d", e.status)
	}

	// The table holds hashes only: no stored column contains a usable key.
	raw := strings.Join([]string{
		scalarAll(t, ta, "SELECT arrayStringConcat(groupArray(concat(id, name, role, prefix, key_hash)), '|') FROM api_keys_test.api_keys"),
	}, "")
	if strings.Contains(raw, viewer) || strings.Contains(raw, ta.admin) {
		t.Fatal("a key is stored in usable form")
	}
}

func TestRateLimitAndRequestID(t *testing.T) {
	ta := startAPI(t, "api_rl_test", func(c *Config) { c.RateLimit.RequestsPerSecond, c.RateLimit.Burst = 1, 3 })
	codes := map[int]int{}
	var retry string
	for range 6 {
		e := ta.do("GET", "/api/v1/keys", ta.admin, nil)
		codes[e.status]++
		if e.status == 429 {
			retry = e.header.Get("Retry-After")
		}
	}
	if codes[200] != 3 || codes[429] != 3 || retry == "" {
		t.Fatalf("statuses %v, Retry-After %q", codes, retry)
	}
	if e := ta.do("GET", "/api/v1/nothing", ta.admin, nil); e.status != 404 && e.status != 429 {
		t.Fatalf("unknown resource: %d", e.status)
	}
}

func TestHealthEndpointsNeedNoKey(t *testing.T) {
	ta := startAPI(t, "api_health_test", nil)
	for _, p := range []string{"/healthz", "/readyz"} {
		if e := ta.do("GET", p, "", nil); e.status != 200 || !e.Success {
			t.Fatalf("%s: %d", p, e.status)
		}
	}
}

func scalarAll(t *testing.T, ta *testAPI, sql string) string {
	t.Helper()
	rows, err := ta.store.Query(t.Context(), sql, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var v string
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/providertest"
)

// keySeen records which bearer keys reached the provider stand-in.
type keySeen struct {
	mu   sync.Mutex
	keys map[string]int
}

func (k *keySeen) count(key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[key]
}

// recordingStandIn is the provider stand-ins behind a proxy that notes the
// Authorization each request carries.
func recordingStandIn(t *testing.T) (*providertest.Server, *keySeen, string) {
	srv := providertest.New(t)
	seen := &keySeen{keys: map[string]int{}}
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.mu.Lock()
		seen.keys[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]++
		seen.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return srv, seen, front.URL + strings.TrimPrefix(srv.OpenAI(), srv.URL)
}

func writeKEK(t *testing.T, dir, name string) string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(b[:])), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A tenant admin sets the tenant's OpenAI admin key through the API; the
// running collector polls OpenAI with it within its refresh, no restart;
// the store holds no usable secret; a changed key is used instead of the
// old; rotating the key-encryption key (new key current, old previous,
// restart) re-seals it and polling goes on; a wrong key-encryption key
// stops the collector from starting, naming the file.
func TestTenantCredentialsThroughTheAPI(t *testing.T) {
	const admin = "nxs_e2e_credentials_admin_0123456789abcdefghij"
	_, seen, openaiURL := recordingStandIn(t)
	keys := t.TempDir()
	oldKEK := writeKEK(t, keys, "old.kek")
	data := t.TempDir()
	col := newCollector(t, data)
	col.env = []string{"NEXUS_ADMIN_KEY=" + admin, "NEXUS_OPENAI_BASE_URL=" + openaiURL,
		"NEXUS_KEK_FILE=" + oldKEK, "NEXUS_CREDENTIALS_REFRESH=1s"}
	col.start()

	if code := apiData(t, col, "POST", admin, "/api/v1/tenants", map[string]string{"id": "acme", "name": "Acme"}, nil); code != 201 {
		t.Fatalf("create tenant: HTTP %d", code)
	}
	var k struct {
		Key string `json:"key"`
	}
	if code := apiData(t, col, "POST", admin, "/api/v1/keys", map[string]string{"name": "acme admin", "role": "admin", "tenant": "acme"}, &k); code != 201 {
		t.Fatalf("acme admin key: HTTP %d", code)
	}
	// Unknown fields and providers are named.
	if code, _, raw := apiDo(t, col, k.Key, "PUT", "/api/v1/providers/openai/credentials", map[string]string{"admin_key": "x", "endpoint": "http://evil"}); code != 400 || !strings.Contains(string(raw), `"endpoint"`) {
		t.Fatalf("unknown field: HTTP %d %s", code, raw)
	}
	if code, _, raw := apiDo(t, col, k.Key, "PUT", "/api/v1/providers/nosuch/credentials", map[string]string{"api_key": "x"}); code != 400 || !strings.Contains(string(raw), `"provider"`) {
		t.Fatalf("unknown provider: HTTP %d %s", code, raw)
	}

	const first, second = "sk-admin-acme-first-0001", "sk-admin-acme-second-0002"
	var info struct {
		Fingerprint string `json:"fingerprint"`
	}
	if code := apiData(t, col, "PUT", k.Key, "/api/v1/providers/openai/credentials", map[string]string{"admin_key": first}, &info); code != 200 || !strings.HasPrefix(info.Fingerprint, "sha256:") {
		t.Fatalf("set credentials: HTTP %d %+v", code, info)
	}
	waitFor(t, 30*time.Second, "the poller uses acme's key", func() bool { return seen.count(first) > 0 })
	if _, err := col.waitForCount("SELECT count() > 0 FROM nexus.provider_health WHERE tenant = 'acme' AND provider = 'openai'", "1", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// The key check on request uses the tenant's key too, and records
	// its health under the tenant.
	before := seen.count(first)
	var check struct {
		Up bool `json:"up"`
	}
	if code := apiData(t, col, "POST", k.Key, "/api/v1/providers/openai/test", nil, &check); code != 200 || !check.Up || seen.count(first) <= before {
		t.Fatalf("key check with the tenant's credentials: HTTP %d %+v (seen %d, was %d)", code, check, seen.count(first), before)
	}
	// Write-only: the answer is a fingerprint, the store holds no usable
	// secret.
	if code, _, raw := apiDo(t, col, k.Key, "GET", "/api/v1/providers/openai/credentials", nil); code != 200 || strings.Contains(string(raw), first) {
		t.Fatalf("read credentials: HTTP %d %s", code, raw)
	}
	// Read through the store itself: the HTTP interface never shows the
	// credentials table to anyone but the operator, who sees ciphertext.
	if out, err := col.query("SELECT count() FROM nexus.provider_credentials WHERE position(ciphertext, '" + first + "') > 0 OR position(fingerprint, '" + first + "') > 0"); err != nil || out != "0" {
		t.Fatalf("plaintext in the credentials table: %q %v", out, err)
	}

	// A new key replaces the old without a restart.
	if code := apiData(t, col, "PUT", k.Key, "/api/v1/providers/openai/credentials", map[string]string{"admin_key": second}, nil); code != 200 {
		t.Fatalf("change credentials: HTTP %d", code)
	}
	waitFor(t, 30*time.Second, "the poller switches to the new key", func() bool { return seen.count(second) > 0 })

	// Rotation: the new key-encryption key current, the old previous.
	if err := col.stop(); err != nil {
		t.Fatal(err)
	}
	newKEK := writeKEK(t, keys, "new.kek")
	raw, _ := os.ReadFile(col.config)
	rotated := strings.Replace(string(raw), "kek_file: ${env:NEXUS_KEK_FILE:-}", "kek_file: "+newKEK+"\n      previous_kek_files: ["+oldKEK+"]", 1)
	if err := os.WriteFile(col.config, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	before = seen.count(second)
	col.start()
	if !strings.Contains(col.out.String(), "re-sealed") {
		t.Errorf("rotation not reported:\n%s", col.out)
	}
	waitFor(t, 30*time.Second, "polling goes on after rotation", func() bool { return seen.count(second) > before })
	if err := col.stop(); err != nil {
		t.Fatal(err)
	}

	// The new key alone opens everything now; a wrong one is refused at
	// start, naming the file it read.
	wrong := writeKEK(t, keys, "wrong.kek")
	bad := strings.Replace(string(raw), "kek_file: ${env:NEXUS_KEK_FILE:-}", "kek_file: "+wrong, 1)
	if err := os.WriteFile(col.config, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := col.tryStart(); err == nil {
		t.Fatal("the collector started with a key-encryption key that opens nothing stored")
	}
	if !strings.Contains(col.out.String(), wrong) {
		t.Fatalf("the refusal does not name %s:\n%s", wrong, col.out)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

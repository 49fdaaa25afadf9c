package nexusapiextension

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/nexus-otel/nexus/internal/storetest"
)

// startLogged starts the API on host without $NEXUS_ADMIN_KEY, its log
// recorded.
func startLogged(t *testing.T, host storetest.Host, tweak func(*Config)) (*api, string, *observer.ObservedLogs) {
	t.Helper()
	t.Setenv(AdminKeyEnv, "")
	cfg := createDefaultConfig().(*Config)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NetAddr.Endpoint = l.Addr().String()
	l.Close()
	tweak(cfg)
	core, logs := observer.New(zapcore.DebugLevel)
	set := extensiontest.NewNopSettings(componentType)
	set.Logger = zap.New(core)
	a := newAPI(cfg, set)
	if err := a.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a, "http://" + cfg.NetAddr.Endpoint, logs
}

// logText is every entry of the log with its fields, as a shipper sees it.
func logText(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintf(&b, "%s %s %v\n", e.Level, e.Message, e.ContextMap())
	}
	return b.String()
}

// The admin key generated at a first start is written to admin_key_file,
// readable by its owner only, and never logged; the log names the file.
// A restart neither writes nor logs another.
func TestGeneratedAdminKeyWrittenToFileNotLogged(t *testing.T) {
	_, host := storetest.Start(t, freshDB("api_admin_key_file"))
	path := filepath.Join(t.TempDir(), "data", "admin.key")
	a, base, logs := startLogged(t, host, func(c *Config) { c.AdminKeyFile = path })

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no admin key file: %v\n%s", err, logText(logs))
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin key file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^nxs_[A-Za-z0-9_-]{43}\n$`).Match(raw) {
		t.Fatalf("admin key file holds %q", raw)
	}
	key := strings.TrimSpace(string(raw))
	ta := &testAPI{t: t, api: a, base: base}
	if e := ta.do("GET", "/api/v1/keys", key, nil); e.status != 200 {
		t.Fatalf("the key in the file: %d", e.status)
	}
	text := logText(logs)
	if strings.Contains(text, key) || strings.Contains(text, key[:20]) {
		t.Fatalf("the admin key is in the log:\n%s", text)
	}
	if !strings.Contains(text, path) {
		t.Fatalf("the log does not say where the key is:\n%s", text)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Restart on the same store: the key stays the only one, unchanged.
	_, _, logs = startLogged(t, host, func(c *Config) { c.AdminKeyFile = path })
	again, err := os.ReadFile(path)
	if err != nil || string(again) != string(raw) {
		t.Fatalf("admin key file changed on restart: %q %v", again, err)
	}
	if text := logText(logs); strings.Contains(text, "admin_key") {
		t.Fatalf("a restart logged about an admin key:\n%s", text)
	}
}

// A file left at the path by an earlier install (its store wiped) is
// replaced, not reused or followed, and ends up 0600 whatever it was.
func TestGeneratedAdminKeyReplacesStaleFile(t *testing.T) {
	_, host := storetest.Start(t, freshDB("api_admin_key_stale"))
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.key")
	if err := os.WriteFile(path, []byte("nxs_stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(dataDirEnv, dir) // the default path: $NEXUS_DATA_DIR/admin.key
	startLogged(t, host, func(*Config) {})
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin key file: %v %v", fi, err)
	}
	if raw, _ := os.ReadFile(path); strings.Contains(string(raw), "stale") {
		t.Fatal("the stale key was kept")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".admin.key.*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

package chstoreextension

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/nexus-otel/nexus/internal/credentials"
)

func TestCredentialsConfig(t *testing.T) {
	cfg, err := loadConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Credentials.KEKFile != "" || len(cfg.Credentials.PreviousKEKFiles) != 0 {
		t.Fatalf("credentials defaults: %+v", cfg.Credentials)
	}
	cfg, err = loadConfig(t, "credentials")
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Credentials; c.KEKFile != "/etc/nexus/kek" || c.KEKEnv != "NEXUS_KEK_PROD" || len(c.PreviousKEKFiles) != 1 || c.PreviousKEKFiles[0] != "/etc/nexus/kek.2025" {
		t.Fatalf("credentials: %+v", c)
	}
	_, err = loadConfig(t, "bad_credentials")
	for _, want := range []string{
		"credentials.kek_env:",
		"credentials.previous_kek_files[1]: empty",
		"credentials.previous_kek_files[2]: /etc/nexus/./kek is credentials.kek_file",
		"credentials.previous_kek_files[3]: /etc/nexus/kek.old is listed twice",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad_credentials: %v does not say %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "previous_kek_files[0]") {
		t.Errorf("a good previous file refused: %v", err)
	}
}

// writeKEK writes a fresh random key to a file, as
// `openssl rand -base64 32` does.
func writeKEK(t *testing.T, name string) string {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// startCreds starts an extension on db with creds; the caller shuts it
// down. Logs go to the returned observer.
func startCreds(t *testing.T, db string, creds CredentialsConfig) (*chstore, *observer.ObservedLogs, error) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Database, cfg.Embedded.DataDir, cfg.Credentials = db, dataDir, creds
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	set := extensiontest.NewNopSettings(componentType)
	set.Logger = zap.New(core)
	ext := newExtension(cfg, set)
	err := ext.Start(context.Background(), componenttest.NewNopHost())
	return ext, logs, err
}

func stop(t *testing.T, ext *chstore) {
	t.Helper()
	if err := ext.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func credFields(p string) ([]string, bool) { return []string{"admin_key"}, p == "openai" }

// Start reads the key, proves it on the stored credentials, and re-seals
// those under a previous key; a missing or wrong key stops it, naming the
// file or variable.
func TestStartChecksTheKEK(t *testing.T) {
	const db = "keyring_start"
	t.Setenv("NEXUS_KEK", "")
	missing := filepath.Join(t.TempDir(), "no-such-kek")
	if _, _, err := startCreds(t, db, CredentialsConfig{KEKFile: missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("start with a missing key file: %v", err)
	} else {
		t.Log(err)
	}
	t.Setenv("TEST_KEK", "dG9vIHNob3J0")
	if _, _, err := startCreds(t, db, CredentialsConfig{KEKEnv: "TEST_KEK"}); err == nil || !strings.Contains(err.Error(), "$TEST_KEK: not 32 bytes") {
		t.Fatalf("start with a short key in the environment: %v", err)
	}
	if _, _, err := startCreds(t, db, CredentialsConfig{PreviousKEKFiles: []string{writeKEK(t, "old")}}); err == nil ||
		!strings.Contains(err.Error(), "credentials.previous_kek_files") {
		t.Fatalf("start with previous keys and no current one: %v", err)
	}

	// No key: credentials unavailable, not an error.
	ext, _, err := startCreds(t, db, CredentialsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if ext.Keyring() != nil || credentials.RingOf(ext.Store()) != nil {
		t.Fatal("a keyring without a key")
	}
	stop(t, ext)

	oldFile := writeKEK(t, "old")
	ext, _, err = startCreds(t, db, CredentialsConfig{KEKFile: oldFile})
	if err != nil {
		t.Fatal(err)
	}
	ring := credentials.RingOf(ext.Store())
	if ring == nil || ext.Keyring() != ring || ring.Current.Source != "file "+oldFile {
		t.Fatalf("keyring of the store: %v, of the extension: %v", ring, ext.Keyring())
	}
	cs := credentials.NewStore(ext.Store(), ring, credFields)
	const secret = "sk-admin-live-0123456789abcdef"
	if _, err := cs.Set(context.Background(), "acme", "openai", map[string]string{"admin_key": secret}, "usr_a"); err != nil {
		t.Fatal(err)
	}
	oldID := ring.Current.ID
	stop(t, ext)
	if ext.Keyring() != nil {
		t.Fatal("a keyring after shutdown")
	}

	newFile := writeKEK(t, "new")
	if _, _, err := startCreds(t, db, CredentialsConfig{KEKFile: newFile}); err == nil ||
		!strings.Contains(err.Error(), newFile) || !strings.Contains(err.Error(), "acme/openai") {
		t.Fatalf("start with a wrong key: %v", err)
	} else {
		t.Log(err)
	}
	if _, _, err := startCreds(t, db, CredentialsConfig{}); err == nil || !strings.Contains(err.Error(), "NEXUS_KEK") {
		t.Fatalf("start with credentials stored and no key: %v", err)
	} else {
		t.Log(err)
	}

	// Rotation: the new key current, the old one previous.
	ext, logs, err := startCreds(t, db, CredentialsConfig{KEKFile: newFile, PreviousKEKFiles: []string{oldFile}})
	if err != nil {
		t.Fatal(err)
	}
	resealed := logs.FilterMessageSnippet("re-sealed").All()
	if len(resealed) != 1 || resealed[0].ContextMap()["credentials"] != int64(1) {
		t.Fatalf("rotation log: %+v", resealed)
	}
	oldKey, _ := os.ReadFile(oldFile)
	newKey, _ := os.ReadFile(newFile)
	for _, e := range logs.All() {
		line := fmt.Sprint(e.Message, e.ContextMap())
		if strings.Contains(line, strings.TrimSpace(string(oldKey))[:12]) || strings.Contains(line, strings.TrimSpace(string(newKey))[:12]) || strings.Contains(line, secret) {
			t.Fatalf("a key or secret logged: %s", line)
		}
	}
	stop(t, ext)

	// The old key can go: the new one alone opens everything.
	ext, _, err = startCreds(t, db, CredentialsConfig{KEKFile: newFile})
	if err != nil {
		t.Fatalf("start with the new key alone after rotation: %v", err)
	}
	defer stop(t, ext)
	all, err := credentials.NewStore(ext.Store(), credentials.RingOf(ext.Store()), credFields).All(context.Background())
	if err != nil || len(all) != 1 || all[0].Values["admin_key"] != secret || all[0].KEKID == oldID {
		t.Fatalf("after rotation: %v %v", all, err)
	}
}

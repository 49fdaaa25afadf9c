package credentials

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/domainerr"
)

func testKEK(t *testing.T, seed byte, source string) *KEK {
	t.Helper()
	var key [32]byte
	for i := range key {
		key[i] = seed + byte(i)
	}
	return newKEK(key, source)
}

func TestSealOpenRoundTrip(t *testing.T) {
	ring := &Keyring{Current: testKEK(t, 1, "file /a")}
	plain := []byte(`{"api_key":"sk-live-0123456789abcdef"}`)
	ct, id, err := ring.Seal("acme", "openai", plain)
	if err != nil {
		t.Fatal(err)
	}
	if id != ring.Current.ID || len(id) != 16 {
		t.Fatalf("kek id %q, want %q", id, ring.Current.ID)
	}
	raw, err := base64.StdEncoding.DecodeString(ct)
	if err != nil || len(raw) != 12+len(plain)+16 {
		t.Fatalf("ciphertext is not base64(nonce||sealed): %d bytes, %v", len(raw), err)
	}
	if bytes.Contains(raw, plain[:8]) || strings.Contains(ct, "sk-live") {
		t.Fatal("ciphertext holds the plaintext")
	}
	got, err := ring.Open("acme", "openai", ct, id)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q %v", got, err)
	}
	ct2, _, _ := ring.Seal("acme", "openai", plain)
	if ct2 == ct {
		t.Fatal("two seals of the same plaintext are equal: the nonce repeats")
	}
}

// A ciphertext is bound to its tenant and provider, and to every byte of
// itself.
func TestOpenRefuses(t *testing.T) {
	cur := testKEK(t, 1, "file /keys/current")
	ring := &Keyring{Current: cur}
	ct, id, err := ring.Seal("acme", "openai", []byte("secret-value-1234"))
	if err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"other tenant":   func() ([]byte, error) { return ring.Open("globex", "openai", ct, id) },
		"other provider": func() ([]byte, error) { return ring.Open("acme", "exa", ct, id) },
		"swapped":        func() ([]byte, error) { return ring.Open("openai", "acme", ct, id) },
		"unknown key":    func() ([]byte, error) { return ring.Open("acme", "openai", ct, "0000000000000000") },
		"not base64":     func() ([]byte, error) { return ring.Open("acme", "openai", "!!"+ct, id) },
		"truncated":      func() ([]byte, error) { return ring.Open("acme", "openai", ct[:16], id) },
	} {
		if got, err := open(); err == nil || got != nil {
			t.Errorf("%s: opened (%q)", name, got)
		}
	}
	raw, _ := base64.StdEncoding.DecodeString(ct)
	for i := range raw {
		tampered := bytes.Clone(raw)
		tampered[i] ^= 0x01
		if _, err := ring.Open("acme", "openai", base64.StdEncoding.EncodeToString(tampered), id); err == nil {
			t.Fatalf("byte %d flipped: still opens", i)
		}
	}
	_, err = ring.Open("acme", "openai", ct, "0000000000000000")
	if err == nil || !strings.Contains(err.Error(), "file /keys/current") || !strings.Contains(err.Error(), "acme/openai") {
		t.Fatalf("unknown key's error does not name the source and the row: %v", err)
	}
	wrong := &Keyring{Current: &KEK{ID: cur.ID, Source: "env OTHER", key: testKEK(t, 9, "").key}}
	if _, err := wrong.Open("acme", "openai", ct, id); err == nil || !strings.Contains(err.Error(), "env OTHER") {
		t.Fatalf("another key under the same id: %v", err)
	}
	// A previous key still opens what it sealed.
	rotated := &Keyring{Current: testKEK(t, 2, "file /new"), Previous: []*KEK{cur}}
	if got, err := rotated.Open("acme", "openai", ct, id); err != nil || string(got) != "secret-value-1234" {
		t.Fatalf("previous key: %q %v", got, err)
	}
}

func TestSealWithoutKey(t *testing.T) {
	for _, ring := range []*Keyring{nil, {}, {Previous: []*KEK{testKEK(t, 1, "x")}}} {
		if _, _, err := ring.Seal("acme", "openai", []byte("x")); !errors.Is(err, ErrNoKEK) {
			t.Fatalf("seal without a current key: %v", err)
		}
	}
	if _, ok := domainerr.AsConflict(ErrNoKEK); !ok {
		t.Fatal("ErrNoKEK is not a conflict")
	}
}

func TestLoadKEK(t *testing.T) {
	var key [32]byte
	for i := range key {
		key[i] = byte(0xa0 + i)
	}
	sum := sha256.Sum256(key[:])
	wantID := hex.EncodeToString(sum[:])[:16]
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("NEXUS_KEK", "")
	t.Setenv("TEST_KEK", "")

	for name, content := range map[string]string{
		"std":     base64.StdEncoding.EncodeToString(key[:]) + "\n",
		"raw-url": "  " + base64.RawURLEncoding.EncodeToString(key[:]) + " \r\n",
		"hex":     hex.EncodeToString(key[:]) + "\n",
		"HEX":     strings.ToUpper(hex.EncodeToString(key[:])),
	} {
		p := write(name, content)
		k, err := LoadKEK(p, "")
		if err != nil || k == nil || k.ID != wantID || k.key != key || k.Source != "file "+p {
			t.Fatalf("%s: %+v %v", name, k, err)
		}
	}

	t.Setenv("TEST_KEK", base64.StdEncoding.EncodeToString(key[:]))
	if k, err := LoadKEK("", "TEST_KEK"); err != nil || k == nil || k.ID != wantID || k.Source != "env TEST_KEK" {
		t.Fatalf("env: %+v %v", k, err)
	}
	// The default variable, and the file winning over it.
	t.Setenv("NEXUS_KEK", hex.EncodeToString(key[:]))
	if k, err := LoadKEK("", ""); err != nil || k == nil || k.Source != "env NEXUS_KEK" {
		t.Fatalf("default env: %+v %v", k, err)
	}
	other := write("other", base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if k, err := LoadKEK(other, ""); err != nil || k.ID == wantID || k.Source != "file "+other {
		t.Fatalf("file over env: %+v %v", k, err)
	}
	t.Setenv("NEXUS_KEK", "   ")
	if k, err := LoadKEK("", ""); k != nil || err != nil {
		t.Fatalf("neither set: %+v %v", k, err)
	}

	short := base64.StdEncoding.EncodeToString(key[:16])
	for _, tc := range []struct {
		file, env, envValue, want string
	}{
		{file: write("short", short), want: "from file " + filepath.Join(dir, "short") + ": not 32 bytes"},
		{file: write("long-hex", hex.EncodeToString(append(key[:], 1))), want: "from file " + filepath.Join(dir, "long-hex") + ": not 32 bytes"},
		{file: write("garbage", "this is not a key at all!"), want: "from file " + filepath.Join(dir, "garbage") + ": neither base64 nor hex"},
		{file: write("empty", "\n"), want: "from file " + filepath.Join(dir, "empty") + ": empty"},
		{file: write("huge", strings.Repeat("A", 10000)), want: "not a key file"},
		{file: filepath.Join(dir, "missing"), want: "from file " + filepath.Join(dir, "missing") + ": no such file"},
		{env: "TEST_KEK", envValue: short, want: "credentials: key-encryption key from $TEST_KEK: not 32 bytes"},
		{envValue: hex.EncodeToString(key[:31]), want: "from $NEXUS_KEK: not 32 bytes"},
	} {
		if tc.envValue != "" {
			name := tc.env
			if name == "" {
				name = "NEXUS_KEK"
			}
			t.Setenv(name, tc.envValue)
		}
		k, err := LoadKEK(tc.file, tc.env)
		if err == nil || k != nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "credentials: key-encryption key from ") {
			t.Errorf("%q/%q: %v, want %q", tc.file, tc.env, err, tc.want)
			continue
		}
		// The error never quotes what it read.
		if strings.Contains(err.Error(), short) || strings.Contains(err.Error(), "not a key at all") {
			t.Errorf("error quotes the content: %v", err)
		}
	}
}

// A key never prints, whatever the verb or the container.
func TestKEKDoesNotPrint(t *testing.T) {
	k := testKEK(t, 0x41, "file /k")
	ring := &Keyring{Current: k, Previous: []*KEK{testKEK(t, 0x61, "file /old")}}
	out := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", k, k, k, *k, ring, *ring, *ring)
	b, _ := json.Marshal(ring)
	out += string(b)
	for _, kk := range []*KEK{k, ring.Previous[0]} {
		for _, form := range []string{string(kk.key[:8]), hex.EncodeToString(kk.key[:8]), base64.StdEncoding.EncodeToString(kk.key[:9]), fmt.Sprint(kk.key[:4])[1:8]} {
			if strings.Contains(out, form) {
				t.Fatalf("the key printed (%q) in %s", form, out)
			}
		}
	}
	if !strings.Contains(out, k.ID) || !strings.Contains(out, "file /k") {
		t.Fatalf("the key's id and source are not shown: %s", out)
	}
}

// A credential's values never print, log or marshal.
func TestCredentialDoesNotPrint(t *testing.T) {
	secret := "sk-proj-Zx81LongSecretValue"
	c := Credential{Info: Info{Tenant: "acme", Provider: "openai", Fingerprint: "sha256:0123456789ab", UpdatedAt: time.Now()},
		Values: map[string]string{"api_key": secret, "org": "org-Secret2Value"}}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("poll", "credential", c, "ptr", &c)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	bp, _ := json.Marshal(&c)
	for _, out := range []string{
		fmt.Sprintf("%v %+v", c, c),
		fmt.Sprintf("%#v %s %q %x %d %v %+v", c, c, c, c, c, &c, []Credential{c}),
		fmt.Sprint(c, &c, map[string]Credential{"x": c}),
		logged.String(), string(b), string(bp),
	} {
		for _, v := range c.Values {
			if strings.Contains(out, v) || strings.Contains(out, hex.EncodeToString([]byte(v))) {
				t.Fatalf("a value printed in %s", out)
			}
		}
		if !strings.Contains(out, "acme") && !strings.Contains(out, hex.EncodeToString([]byte("acme"))) {
			t.Fatalf("the credential's tenant is not shown: %s", out)
		}
	}
	if !strings.Contains(string(b), `"api_key":"[redacted]"`) || !strings.Contains(string(b), `"provider":"openai"`) {
		t.Fatalf("json: %s", b)
	}
}

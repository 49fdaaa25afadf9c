// Package credentials is tenants' provider credentials (the API keys Nexus
// polls providers' usage and billing APIs with), encrypted at rest: each
// is sealed with AES-256-GCM under a key-encryption key (KEK) that lives
// outside the store — a file or an environment variable — so that a copy
// of the database (a backup, a stolen disk, a ClickHouse user reading
// tables) holds no usable secret. The store keeps the ciphertext, the
// KEK's id (a fingerprint, never the key) and a fingerprint of the secret
// for people to tell secrets apart.
package credentials

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/store"
)

// DefaultKEKEnv is the environment variable LoadKEK reads when no file and
// no other variable is named.
const DefaultKEKEnv = "NEXUS_KEK"

// ErrNoKEK is what writing a credential answers when no key-encryption key
// is configured: nothing can be sealed, and nothing is stored in clear.
var ErrNoKEK = domainerr.Conflict("provider credentials are unavailable: no key-encryption key is configured " +
	"(set NEXUS_KEK or credentials.kek_file)")

// KEK is a key-encryption key. It prints as its id and source only: the
// key itself is never formatted, logged or marshalled.
type KEK struct {
	// ID is the first 16 hex digits of SHA-256(key): it names the key in
	// the rows sealed under it and in logs, and tells nothing of the key.
	ID string
	// Source is where the key was read: "file /path" or "env NEXUS_KEK".
	Source string
	key    [32]byte
}

// String is the key's id and source, never the key.
func (k KEK) String() string { return "KEK " + k.ID + " (" + k.Source + ")" }

// GoString is as String: %#v must not print the key either.
func (k KEK) GoString() string { return k.String() }

// maxKEKFile bounds what LoadKEK reads: a key file is ~45 bytes, and a
// wrong path (a log, a device) must not be read whole.
const maxKEKFile = 4096

// LoadKEK reads the key-encryption key from file when it is set, else from
// the environment variable env ("" is NEXUS_KEK). The content is 32 bytes
// as base64 (standard or URL alphabet, padded or not) or 64 hex digits;
// surrounding whitespace is ignored. Neither set (or the variable empty)
// is (nil, nil): credentials are then unavailable, which is not an error.
// Errors name the file or the variable, never the content.
func LoadKEK(file, env string) (*KEK, error) {
	if env == "" {
		env = DefaultKEKEnv
	}
	var raw []byte
	var source, from string
	if file != "" {
		source, from = "file "+file, "file "+file
		b, err := readBounded(file)
		if err != nil {
			return nil, fmt.Errorf("credentials: key-encryption key from %s: %w", from, err)
		}
		raw = b
	} else {
		v := os.Getenv(env)
		if strings.TrimSpace(v) == "" {
			return nil, nil
		}
		source, from = "env "+env, "$"+env
		raw = []byte(v)
	}
	key, err := parseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("credentials: key-encryption key from %s: %w", from, err)
	}
	return newKEK(key, source), nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		// The caller names the file already.
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKEKFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKEKFile {
		return nil, fmt.Errorf("more than %d bytes: not a key file", maxKEKFile)
	}
	return b, nil
}

// parseKey decodes 32 bytes from base64 or hex. The error never quotes
// the input: a key one character short is still almost the whole key.
func parseKey(raw []byte) ([32]byte, error) {
	var key [32]byte
	s := string(bytes.TrimSpace(raw))
	if s == "" {
		return key, errors.New("empty")
	}
	decoded := func() []byte {
		if len(s) == 64 {
			if b, err := hex.DecodeString(s); err == nil {
				return b
			}
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				return b
			}
		}
		return nil
	}()
	if decoded == nil {
		return key, errors.New("neither base64 nor hex (make one with: openssl rand -base64 32)")
	}
	if len(decoded) != len(key) {
		return key, fmt.Errorf("not 32 bytes (decoded %d; make one with: openssl rand -base64 32)", len(decoded))
	}
	copy(key[:], decoded)
	return key, nil
}

func newKEK(key [32]byte, source string) *KEK {
	sum := sha256.Sum256(key[:])
	return &KEK{ID: hex.EncodeToString(sum[:])[:16], Source: source, key: key}
}

// Keyring is the key that seals (Current) and the keys being rotated away
// from (Previous), which still open what they sealed.
type Keyring struct {
	Current  *KEK
	Previous []*KEK
}

// KeyringSource is implemented by a store that knows the installation's
// keyring (the chstore extension's stores).
type KeyringSource interface{ Keyring() *Keyring }

// RingOf is s's keyring, nil when s knows none (not a KeyringSource, or
// credentials are unavailable).
func RingOf(s store.Store) *Keyring {
	if src, ok := s.(KeyringSource); ok {
		return src.Keyring()
	}
	return nil
}

// usable tells whether the ring can seal.
func (k *Keyring) usable() bool { return k != nil && k.Current != nil }

// find is the key named id, nil when the ring holds none.
func (k *Keyring) find(id string) *KEK {
	if k == nil {
		return nil
	}
	if k.Current != nil && k.Current.ID == id {
		return k.Current
	}
	for _, p := range k.Previous {
		if p != nil && p.ID == id {
			return p
		}
	}
	return nil
}

// sources names where the ring's keys were read, for errors.
func (k *Keyring) sources() string {
	if !k.usable() {
		return "no key-encryption key"
	}
	names := []string{k.Current.Source}
	for _, p := range k.Previous {
		if p != nil {
			names = append(names, p.Source)
		}
	}
	return strings.Join(names, ", ")
}

// aad binds a ciphertext to its row: a ciphertext copied to another
// tenant or provider does not open there.
func aad(tenant, provider string) []byte {
	return []byte("nexus-cred-v1\x00" + tenant + "\x00" + provider)
}

func aead(k *KEK) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k.key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext for tenant's provider under the current key:
// AES-256-GCM with a random 12-byte nonce, returned as
// base64(nonce||sealed) with the key's id. ErrNoKEK without a current key.
func (k *Keyring) Seal(tenant, provider string, plaintext []byte) (string, string, error) {
	if !k.usable() {
		return "", "", ErrNoKEK
	}
	g, err := aead(k.Current)
	if err != nil {
		return "", "", fmt.Errorf("seal the credential of %s/%s: %w", tenant, provider, err)
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plaintext)+g.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", "", fmt.Errorf("seal the credential of %s/%s: %w", tenant, provider, err)
	}
	sealed := g.Seal(nonce, nonce, plaintext, aad(tenant, provider))
	return base64.StdEncoding.EncodeToString(sealed), k.Current.ID, nil
}

// Open decrypts what Seal returned for the same tenant and provider, with
// the key kekID names (the current one or a previous one).
func (k *Keyring) Open(tenant, provider, ciphertext, kekID string) ([]byte, error) {
	kek := k.find(kekID)
	if kek == nil {
		return nil, fmt.Errorf("the credential of %s/%s is sealed under key-encryption key %s, which is not among the keys read (%s)",
			tenant, provider, kekID, k.sources())
	}
	g, err := aead(kek)
	if err != nil {
		return nil, fmt.Errorf("open the credential of %s/%s: %w", tenant, provider, err)
	}
	b, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil || len(b) < g.NonceSize()+g.Overhead() {
		return nil, fmt.Errorf("the credential of %s/%s is not a sealed credential (altered in the store?)", tenant, provider)
	}
	plain, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], aad(tenant, provider))
	if err != nil {
		return nil, fmt.Errorf("the credential of %s/%s does not open with key-encryption key %s (%s): altered, or copied from another tenant or provider",
			tenant, provider, kek.ID, kek.Source)
	}
	return plain, nil
}

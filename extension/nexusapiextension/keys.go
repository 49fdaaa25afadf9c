package nexusapiextension

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/nexus-otel/nexus/internal/store"
)

// keyPrefix marks Nexus API keys, so that they are recognisable in a config
// or a secret scanner.
const keyPrefix = "nxs_"

// apiKey is a key as stored: never the key itself, only its hash.
type apiKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	hash      string
}

// keyStore keeps the keys in memory (authentication is on every request)
// and writes every change through to the api_keys table.
type keyStore struct {
	store store.Store
	mu    sync.RWMutex
	byID  map[string]apiKey
	// gen counts this process's writes, so that a reload that read the
	// table before a write does not put back what the write replaced
	// (keyrefresh.go).
	gen uint64
	// seen is the fingerprint of the table the map was loaded from.
	seen string
}

// newKey makes a random key: 32 random bytes, URL-safe, with the prefix.
func newKey() (secret string, id string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	return keyPrefix + base64.RawURLEncoding.EncodeToString(b[:]), newID("key_"), nil
}

// hashKey is SHA-256: keys are 256-bit random, so a slow password hash adds
// nothing but latency to every request.
func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (ks *keyStore) load(ctx context.Context) error {
	fp, err := ks.fingerprint(ctx)
	if err != nil {
		return err
	}
	byID, err := ks.read(ctx)
	if err != nil {
		return err
	}
	ks.mu.Lock()
	ks.byID, ks.seen = byID, fp
	ks.mu.Unlock()
	return nil
}

// read reads the latest version of every key.
func (ks *keyStore) read(ctx context.Context) (map[string]apiKey, error) {
	rows, err := ks.store.Query(ctx, "SELECT id, name, role, prefix, key_hash, created_at, revoked_at FROM "+
		ks.store.Database()+".api_keys FINAL", nil)
	if err != nil {
		return nil, fmt.Errorf("load API keys: %w", err)
	}
	defer rows.Close()
	byID := map[string]apiKey{}
	for rows.Next() {
		var k apiKey
		var revoked *time.Time
		if err := rows.Scan(&k.ID, &k.Name, &k.Role, &k.Prefix, &k.hash, &k.CreatedAt, &revoked); err != nil {
			return nil, fmt.Errorf("load API keys: %w", err)
		}
		k.RevokedAt = revoked
		byID[k.ID] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load API keys: %w", err)
	}
	return byID, nil
}

// lookup finds an active key by its secret, comparing hashes in constant time.
func (ks *keyStore) lookup(secret string) (apiKey, bool) {
	h := hashKey(secret)
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.byID {
		if k.RevokedAt == nil && subtle.ConstantTimeCompare([]byte(k.hash), []byte(h)) == 1 {
			return k, true
		}
	}
	return apiKey{}, false
}

func (ks *keyStore) active() int {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	n := 0
	for _, k := range ks.byID {
		if k.RevokedAt == nil {
			n++
		}
	}
	return n
}

func (ks *keyStore) write(ctx context.Context, k apiKey) error {
	b, err := ks.store.PrepareBatch(ctx, "api_keys", []string{"id", "name", "role", "prefix", "key_hash", "created_at", "revoked_at", "version"})
	if err != nil {
		return err
	}
	var revoked any
	if k.RevokedAt != nil {
		revoked = *k.RevokedAt
	}
	if err := b.Append(k.ID, k.Name, k.Role, k.Prefix, k.hash, k.CreatedAt, revoked, time.Now()); err != nil {
		return err
	}
	if err := b.Send(ctx); err != nil {
		return err
	}
	ks.mu.Lock()
	ks.byID[k.ID] = k
	ks.gen++
	ks.mu.Unlock()
	return nil
}

// create stores a new key for secret (generated when empty) and returns it.
func (ks *keyStore) create(ctx context.Context, name, role, secret string) (apiKey, string, error) {
	generated, id, err := newKey()
	if err != nil {
		return apiKey{}, "", err
	}
	if secret == "" {
		secret = generated
	}
	k := apiKey{ID: id, Name: name, Role: role, Prefix: secret[:min(len(secret), 12)], CreatedAt: time.Now().UTC().Truncate(time.Millisecond), hash: hashKey(secret)}
	return k, secret, ks.write(ctx, k)
}

// --- handlers ---

type createKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// validate names each bad field of a key request.
func (req createKeyRequest) validate() []FieldError {
	var details []FieldError
	if req.Name == "" || len(req.Name) > 100 {
		details = append(details, FieldError{Field: "name", Message: "required, at most 100 characters"})
	}
	if _, ok := roleRank[req.Role]; !ok {
		details = append(details, FieldError{Field: "role", Message: "must be viewer, editor or admin"})
	}
	return details
}

func (a *api) listKeys(w http.ResponseWriter, r *http.Request) *APIError {
	a.keys.mu.RLock()
	out := make([]apiKey, 0, len(a.keys.byID))
	for _, k := range a.keys.byID {
		out = append(out, k)
	}
	a.keys.mu.RUnlock()
	oldestFirst(out, func(k apiKey) (time.Time, string) { return k.CreatedAt, k.ID })
	page, apiErr := parsePage(r)
	if apiErr != nil {
		return apiErr
	}
	writeData(w, http.StatusOK, paginate(out, page), page.of(int64(len(out))))
	return nil
}

func (a *api) createKey(w http.ResponseWriter, r *http.Request) *APIError {
	var req createKeyRequest
	if err := decodeBody(r, a.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if details := req.validate(); details != nil {
		return badRequest("invalid key", details...)
	}
	k, secret, err := a.keys.create(r.Context(), req.Name, req.Role, "")
	if err != nil {
		return a.storeError(r, "create key", err)
	}
	// The secret is in this answer and nowhere else, ever.
	writeData(w, http.StatusCreated, struct {
		apiKey
		Key string `json:"key"`
	}{k, secret}, nil)
	return nil
}

func (a *api) deleteKey(w http.ResponseWriter, r *http.Request) *APIError {
	id := r.PathValue("id")
	a.keys.mu.RLock()
	k, ok := a.keys.byID[id]
	a.keys.mu.RUnlock()
	if !ok {
		return notFound("no API key " + id)
	}
	if k.RevokedAt != nil {
		return conflict("API key " + id + " is already revoked")
	}
	if id == r.Context().Value(ctxKeyID) && k.Role == roleAdmin && a.adminCount() == 1 {
		return conflict("this is the last admin key; create another admin key first")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	k.RevokedAt = &now
	if err := a.keys.write(r.Context(), k); err != nil {
		return a.storeError(r, "revoke key", err)
	}
	// Its streams here end now; other collectors see the revocation at
	// their next refresh.
	a.keysChanged()
	writeData(w, http.StatusOK, k, nil)
	return nil
}

func (a *api) adminCount() int {
	a.keys.mu.RLock()
	defer a.keys.mu.RUnlock()
	n := 0
	for _, k := range a.keys.byID {
		if k.RevokedAt == nil && k.Role == roleAdmin {
			n++
		}
	}
	return n
}

// Package ingestkeys is the ingest keys of Nexus: what an app shows to
// write calls into its tenant (OTLP through the nexusingestauth
// authenticator, the apiproxy receiver through its header). A key is
// random, shown once and stored only as a hash in the ingest_keys table.
// The Service makes, lists and revokes the keys of one tenant; the Checker
// answers the authenticator from memory, kept in step with the store.
package ingestkeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/ids"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Prefix marks ingest keys, so that a secret scanner (or a person) tells
// them from API keys (nxs_), which read the data rather than write it.
const Prefix = "nxi_"

// secretBytes is the randomness of a key: 256 bits, beyond guessing.
const secretBytes = 32

// maxSecretLen bounds what is hashed: a generated key is 47 characters,
// and a sender must not make the collector hash megabytes per request.
const maxSecretLen = 128

// Key is an ingest key as stored: never the key itself, only its hash.
type Key struct {
	ID        string     `json:"id"`
	Tenant    string     `json:"tenant"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	hash      string
}

// generate makes a random key with the prefix.
func generate() (string, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate an ingest key: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hash is SHA-256: keys are 256-bit random, so a slow password hash adds
// nothing but latency to every export.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Validate names each bad field of a new key.
func Validate(tenant, name string) []domainerr.Field {
	var details []domainerr.Field
	if tenant == "" {
		details = append(details, domainerr.Field{Field: "tenant", Message: "required"})
	}
	if name == "" || len(name) > 100 || !utf8.ValidString(name) {
		details = append(details, domainerr.Field{Field: "name", Message: "required, at most 100 bytes of UTF-8"})
	}
	return details
}

// Service makes, lists and revokes the ingest keys of a tenant, reading
// and writing the store directly: these are rare administrative calls,
// and each must see what another collector wrote.
type Service struct {
	store store.Store
}

// New is the ingest keys of s.
func New(s store.Store) *Service { return &Service{store: s} }

// Create stores a new key of tenant and returns its secret, which is
// nowhere else ever again. A bad tenant or name is a
// *domainerr.InvalidError.
func (s *Service) Create(ctx context.Context, tenant, name string) (string, Key, error) {
	if err := domainerr.Invalid("invalid ingest key", Validate(tenant, name)...); err != nil {
		return "", Key{}, err
	}
	secret, err := generate()
	if err != nil {
		return "", Key{}, err
	}
	k := Key{ID: ids.New("ik_"), Tenant: tenant, Name: name, Prefix: secret[:12],
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond), hash: hash(secret)}
	if err := s.write(ctx, k); err != nil {
		return "", Key{}, err
	}
	return secret, k, nil
}

// List is the keys of tenant, revoked ones included, oldest first.
func (s *Service) List(ctx context.Context, tenant string) ([]Key, error) {
	keys, err := s.read(ctx, "WHERE tenant = {tenant:String} ORDER BY created_at, id",
		store.Params{"tenant": tenant})
	if err != nil {
		return nil, fmt.Errorf("list ingest keys of tenant %q: %w", tenant, err)
	}
	return keys, nil
}

// Revoke revokes key id of tenant. A key of another tenant is not found,
// exactly like one that does not exist: a tenant never learns that
// another's key id is real. A key already revoked is a
// *domainerr.ConflictError.
func (s *Service) Revoke(ctx context.Context, tenant, id string) error {
	keys, err := s.read(ctx, "WHERE tenant = {tenant:String} AND id = {id:String}",
		store.Params{"tenant": tenant, "id": id})
	if err != nil {
		return fmt.Errorf("revoke ingest key %s: %w", id, err)
	}
	if len(keys) == 0 {
		return domainerr.NotFound("no ingest key " + id)
	}
	k := keys[0]
	if k.RevokedAt != nil {
		return domainerr.Conflict("ingest key " + id + " is already revoked")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	k.RevokedAt = &now
	return s.write(ctx, k)
}

// read is the latest version of the keys matching where (a condition on
// parameters, never on spliced values).
func (s *Service) read(ctx context.Context, where string, params store.Params) ([]Key, error) {
	q := "SELECT id, tenant, name, prefix, key_hash, created_at, revoked_at FROM " +
		schema.Table(s.store, schema.TableIngestKeys) + " FINAL " + where
	return scanKeys(ctx, s.store, q, params)
}

func scanKeys(ctx context.Context, s store.Store, q string, params store.Params) ([]Key, error) {
	rows, err := s.Query(ctx, q, params)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var k Key
		var revoked *time.Time
		if err := rows.Scan(&k.ID, &k.Tenant, &k.Name, &k.Prefix, &k.hash, &k.CreatedAt, &revoked); err != nil {
			return nil, err
		}
		k.RevokedAt = revoked
		out = append(out, k)
	}
	return out, rows.Err()
}

// write stores k as a whole new version of its row.
func (s *Service) write(ctx context.Context, k Key) error {
	b, err := s.store.PrepareBatch(ctx, schema.TableIngestKeys, schema.IngestKeyColumns)
	if err != nil {
		return fmt.Errorf("write ingest key %s: %w", k.ID, err)
	}
	var revoked any
	if k.RevokedAt != nil {
		revoked = *k.RevokedAt
	}
	if err := b.Append(k.ID, k.Tenant, k.Name, k.Prefix, k.hash, k.CreatedAt, revoked, time.Now()); err != nil {
		_ = b.Abort()
		return fmt.Errorf("write ingest key %s: %w", k.ID, err)
	}
	if err := b.Send(ctx); err != nil {
		return fmt.Errorf("write ingest key %s: %w", k.ID, err)
	}
	return nil
}

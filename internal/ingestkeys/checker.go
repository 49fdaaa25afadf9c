package ingestkeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/refresh"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// ErrUnknownKey is a secret that is no active ingest key: missing,
// malformed, never issued or revoked. The cases are not told apart, so a
// sender learns nothing from the answer.
var ErrUnknownKey = errors.New("unknown or revoked ingest key")

// Checker answers whether a secret is an active ingest key, from memory:
// it is asked on every export, and an unknown key — which anyone can send
// at will — must never cost a store query. Every collector sharing the
// store reads the keys again every refresh interval (Run), first a single
// cheap fingerprint of the table and the keys themselves only when it
// changed, so a new key works, and a revoked one stops working, within
// seconds everywhere.
type Checker struct {
	store store.Store
	mu    sync.RWMutex
	// byHash holds the active keys only, by the hash of their secret.
	byHash map[string]Key
	// seen is the fingerprint of the table byHash was read from.
	seen string
}

// NewChecker is a checker over s, knowing no key until Load.
func NewChecker(s store.Store) *Checker {
	return &Checker{store: s, byHash: map[string]Key{}}
}

// Check is the active key whose secret this is, or ErrUnknownKey.
func (c *Checker) Check(_ context.Context, secret string) (Key, error) {
	if len(secret) > maxSecretLen || !strings.HasPrefix(secret, Prefix) {
		return Key{}, ErrUnknownKey
	}
	// A map lookup by hash leaks nothing usable through timing: matching
	// a hash's prefix tells nothing about the secret behind it.
	h := hash(secret)
	c.mu.RLock()
	k, ok := c.byHash[h]
	c.mu.RUnlock()
	if !ok {
		return Key{}, ErrUnknownKey
	}
	return k, nil
}

// Load reads the keys.
func (c *Checker) Load(ctx context.Context) error {
	_, err := c.refresh(ctx, true)
	return err
}

// Refresh reads the keys again when the table changed; it reports
// whether it did.
func (c *Checker) Refresh(ctx context.Context) (bool, error) {
	return c.refresh(ctx, false)
}

func (c *Checker) refresh(ctx context.Context, force bool) (bool, error) {
	fp, err := c.fingerprint(ctx)
	if err != nil {
		return false, err
	}
	c.mu.RLock()
	same := fp == c.seen
	c.mu.RUnlock()
	if same && !force {
		return false, nil
	}
	keys, err := scanKeys(ctx, c.store, schema.SQL(c.store, "ingest_keys"), nil)
	if err != nil {
		return false, fmt.Errorf("load ingest keys: %w", err)
	}
	byHash := make(map[string]Key, len(keys))
	for _, k := range keys {
		if k.RevokedAt == nil {
			byHash[k.hash] = k
		}
	}
	c.mu.Lock()
	c.byHash, c.seen = byHash, fp
	c.mu.Unlock()
	return true, nil
}

// fingerprint sums up the table (sql/ingest_keys_fingerprint.sql).
func (c *Checker) fingerprint(ctx context.Context) (string, error) {
	return refresh.Scalar(ctx, c.store, schema.SQL(c.store, "ingest_keys_fingerprint"), nil, "ingest keys' versions")
}

// Run reads the keys every interval until ctx ends. A failed read keeps
// the keys as they were (a store outage must not lock every sender out)
// and is logged once until reads succeed again.
func (c *Checker) Run(ctx context.Context, every time.Duration, logger *zap.Logger) {
	refresh.Loop(ctx, every, "ingest keys", logger, c.Refresh, nil)
}

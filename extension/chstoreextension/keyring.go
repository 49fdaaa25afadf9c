package chstoreextension

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/credentials"
	"github.com/nexus-otel/nexus/internal/store"
)

// The key-encryption key of tenants' provider credentials is read at
// start (credentials.kek_file, else its variable) and proved against the
// store before anything may use it: every stored credential must open, or
// the collector stops and says which key it read — a wrong key found at
// start is a configuration error, found by a poller an hour later it is a
// silent outage. Keys being rotated away from (previous_kek_files) open
// what they sealed, and every such credential is re-sealed under the
// current key at start.

// keyringOf holds the keyring of each open store once its check passed,
// keyed by the store as retentionOf is (retention_report.go): the stores
// are what components get from the host, and the keyring is not theirs
// to carry.
var keyringOf sync.Map // store.Store → *credentials.Keyring

var (
	_ credentials.KeyringSource = (*embeddedStore)(nil)
	_ credentials.KeyringSource = (*remoteStore)(nil)
	_ credentials.KeyringSource = (*chstore)(nil)
)

// Keyring is the installation's key-encryption keys, nil while provider
// credentials are unavailable: no key configured, the check not passed
// (yet, when ClickHouse was not ready at start), or shut down.
func (s *embeddedStore) Keyring() *credentials.Keyring { return keyringFor(s) }

// Keyring is as for the embedded store.
func (s *remoteStore) Keyring() *credentials.Keyring { return keyringFor(s) }

// Keyring is the extension's answer, for components that hold it rather
// than its store.
func (e *chstore) Keyring() *credentials.Keyring {
	if e.store == nil {
		return nil
	}
	return keyringFor(e.store)
}

func keyringFor(s store.Store) *credentials.Keyring {
	if v, ok := keyringOf.Load(s); ok {
		return v.(*credentials.Keyring)
	}
	return nil
}

// loadKeyring reads the keys cfg names; nil when none is configured.
// Errors name the file or variable read.
func loadKeyring(cfg CredentialsConfig, logger *zap.Logger) (*credentials.Keyring, error) {
	cur, err := credentials.LoadKEK(cfg.KEKFile, cfg.KEKEnv)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		if len(cfg.PreviousKEKFiles) > 0 {
			return nil, fmt.Errorf("credentials.previous_kek_files: keys to rotate away from, but no current key to rotate to: "+
				"set credentials.kek_file or $%s", envOrDefault(cfg.KEKEnv))
		}
		return nil, nil
	}
	ring := &credentials.Keyring{Current: cur}
	for _, f := range cfg.PreviousKEKFiles {
		k, err := credentials.LoadKEK(f, "")
		if err != nil {
			return nil, fmt.Errorf("credentials.previous_kek_files: %w", err)
		}
		if k.ID == cur.ID {
			logger.Warn("a previous key-encryption key is the current one; nothing to rotate from it",
				zap.String("file", f), zap.String("kek_id", k.ID))
			continue
		}
		ring.Previous = append(ring.Previous, k)
	}
	return ring, nil
}

func envOrDefault(env string) string {
	if env == "" {
		return credentials.DefaultKEKEnv
	}
	return env
}

// startCredentials proves ring against the stored credentials, re-seals
// those under previous keys, and then publishes ring (Keyring). The store
// must be migrated or not need it (credentials.Store.Check takes a
// missing table for none).
func (e *chstore) startCredentials(ctx context.Context, ring *credentials.Keyring) error {
	cs := credentials.NewStore(e.store, ring, nil)
	if err := cs.Check(ctx); err != nil {
		return err
	}
	if ring == nil {
		e.logger.Info("no key-encryption key configured (credentials.kek_file, $" + envOrDefault(e.cfg.Credentials.KEKEnv) +
			"): provider credentials cannot be stored")
		return nil
	}
	if len(ring.Previous) > 0 {
		n, err := cs.Rotate(ctx)
		if err != nil {
			return err
		}
		e.logger.Info("provider credentials re-sealed under the current key-encryption key; the previous keys may be removed once every collector has restarted",
			zap.Int("credentials", n), zap.String("kek_id", ring.Current.ID), zap.String("kek_source", ring.Current.Source))
	}
	keyringOf.Store(e.store, ring)
	e.logger.Info("provider credentials available", zap.String("kek_id", ring.Current.ID), zap.String("kek_source", ring.Current.Source))
	return nil
}

// credentialsOrRefuse is startCredentials where failing start is no
// longer possible (after background migrations): a failure is logged and
// credentials stay unavailable.
func (e *chstore) credentialsOrRefuse(ctx context.Context, ring *credentials.Keyring) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := e.startCredentials(ctx, ring); err != nil {
		e.logger.Error("provider credentials refused: fix the key-encryption key and restart", zap.Error(err))
	}
}

// remoteCredentials checks the credentials of a remote store that start
// does not migrate. A server that does not answer must not stop the
// collector (as for migrations): the check then runs once it answers.
func (e *chstore) remoteCredentials(ctx context.Context, ring *credentials.Keyring) error {
	err := e.startCredentials(ctx, ring)
	if err == nil || e.store.Ping(ctx) == nil {
		return err
	}
	e.logger.Warn("ClickHouse not ready; checking provider credentials in the background", zap.Error(err))
	runCtx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for wait := time.Second; ; wait = min(wait*2, time.Minute) {
			select {
			case <-runCtx.Done():
				return
			case <-time.After(wait):
			}
			attempt, stop := context.WithTimeout(runCtx, 30*time.Second)
			if e.store.Ping(attempt) == nil {
				e.credentialsOrRefuse(attempt, ring)
				stop()
				return
			}
			stop()
		}
	}()
	return nil
}

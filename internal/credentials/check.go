package credentials

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nexus-otel/nexus/internal/store"
)

// ClickHouse's codes for a table or database that does not exist: a schema
// older than the credentials (migrate: false) holds none.
const (
	codeUnknownTable    = 60
	codeUnknownDatabase = 81
)

// stored is every live credential, none when the table does not exist yet.
func (cs *Store) stored(ctx context.Context) ([]row, error) {
	found, err := cs.live(ctx, "", "")
	if c := store.ErrorCode(err); c == codeUnknownTable || c == codeUnknownDatabase {
		return nil, nil
	}
	return found, err
}

// Check proves at start that every stored credential opens with the keys
// configured, so that a missing or wrong key stops the collector with a
// message naming where the keys were read, rather than every poll failing
// later. Credentials stored with no key configured is an error too.
func (cs *Store) Check(ctx context.Context) error {
	found, err := cs.stored(ctx)
	if err != nil {
		return fmt.Errorf("credentials: check the stored provider credentials: %w", err)
	}
	if len(found) == 0 {
		return nil
	}
	if !cs.Available() {
		return fmt.Errorf("credentials: %d provider credentials are stored (the first %s/%s) but no key-encryption key is configured: "+
			"set NEXUS_KEK or credentials.kek_file to the key they were sealed under", len(found), found[0].Tenant, found[0].Provider)
	}
	for _, r := range found {
		if _, err := cs.open(r); err != nil {
			return fmt.Errorf("credentials: a stored provider credential does not open with the keys read: %w", err)
		}
	}
	return nil
}

// Rotate re-seals under the current key every credential sealed under
// another (a previous key of the ring), and returns how many. Run again,
// it finds none. The new version is the old one plus a microsecond, not
// now: a credential set meanwhile (versioned now) wins over its
// re-sealed predecessor.
func (cs *Store) Rotate(ctx context.Context) (int, error) {
	if !cs.Available() {
		return 0, ErrNoKEK
	}
	cs.writes.Lock()
	defer cs.writes.Unlock()
	found, err := cs.stored(ctx)
	if err != nil {
		return 0, fmt.Errorf("credentials: rotate: %w", err)
	}
	n := 0
	var errs []error
	for _, r := range found {
		if r.KEKID == cs.ring.Current.ID {
			continue
		}
		plain, err := cs.ring.Open(r.Tenant, r.Provider, r.ciphertext, r.KEKID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ciphertext, kekID, err := cs.ring.Seal(r.Tenant, r.Provider, plain)
		clear(plain)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.ciphertext, r.KEKID, r.version = ciphertext, kekID, r.version.Add(time.Microsecond)
		if err := cs.write(ctx, r); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("credentials: rotate: %w", err)
	}
	return n, nil
}

package apikeys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nexus-otel/nexus/internal/schema"
)

// Bootstrap makes sure a fresh install can be administered: when no key is
// active, secret (the operator's, from the environment; at least 32
// characters) becomes the admin key, or without one a generated admin key
// is written to path. It returns the path it wrote, "" when it wrote none.
// The generated key goes nowhere else — not to the log either: logs are
// shipped to places with other readers.
func (ks *Store) Bootstrap(ctx context.Context, secret, secretSource, path string) (string, error) {
	if ks.active("", nil) > 0 {
		return "", nil
	}
	if secret != "" {
		if len(secret) < 32 {
			return "", fmt.Errorf("%s must be at least 32 characters", secretSource)
		}
		_, _, err := ks.Create(ctx, bootstrapKey("bootstrap (from "+secretSource+")"), secret)
		return "", err
	}
	secret, err := Generate()
	if err != nil {
		return "", fmt.Errorf("generate the admin key: %w", err)
	}
	// The file first: a key stored but written nowhere would lock the
	// installation out (no key could ever be created again).
	if err := writeSecretFile(path, []byte(secret+"\n")); err != nil {
		return "", fmt.Errorf("write the generated admin key (admin_key_file): %w", err)
	}
	if _, _, err := ks.Create(ctx, bootstrapKey("bootstrap"), secret); err != nil {
		// Nothing accepts that key: the file must not suggest otherwise.
		_ = os.Remove(path)
		return "", fmt.Errorf("store the generated admin key: %w", err)
	}
	return path, nil
}

// bootstrapKey is the first key: the default tenant's admin, and the
// installation's, since no one else could ever create tenants.
func bootstrapKey(name string) NewKey {
	return NewKey{Name: name, Role: RoleAdmin, Tenant: schema.DefaultTenant, InstallationAdmin: true}
}

// writeSecretFile puts data at path readable by the owner only (0600). It
// is written to a new file created exclusively in the same directory and
// renamed over path: the key is never in a file another user could open,
// a crash leaves the old file or the new one, never half of one, and a
// symlink or loose file already at path is replaced rather than followed
// or reused. Its directory is created (0700) when missing.
func writeSecretFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	// CreateTemp opens with O_EXCL and mode 0600.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create a file in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("restrict %s: %w", f.Name(), err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("move the key to %s: %w", path, err)
	}
	return nil
}

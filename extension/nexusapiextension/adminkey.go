package nexusapiextension

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.uber.org/zap"
)

// bootstrapKey makes sure a fresh install can be administered: the key in
// $NEXUS_ADMIN_KEY, or a generated admin key written to admin_key_file.
// The generated key never goes to the log: logs are shipped to places
// with other readers; the log says only where the file is.
func (a *api) bootstrapKey(ctx context.Context) error {
	if a.keys.active() > 0 {
		return nil
	}
	if secret := os.Getenv(AdminKeyEnv); secret != "" {
		if len(secret) < 32 {
			return fmt.Errorf("%s must be at least 32 characters", AdminKeyEnv)
		}
		_, _, err := a.keys.create(ctx, "bootstrap (from "+AdminKeyEnv+")", roleAdmin, secret)
		return err
	}
	secret, _, err := newKey()
	if err != nil {
		return fmt.Errorf("generate the admin key: %w", err)
	}
	path := a.cfg.adminKeyPath()
	// The file first: a key stored but written nowhere would lock the
	// installation out (no key could ever be created again).
	if err := writeSecretFile(path, []byte(secret+"\n")); err != nil {
		return fmt.Errorf("write the generated admin key (admin_key_file): %w", err)
	}
	if _, _, err := a.keys.create(ctx, "bootstrap", roleAdmin, secret); err != nil {
		// Nothing accepts that key: the file must not suggest otherwise.
		_ = os.Remove(path)
		return fmt.Errorf("store the generated admin key: %w", err)
	}
	a.logger.Warn("no API keys existed: created an admin key and wrote it to a file only this user can read; "+
		"copy it somewhere safe and delete the file", zap.String("admin_key_file", path))
	return nil
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

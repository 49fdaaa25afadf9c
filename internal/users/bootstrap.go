package users

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nexus-otel/nexus/internal/domainerr"
)

// DefaultAdminEmail is the first admin's email when the operator names
// none.
const DefaultAdminEmail = "admin@localhost"

// Bootstrap makes sure a fresh install can be signed in to: when no user
// exists, it creates an installation admin with email (DefaultAdminEmail
// when "") and password, the operator's (from the environment variable
// passwordSource names), else a generated one written to path, readable by
// its owner only. It tells whether it created the admin, and the path of
// the file it wrote ("" when none): the generated password goes nowhere
// else — not to the log either, logs are shipped to places with other
// readers.
func (s *Store) Bootstrap(ctx context.Context, email, password, passwordSource, path string) (created bool, generated string, err error) {
	s.mu.RLock()
	n := len(s.byID)
	s.mu.RUnlock()
	if n > 0 {
		return false, "", nil
	}
	if email == "" {
		email = DefaultAdminEmail
	}
	admin := NewUser{Email: email, Name: "Administrator", InstallationAdmin: true}
	if password != "" {
		if f := s.validPassword(passwordSource, password); f != nil {
			return false, "", fmt.Errorf("the first admin's password: %w", domainerr.Invalid("invalid "+passwordSource, f...))
		}
		admin.Password = password
		if _, err := s.Create(ctx, admin); err != nil {
			return false, "", fmt.Errorf("create the first admin: %w", err)
		}
		return true, "", nil
	}
	if path == "" {
		return false, "", fmt.Errorf("create the first admin: set %s or a file for a generated password", passwordSource)
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return false, "", fmt.Errorf("generate the first admin's password: %w", err)
	}
	admin.Password = base64.RawURLEncoding.EncodeToString(b[:])
	// The file first: an admin stored with a password written nowhere
	// would lock the installation out (Bootstrap never runs again).
	if err := writeSecretFile(path, []byte(admin.Password+"\n")); err != nil {
		return false, "", fmt.Errorf("write the first admin's password: %w", err)
	}
	if _, err := s.Create(ctx, admin); err != nil {
		// Nothing accepts that password: the file must not suggest
		// otherwise.
		_ = os.Remove(path)
		return false, "", fmt.Errorf("create the first admin: %w", err)
	}
	return true, path, nil
}

// writeSecretFile puts data at path readable by the owner only (0600). It
// is written to a new file created exclusively in the same directory and
// renamed over path: the secret is never in a file another user could
// open, a crash leaves the old file or the new one, never half of one, and
// a symlink or loose file already at path is replaced rather than followed
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
		return fmt.Errorf("move the secret to %s: %w", path, err)
	}
	return nil
}

package users

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"

	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/secretfile"
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
	if err := secretfile.Write(path, []byte(admin.Password+"\n")); err != nil {
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

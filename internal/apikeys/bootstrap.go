package apikeys

import (
	"context"
	"fmt"
	"os"

	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/secretfile"
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
	if err := secretfile.Write(path, []byte(secret+"\n")); err != nil {
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

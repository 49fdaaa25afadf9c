package nexusapiextension

import (
	"context"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/audit"
	"github.com/nexus-otel/nexus/internal/credentials"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/sessions"
	"github.com/nexus-otel/nexus/internal/store"
	"github.com/nexus-otel/nexus/internal/users"
)

// AdminPasswordEnv, when set at first start, is the first installation
// admin's password.
const AdminPasswordEnv = "NEXUS_ADMIN_PASSWORD"

// startPeople loads users and sessions, makes the first installation
// admin of a fresh install, and opens the audit trail, the tenants'
// credentials and single sign-on.
func (a *api) startPeople(ctx context.Context, s store.Store) error {
	a.users = users.NewStore(s, users.Options{MinPasswordLength: a.cfg.SignIn.MinPasswordLength,
		MaxFailures: a.cfg.SignIn.MaxFailures, LockOut: a.cfg.SignIn.LockOut})
	if err := a.users.Load(ctx); err != nil {
		return fmt.Errorf("load users: %w", err)
	}
	a.sessions = sessions.NewStore(s, sessions.Options{TTL: a.cfg.Sessions.TTL, IdleTimeout: a.cfg.Sessions.IdleTimeout})
	if err := a.sessions.Load(ctx); err != nil {
		return fmt.Errorf("load sessions: %w", err)
	}
	created, file, err := a.users.Bootstrap(ctx, a.cfg.SignIn.AdminEmail, os.Getenv(AdminPasswordEnv), AdminPasswordEnv, a.cfg.adminPasswordPath())
	if err != nil {
		return fmt.Errorf("create the first installation admin: %w", err)
	}
	if created && file != "" {
		// Like the admin key: the log says where, never what.
		a.logger.Warn("no users existed: created the first installation admin with a generated password in a file only this user can read; "+
			"sign in, change it, and delete the file", zap.String("email", a.cfg.SignIn.AdminEmail), zap.String("admin_password_file", file))
	}
	a.audit = audit.New(s, a.logger)
	a.credentials = credentials.NewStore(s, credentials.RingOf(s), providers.CredentialFields)
	a.startSSO(ctx)
	return nil
}

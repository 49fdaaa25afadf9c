package nexusapiextension

import (
	"errors"
	"fmt"
	"time"

	"github.com/nexus-otel/nexus/internal/sso"
)

// SessionsConfig shapes browser sessions.
type SessionsConfig struct {
	// TTL ends a session however active; IdleTimeout ends one unused
	// that long.
	TTL         time.Duration `mapstructure:"ttl"`
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// CookieSecure sends the session cookie over HTTPS only. Browsers
	// treat http://localhost as secure, so the quickstart works with it;
	// turn it off only behind a proxy that terminates TLS on another host.
	CookieSecure bool `mapstructure:"cookie_secure"`
}

// SignInConfig shapes password sign-in.
type SignInConfig struct {
	MinPasswordLength int `mapstructure:"min_password_length"`
	// MaxFailures consecutive failures for one email lock it out for
	// LockOut (unknown emails too, so that a lock-out reveals nothing).
	MaxFailures int           `mapstructure:"max_failures"`
	LockOut     time.Duration `mapstructure:"lock_out"`
	// AdminEmail is the first installation admin's email at a first
	// start; its password comes from $NEXUS_ADMIN_PASSWORD, else it is
	// generated and written to AdminPasswordFile (mode 0600; default:
	// admin.password beside admin.key).
	AdminEmail        string `mapstructure:"admin_email"`
	AdminPasswordFile string `mapstructure:"admin_password_file"`
}

func (c SessionsConfig) validateUnder(prefix string) []error {
	var errs []error
	if c.TTL < time.Minute || c.TTL > 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("%sttl: must be between 1m and 720h", prefix))
	}
	if c.IdleTimeout < time.Minute || c.IdleTimeout > c.TTL {
		errs = append(errs, fmt.Errorf("%sidle_timeout: must be at least 1m and at most ttl", prefix))
	}
	return errs
}

func (c SignInConfig) validateUnder(prefix string) []error {
	var errs []error
	if c.MinPasswordLength < 8 || c.MinPasswordLength > 128 {
		errs = append(errs, fmt.Errorf("%smin_password_length: must be between 8 and 128", prefix))
	}
	if c.MaxFailures < 1 || c.MaxFailures > 100 {
		errs = append(errs, fmt.Errorf("%smax_failures: must be between 1 and 100", prefix))
	}
	if c.LockOut < time.Second {
		errs = append(errs, fmt.Errorf("%slock_out: must be at least 1s", prefix))
	}
	if c.AdminEmail == "" {
		errs = append(errs, fmt.Errorf("%sadmin_email: required", prefix))
	}
	return errs
}

// validatePeople checks sessions, sign_in and oidc.
func (cfg *Config) validatePeople() error {
	errs := cfg.Sessions.validateUnder("sessions.")
	errs = append(errs, cfg.SignIn.validateUnder("sign_in.")...)
	if cfg.OIDC.Enabled() {
		if err := cfg.OIDC.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("oidc: %w", err))
		}
	}
	return errors.Join(errs...)
}

func defaultSessions() SessionsConfig {
	return SessionsConfig{TTL: 12 * time.Hour, IdleTimeout: 30 * time.Minute, CookieSecure: true}
}

func defaultSignIn() SignInConfig {
	return SignInConfig{MinPasswordLength: 12, MaxFailures: 5, LockOut: 15 * time.Minute, AdminEmail: "admin@localhost"}
}

// oidcConfig is the oidc block's type, named here so that config.go reads
// like the rest.
type oidcConfig = sso.Config

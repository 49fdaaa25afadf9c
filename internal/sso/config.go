package sso

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/tenants"
)

// RoleMapping grants Role in Tenant to whoever's ID token has Value in
// Claim (a string claim equal to it, or an array of strings holding it).
type RoleMapping struct {
	Claim  string `mapstructure:"claim"`
	Value  string `mapstructure:"value"`
	Tenant string `mapstructure:"tenant"`
	Role   string `mapstructure:"role"`
}

// Config is the OpenID provider Nexus signs people in with. The zero
// Config is sign-in switched off.
type Config struct {
	Issuer       string              `mapstructure:"issuer"`
	ClientID     string              `mapstructure:"client_id"`
	ClientSecret configopaque.String `mapstructure:"client_secret"`
	// RedirectURL is Nexus' callback as the browser reaches it, e.g.
	// https://nexus.example/api/v1/auth/oidc/callback; it must be
	// registered with the provider exactly so.
	RedirectURL string `mapstructure:"redirect_url"`
	// Scopes default to openid, email and profile; a provider that sends
	// groups only when asked needs "groups" added here.
	Scopes []string      `mapstructure:"scopes"`
	Roles  []RoleMapping `mapstructure:"roles"`
	// AdminClaim is "claim=value" granting installation admin, e.g.
	// "groups=nexus-admins"; empty grants it to no one.
	AdminClaim string `mapstructure:"installation_admin_claim"`
	// AllowedEmailDomains, when set, is the only domains whose (verified)
	// addresses may sign in; compared without case, subdomains not included.
	AllowedEmailDomains []string `mapstructure:"allowed_email_domains"`
}

// Enabled is whether sign-in is configured at all.
func (c *Config) Enabled() bool { return c.Issuer != "" }

var defaultScopes = []string{"openid", "email", "profile"}

func (c *Config) scopes() []string {
	if len(c.Scopes) == 0 {
		return defaultScopes
	}
	return c.Scopes
}

// Validate names every bad key. A config with no issuer and nothing else
// is valid (sign-in off); one with settings but no issuer is a mistake.
func (c *Config) Validate() error {
	var f []domainerr.Field
	bad := func(key, msg string) { f = append(f, domainerr.Field{Field: key, Message: msg}) }

	if !c.Enabled() {
		if c.ClientID != "" || c.ClientSecret != "" || c.RedirectURL != "" || len(c.Roles) > 0 || c.AdminClaim != "" {
			bad("issuer", "required when any other sso setting is given")
		}
		return domainerr.Invalid("invalid sso config", f...)
	}
	if msg := checkURL(c.Issuer); msg != "" {
		bad("issuer", msg)
	}
	if c.ClientID == "" {
		bad("client_id", "required")
	}
	if c.RedirectURL == "" {
		bad("redirect_url", "required")
	} else if msg := checkURL(c.RedirectURL); msg != "" {
		bad("redirect_url", msg)
	}
	openid := len(c.Scopes) == 0
	for i, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			bad("scopes["+strconv.Itoa(i)+"]", "must be one non-empty word")
		}
		openid = openid || s == "openid"
	}
	if !openid {
		bad("scopes", `must include "openid"`)
	}
	for i, r := range c.Roles {
		key := "roles[" + strconv.Itoa(i) + "]."
		if r.Claim == "" {
			bad(key+"claim", "required")
		}
		if r.Value == "" {
			bad(key+"value", "required")
		}
		if !tenants.ValidID(r.Tenant) {
			bad(key+"tenant", "required, a tenant id (lower-case letters, digits and -)")
		}
		if apikeys.Rank(r.Role) == 0 {
			bad(key+"role", "must be viewer, editor or admin")
		}
	}
	if c.AdminClaim != "" {
		if claim, value, ok := strings.Cut(c.AdminClaim, "="); !ok || claim == "" || value == "" {
			bad("installation_admin_claim", `must be "claim=value", e.g. "groups=nexus-admins"`)
		}
	}
	for i, d := range c.AllowedEmailDomains {
		if d == "" || strings.ContainsAny(d, "@ \t\r\n") {
			bad("allowed_email_domains["+strconv.Itoa(i)+"]", "must be a domain name, e.g. example.com")
		}
	}
	return domainerr.Invalid("invalid sso config", f...)
}

// checkURL says what is wrong with an address the provider or the browser
// is sent to, "" when nothing: https, except plain http to this machine
// (a provider or Nexus under test), since anything else lets a network
// in between read codes and tokens.
func checkURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "must be an absolute https URL"
	}
	if u.User != nil || u.Fragment != "" || u.RawQuery != "" {
		return "must have no user, query or fragment"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if loopback(u.Hostname()) {
			return ""
		}
		return "must be https (http only for 127.0.0.1 or localhost)"
	}
	return "must be an absolute https URL"
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

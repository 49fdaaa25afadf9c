package sso

import (
	"slices"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/internal/domainerr"
)

func validConfig() Config {
	return Config{
		Issuer:      "https://login.example.com/realms/nexus",
		ClientID:    "nexus",
		RedirectURL: "https://nexus.example/api/v1/auth/oidc/callback",
		Roles:       []RoleMapping{{Claim: "groups", Value: "ops", Tenant: "acme", Role: "editor"}},
		AdminClaim:  "groups=nexus-admins",
	}
}

// Every bad key is named, each alone and all at once; what is allowed
// (loopback http, no settings at all) is not refused.
func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		fields []string // nil: valid
	}{
		{"valid", func(*Config) {}, nil},
		{"off entirely", func(c *Config) { *c = Config{} }, nil},
		{"settings without issuer", func(c *Config) { c.Issuer = "" }, []string{"issuer"}},
		{"secret without issuer", func(c *Config) { *c = Config{ClientSecret: "s"} }, []string{"issuer"}},
		{"issuer http elsewhere", func(c *Config) { c.Issuer = "http://login.example.com" }, []string{"issuer"}},
		{"issuer http loopback", func(c *Config) { c.Issuer = "http://127.0.0.1:5556/dex" }, nil},
		{"issuer http localhost", func(c *Config) { c.Issuer = "http://localhost:5556" }, nil},
		{"issuer http ipv6 loopback", func(c *Config) { c.Issuer = "http://[::1]:5556" }, nil},
		{"issuer localhost lookalike", func(c *Config) { c.Issuer = "http://localhost.evil.example" }, []string{"issuer"}},
		{"issuer relative", func(c *Config) { c.Issuer = "login.example.com" }, []string{"issuer"}},
		{"issuer other scheme", func(c *Config) { c.Issuer = "ftp://login.example.com" }, []string{"issuer"}},
		{"issuer with query", func(c *Config) { c.Issuer = "https://login.example.com/?x=1" }, []string{"issuer"}},
		{"issuer with user", func(c *Config) { c.Issuer = "https://u:p@login.example.com" }, []string{"issuer"}},
		{"issuer unparseable", func(c *Config) { c.Issuer = "https://%zz" }, []string{"issuer"}},
		{"no client id", func(c *Config) { c.ClientID = "" }, []string{"client_id"}},
		{"no redirect", func(c *Config) { c.RedirectURL = "" }, []string{"redirect_url"}},
		{"redirect relative", func(c *Config) { c.RedirectURL = "/api/v1/auth/oidc/callback" }, []string{"redirect_url"}},
		{"redirect with fragment", func(c *Config) { c.RedirectURL = "https://nexus.example/cb#x" }, []string{"redirect_url"}},
		{"scopes without openid", func(c *Config) { c.Scopes = []string{"email"} }, []string{"scopes"}},
		{"scope with space", func(c *Config) { c.Scopes = []string{"openid", "a b", ""} }, []string{"scopes[1]", "scopes[2]"}},
		{"scopes with groups", func(c *Config) { c.Scopes = []string{"openid", "email", "groups"} }, nil},
		{"role unknown", func(c *Config) { c.Roles[0].Role = "owner" }, []string{"roles[0].role"}},
		{"role tenant missing", func(c *Config) { c.Roles[0].Tenant = "" }, []string{"roles[0].tenant"}},
		{"role tenant not an id", func(c *Config) { c.Roles[0].Tenant = "Acme Corp" }, []string{"roles[0].tenant"}},
		{"role claim and value missing", func(c *Config) {
			c.Roles = append(c.Roles, RoleMapping{Tenant: "acme", Role: "viewer"})
		}, []string{"roles[1].claim", "roles[1].value"}},
		{"admin claim without value", func(c *Config) { c.AdminClaim = "groups=" }, []string{"installation_admin_claim"}},
		{"admin claim without =", func(c *Config) { c.AdminClaim = "nexus-admins" }, []string{"installation_admin_claim"}},
		{"admin claim without claim", func(c *Config) { c.AdminClaim = "=x" }, []string{"installation_admin_claim"}},
		{"domains", func(c *Config) { c.AllowedEmailDomains = []string{"example.com", "@example.org", ""} },
			[]string{"allowed_email_domains[1]", "allowed_email_domains[2]"}},
		{"everything wrong", func(c *Config) {
			*c = Config{Issuer: "http://idp.example", Roles: []RoleMapping{{}}, AdminClaim: "x"}
		}, []string{"issuer", "client_id", "redirect_url", "roles[0].claim", "roles[0].value", "roles[0].tenant", "roles[0].role", "installation_admin_claim"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			err := c.Validate()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			inv, ok := domainerr.AsInvalid(err)
			if !ok {
				t.Fatalf("want invalid naming %v, got %v", tc.fields, err)
			}
			var got []string
			for _, f := range inv.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
}

func TestEnabledAndScopes(t *testing.T) {
	var c Config
	if c.Enabled() {
		t.Fatal("zero config enabled")
	}
	c = validConfig()
	if !c.Enabled() || strings.Join(c.scopes(), " ") != "openid email profile" {
		t.Fatalf("enabled %v, scopes %v", c.Enabled(), c.scopes())
	}
	c.Scopes = []string{"openid", "groups"}
	if strings.Join(c.scopes(), " ") != "openid groups" {
		t.Fatalf("scopes %v", c.scopes())
	}
}

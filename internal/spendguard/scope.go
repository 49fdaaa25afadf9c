package spendguard

import "github.com/nexus-otel/nexus/internal/schema"

// Scope is which calls a budget counts: empty fields match anything; a
// tag matches the calls whose tag TagKey is TagValue.
type Scope struct {
	Provider, Model, Service, Environment string
	Customer, User, Team, Feature         string
	TagKey, TagValue                      string
}

// Call is what the guard knows of a call before it is forwarded: where
// it goes and who it is for (from the proxy's route and request headers).
type Call struct {
	Tenant, Provider, Model, Service, Environment string
	Customer, User, Team, Feature                 string
	Tags                                          map[string]string
}

func (c Call) tenant() string { return tenantOr(c.Tenant) }

func tenantOr(t string) string {
	if t == "" {
		return schema.DefaultTenant
	}
	return t
}

// Matches tells whether s counts c.
func (s Scope) Matches(c Call) bool {
	for _, f := range [...][2]string{
		{s.Provider, c.Provider}, {s.Model, c.Model}, {s.Service, c.Service}, {s.Environment, c.Environment},
		{s.Customer, c.Customer}, {s.User, c.User}, {s.Team, c.Team}, {s.Feature, c.Feature},
	} {
		if f[0] != "" && f[0] != f[1] {
			return false
		}
	}
	if s.TagKey != "" {
		v, ok := c.Tags[s.TagKey]
		return ok && v == s.TagValue
	}
	return true
}

package sso

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/nexus-otel/nexus/internal/apikeys"
)

// Bounds on what a token may make Nexus keep: the claims are the
// provider's, and a provider (or its admin) can put anything in them.
const (
	maxSubject = 255 // OpenID Connect Core 1.0, 2: sub is at most 255 ASCII characters
	maxEmail   = 320
	maxName    = 200
	maxGroups  = 256
	maxGroup   = 256
)

// identity is who the verified token says signed in, refused when the
// email is missing, unverified or out of the allowed domains, or when no
// role is mapped.
func (p *Provider) identity(idt *oidc.IDToken, claims map[string]any) (Identity, error) {
	if idt.Subject == "" || len(idt.Subject) > maxSubject {
		return Identity{}, refuse(ReasonInvalidToken, errors.New("sub empty or over 255 bytes"))
	}
	// An azp naming another client is a token issued to that client, even
	// when this one is among its audiences.
	if azp, ok := claims["azp"].(string); ok && azp != "" && azp != p.cfg.ClientID {
		return Identity{}, refuse(ReasonWrongAudience, errors.New("azp names another client"))
	}
	email, _ := claims["email"].(string)
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || len(email) > maxEmail {
		return Identity{}, refuse(ReasonEmailMissing, nil)
	}
	if !verified(claims["email_verified"]) {
		return Identity{}, refuse(ReasonEmailNotVerified, nil)
	}
	if len(p.domains) > 0 && !p.domains[strings.ToLower(email[at+1:])] {
		return Identity{}, refuse(ReasonEmailDomain, nil)
	}

	id := Identity{
		Subject:       p.cfg.Issuer + "|" + idt.Subject,
		Email:         email,
		EmailVerified: true,
		Name:          name(claims),
		Roles:         map[string]string{},
	}
	for _, m := range p.cfg.Roles {
		if holds(claims[m.Claim], m.Value) && apikeys.Rank(m.Role) > apikeys.Rank(id.Roles[m.Tenant]) {
			id.Roles[m.Tenant] = m.Role
		}
	}
	id.InstallationAdmin = p.adminClaim != "" && holds(claims[p.adminClaim], p.adminValue)
	for _, g := range values(claims["groups"]) {
		if len(id.Groups) == maxGroups {
			break
		}
		if g != "" && len(g) <= maxGroup {
			id.Groups = append(id.Groups, g)
		}
	}
	if len(id.Roles) == 0 && !id.InstallationAdmin {
		return Identity{}, ErrNoRole
	}
	return id, nil
}

// verified reads email_verified: a boolean by the specification, the
// string "true" from some providers (Cognito); absent is not verified.
func verified(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// name is the name claim, else preferred_username, cut to maxName bytes
// of valid UTF-8.
func name(claims map[string]any) string {
	n, _ := claims["name"].(string)
	if n == "" {
		n, _ = claims["preferred_username"].(string)
	}
	n = strings.ToValidUTF8(n, "")
	if len(n) > maxName {
		n = n[:maxName]
		for !utf8.ValidString(n) {
			n = n[:len(n)-1]
		}
	}
	return n
}

// values is a claim as strings: a string is one, an array its string
// elements; anything else (numbers, objects) is none, never matched.
func values(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// holds is whether the claim is value or an array holding it; the
// comparison is exact, as the provider's admin wrote the group names.
func holds(claim any, value string) bool {
	switch v := claim.(type) {
	case string:
		return v == value
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && s == value {
				return true
			}
		}
	}
	return false
}

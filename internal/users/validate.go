package users

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nexus-otel/nexus/internal/apikeys"
	"github.com/nexus-otel/nexus/internal/domainerr"
	"github.com/nexus-otel/nexus/internal/tenants"
)

// Bounds on what a user may hold: every field comes from a request or an
// identity provider, and all of it is kept in memory.
const (
	maxEmail         = 254 // RFC 5321's longest path
	maxName          = 100
	maxPasswordBytes = 1024
	maxRoles         = 1000
	maxContacts      = 8
	maxAddress       = 256
	maxTimeZone      = 64
	maxSubject       = 512
)

// phoneNumber is E.164: what SMS gateways take.
var phoneNumber = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// contactKind tells whether Preferences may name kind.
func contactKind(kind string) bool {
	switch kind {
	case "email", "sms", "slack", "webhook":
		return true
	}
	return false
}

// severity tells whether alerts have severity sev.
func severity(sev string) bool { return sev == "info" || sev == "warning" || sev == "critical" }

// normalizeEmail is the form an email is stored and compared in: people
// type their address in any case, and mail systems treat it as one.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// field names a value in a message, cut so that a hostile key cannot
// blow up the error.
func field(prefix, key string) string {
	key = strings.ToValidUTF8(key, "?")
	if len(key) > 64 {
		key = key[:64]
		for !utf8.ValidString(key) {
			key = key[:len(key)-1]
		}
		key += "…"
	}
	return prefix + "." + key
}

func bad(name, message string) []domainerr.Field {
	return []domainerr.Field{{Field: name, Message: message}}
}

func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f })
}

// validEmail accepts a bare address (no display name), as net/mail reads
// it; a domain without a dot is allowed (admin@localhost).
func validEmail(name, email string) []domainerr.Field {
	const msg = "required, an email address (name@domain) of at most 254 characters"
	if email == "" || len(email) > maxEmail || !printable(email) {
		return bad(name, msg)
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || strings.Count(email, "@") != 1 {
		return bad(name, msg)
	}
	return nil
}

func validName(name, value string) []domainerr.Field {
	if strings.TrimSpace(value) == "" || utf8.RuneCountInString(value) > maxName || !printable(value) {
		return bad(name, "required, 1 to 100 printable characters")
	}
	return nil
}

func (s *Store) validPassword(name, password string) []domainerr.Field {
	if utf8.RuneCountInString(password) < s.o.MinPasswordLength || len(password) > maxPasswordBytes {
		return bad(name, fmt.Sprintf("at least %d characters and at most %d bytes", s.o.MinPasswordLength, maxPasswordBytes))
	}
	return nil
}

func validRoles(roles map[string]string) []domainerr.Field {
	if len(roles) > maxRoles {
		return bad("roles", fmt.Sprintf("at most %d tenants", maxRoles))
	}
	var out []domainerr.Field
	for _, tenant := range sortedKeys(roles) {
		switch {
		case !tenants.ValidID(tenant):
			out = append(out, bad(field("roles", tenant), "not a tenant id")...)
		case apikeys.Rank(roles[tenant]) == 0:
			out = append(out, bad(field("roles", tenant), "must be viewer, editor or admin")...)
		}
	}
	return out
}

func validPreferences(p Preferences) []domainerr.Field {
	var out []domainerr.Field
	if p.TimeZone != "" {
		// "Local" is the server's zone, not a place; LoadLocation refuses
		// names that climb out of the zone database ("..").
		if _, err := time.LoadLocation(p.TimeZone); err != nil || len(p.TimeZone) > maxTimeZone || p.TimeZone == "Local" || !printable(p.TimeZone) {
			out = append(out, bad("preferences.time_zone", "an IANA time zone name (Europe/Paris)")...)
		}
	}
	if p.DefaultTenant != "" && !tenants.ValidID(p.DefaultTenant) {
		out = append(out, bad("preferences.default_tenant", "not a tenant id")...)
	}
	if len(p.Contacts) > maxContacts {
		out = append(out, bad("preferences.contacts", fmt.Sprintf("at most %d contacts", maxContacts))...)
	} else {
		for _, kind := range sortedKeys(p.Contacts) {
			if !contactKind(kind) {
				out = append(out, bad(field("preferences.contacts", kind), "the kind must be email, sms, slack or webhook")...)
			} else if msg := validAddress(kind, p.Contacts[kind]); msg != "" {
				out = append(out, bad(field("preferences.contacts", kind), msg)...)
			}
		}
	}
	if len(p.Notify) > 3 {
		return append(out, bad("preferences.notify", "only info, warning and critical")...)
	}
	for _, sev := range sortedKeys(p.Notify) {
		kinds := p.Notify[sev]
		if !severity(sev) {
			out = append(out, bad(field("preferences.notify", sev), "the severity must be info, warning or critical")...)
			continue
		}
		seen := map[string]bool{}
		for _, k := range kinds {
			if _, ok := p.Contacts[k]; !ok || seen[k] || !contactKind(k) {
				out = append(out, bad(field("preferences.notify", sev), "each kind once, and only kinds set in contacts")...)
				break
			}
			seen[k] = true
		}
	}
	return out
}

// validAddress checks an address for its kind; "" when it is fine. Only
// the shape: whether anything answers there is for a test notification.
func validAddress(kind, addr string) string {
	if addr == "" || len(addr) > maxAddress || !printable(addr) {
		return fmt.Sprintf("required, at most %d printable characters", maxAddress)
	}
	switch kind {
	case "email":
		if validEmail("", addr) != nil {
			return "an email address"
		}
	case "sms":
		if !phoneNumber.MatchString(addr) {
			return "a phone number in international form (+33612345678)"
		}
	case "webhook":
		u, err := url.Parse(addr)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return "an http(s) URL without credentials in it"
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func encodePreferences(p Preferences) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode preferences: %w", err)
	}
	return string(b), nil
}

func decodePreferences(s string) Preferences {
	var p Preferences
	if s == "" || json.Unmarshal([]byte(s), &p) != nil {
		return Preferences{}
	}
	return p
}

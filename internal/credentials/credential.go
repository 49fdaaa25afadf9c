package credentials

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// Credential is a credential opened for use: its Info and its fields'
// values. However it is printed, logged or marshalled, the values show as
// "[redacted]": only code that reads Values itself sees them.
type Credential struct {
	Info
	Values map[string]string
}

const redacted = "[redacted]"

// names is the credential's field names, sorted.
func (c Credential) names() []string {
	names := make([]string, 0, len(c.Values))
	for n := range c.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// String shows whose credential it is and its field names.
func (c Credential) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "credential %s/%s %s kek=%s values={", c.Tenant, c.Provider, c.Fingerprint, c.KEKID)
	for i, n := range c.names() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(n + ":" + redacted)
	}
	b.WriteByte('}')
	return b.String()
}

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x, %d…):
// fmt would otherwise print the map for verbs String does not cover.
func (c Credential) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, c.String()) }

// GoString is String.
func (c Credential) GoString() string { return c.String() }

// LogValue keeps the values out of slog.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenant", c.Tenant), slog.String("provider", c.Provider),
		slog.String("fingerprint", c.Fingerprint), slog.String("kek_id", c.KEKID), slog.Any("fields", c.names()))
}

// MarshalJSON keeps the values out of JSON (and of zap, which marshals
// what it does not know through encoding/json).
func (c Credential) MarshalJSON() ([]byte, error) {
	masked := make(map[string]string, len(c.Values))
	for n := range c.Values {
		masked[n] = redacted
	}
	return json.Marshal(struct {
		Info
		Values map[string]string `json:"values"`
	}{c.Info, masked})
}

// Package attribution bounds and cleans the values of the attribution
// dimensions (customer, user, team, feature, tags). Senders choose these
// values freely, so they are hostile input: the cost processor cleans them
// with its configured limits (and counts what it cut), the apiproxy
// receiver bounds what it copies from headers, and the nexus exporter
// clamps to the ceilings as a last line for spans that bypassed the
// processor. One implementation, so that all three agree on what "clean"
// means.
package attribution

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults of the limits: 256 bytes holds any real identifier (a UUID is
// 36, an e-mail address at most 254), 16 tags of 64-byte names cover any
// tagging scheme seen in practice, and the bounds keep a row small.
const (
	DefaultMaxValueBytes   = 256
	DefaultMaxTagNameBytes = 64
	DefaultMaxTags         = 16
)

// Ceilings: no configuration may raise a limit past them, and the exporter
// cuts to them whatever reached it, so no sender can make a row large.
const (
	CeilingValueBytes   = 4096
	CeilingTagNameBytes = 256
	CeilingTags         = 128
)

// Clean returns s without control characters and invalid UTF-8, with
// surrounding white space trimmed, cut at a rune boundary to at most max
// bytes. changed reports that something other than white space was
// removed: a control character, an invalid byte or the tail past max. It
// reads at most a little more than max bytes of s, so a megabyte value
// costs what a short one does.
func Clean(s string, max int) (out string, changed bool) {
	if len(s) <= max && printableASCII(s) {
		return strings.TrimSpace(s), false
	}
	var b strings.Builder
	b.Grow(min(len(s), max))
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unicode.IsControl(r) {
			changed = true
			i += size
			continue
		}
		if b.Len()+size > max {
			break
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	if i < len(s) {
		changed = true
	}
	return strings.TrimSpace(b.String()), changed
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

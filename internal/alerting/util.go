package alerting

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
)

// Time layouts of query parameters.
const (
	secondLayout = "2006-01-02 15:04:05"
	milliLayout  = "2006-01-02 15:04:05.000"
)

// newID is a resource id: a prefix naming the kind (alr_, alev_) and 64
// random bits, as the API's other ids. crypto/rand's Read does not fail.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// validText is at most limit bytes without control characters.
func validText(v string, limit int) bool {
	return len(v) <= limit && !strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c == 0x7f })
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

package alerting

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/nexus-otel/nexus/internal/store"
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

// stringArrayParam renders strings as an Array(String) query parameter.
// Quotes and backslashes are escaped, so a value can never end its string
// early.
func stringArrayParam(vs []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v))
		b.WriteByte('\'')
	}
	b.WriteByte(']')
	return b.String()
}

// count runs a query answering one count.
func count(ctx context.Context, s store.Store, q string, params store.Params) (int64, error) {
	rows, err := s.Query(ctx, q, params)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n uint64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return int64(n), rows.Err()
}

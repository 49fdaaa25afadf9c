// Package ids makes the ids of stored resources (keys, budgets, alert rules
// and events): a prefix naming the kind and 64 random bits, so that an id
// says what it is and cannot be guessed from another.
package ids

import (
	"crypto/rand"
	"encoding/hex"
)

// New is an id with prefix (key_, bud_, alr_, alev_…). crypto/rand's Read
// does not fail.
func New(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

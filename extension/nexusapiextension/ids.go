package nexusapiextension

import (
	"crypto/rand"
	"encoding/hex"
)

// newID is a resource id: a prefix naming the kind (key_, bud_, alr_,
// alev_) and 64 random bits. crypto/rand's Read does not fail.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

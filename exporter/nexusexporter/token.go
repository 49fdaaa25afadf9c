package nexusexporter

import (
	"crypto/sha256"
	"encoding/hex"
)

// tokenVersion changes when the encoding (codec.go) does: a block hashed
// one way must never be taken for another hashed another way.
const tokenVersion = "nexus-block-v2"

// blockToken names a block by its table, columns, parent (the partition,
// or the block a bisected half came from) and rows: the same rows always
// yield the same token, in this process or the one that replays a
// persistent queue after a crash, so the engine recognises a block sent
// again.
func blockToken(parent string, t *tableSpec, rows []row) string {
	h := sha256.New()
	w := valueWriter{w: h}
	w.str(tokenVersion)
	w.str(parent)
	w.str(t.name)
	w.uint(uint64(len(t.columns)))
	for _, c := range t.columns {
		w.str(c)
	}
	w.rows(rows)
	return hex.EncodeToString(h.Sum(nil))
}

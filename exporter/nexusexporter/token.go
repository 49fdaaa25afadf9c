package nexusexporter

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// tokenVersion changes when the encoding below does: a block hashed one
// way must never be taken for another hashed another way.
const tokenVersion = "nexus-block-v1"

// blockToken names a block by its table, columns, parent (the partition,
// or the block a bisected half came from) and rows: the same rows always
// yield the same token, in this process or the one that replays a
// persistent queue after a crash, so the engine recognises a block sent
// again. Values are hashed by type and value, length-prefixed, so that no
// two different blocks share an encoding.
func blockToken(parent string, t *tableSpec, rows []row) string {
	h := tokenHasher{h: sha256.New()}
	h.str(tokenVersion)
	h.str(parent)
	h.str(t.name)
	h.uint(uint64(len(t.columns)))
	for _, c := range t.columns {
		h.str(c)
	}
	h.uint(uint64(len(rows)))
	for _, r := range rows {
		h.uint(uint64(len(r.vals)))
		for _, v := range r.vals {
			h.value(v)
		}
	}
	return hex.EncodeToString(h.h.Sum(nil))
}

type tokenHasher struct {
	h   hash.Hash
	buf [9]byte
}

func (t *tokenHasher) tagged(tag byte, v uint64) {
	t.buf[0] = tag
	binary.LittleEndian.PutUint64(t.buf[1:], v)
	t.h.Write(t.buf[:])
}

func (t *tokenHasher) uint(v uint64) { t.tagged('u', v) }

func (t *tokenHasher) str(s string) {
	t.tagged('s', uint64(len(s)))
	t.h.Write([]byte(s))
}

// value hashes the Go types rows carry. A type not listed falls back to
// its printed form, which is deterministic for the types the exporter
// builds rows from.
func (t *tokenHasher) value(v any) {
	switch x := v.(type) {
	case nil:
		t.tagged('n', 0)
	case string:
		t.str(x)
	case bool:
		b := uint64(0)
		if x {
			b = 1
		}
		t.tagged('b', b)
	case uint16:
		t.tagged('u', uint64(x))
	case uint64:
		t.tagged('u', x)
	case int64:
		t.tagged('i', uint64(x))
	case float32:
		t.tagged('f', uint64(math.Float32bits(x)))
	case float64:
		t.tagged('d', math.Float64bits(x))
	case time.Time:
		// Seconds and nanoseconds apart: UnixNano is undefined past 2262.
		t.tagged('t', uint64(x.Unix()))
		t.uint(uint64(x.Nanosecond()))
	case decimal.Decimal:
		t.tagged('m', 0)
		t.str(x.String())
	case map[string]uint64:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		t.tagged('M', uint64(len(keys)))
		for _, k := range keys {
			t.str(k)
			t.uint(x[k])
		}
	default:
		t.tagged('?', 0)
		t.str(fmt.Sprintf("%T:%v", v, v))
	}
}

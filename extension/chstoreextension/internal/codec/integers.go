package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
)

// ---- integers ----

type intType struct {
	name   string
	size   int
	signed bool
	min    int64
	max    uint64
	gt     reflect.Type
}

var intTypes = map[string]*intType{
	"UInt8":  {name: "UInt8", size: 1, max: math.MaxUint8, gt: reflect.TypeFor[uint8]()},
	"UInt16": {name: "UInt16", size: 2, max: math.MaxUint16, gt: reflect.TypeFor[uint16]()},
	"UInt32": {name: "UInt32", size: 4, max: math.MaxUint32, gt: reflect.TypeFor[uint32]()},
	"UInt64": {name: "UInt64", size: 8, max: math.MaxUint64, gt: reflect.TypeFor[uint64]()},
	"Int8":   {name: "Int8", size: 1, signed: true, min: math.MinInt8, max: math.MaxInt8, gt: reflect.TypeFor[int8]()},
	"Int16":  {name: "Int16", size: 2, signed: true, min: math.MinInt16, max: math.MaxInt16, gt: reflect.TypeFor[int16]()},
	"Int32":  {name: "Int32", size: 4, signed: true, min: math.MinInt32, max: math.MaxInt32, gt: reflect.TypeFor[int32]()},
	"Int64":  {name: "Int64", size: 8, signed: true, min: math.MinInt64, max: math.MaxInt64, gt: reflect.TypeFor[int64]()},
}

func (t *intType) String() string { return t.name }

func (t *intType) Append(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case int:
		return t.appendInt(buf, int64(x), v)
	case int64:
		return t.appendInt(buf, x, v)
	case int32:
		return t.appendInt(buf, int64(x), v)
	case int16:
		return t.appendInt(buf, int64(x), v)
	case int8:
		return t.appendInt(buf, int64(x), v)
	case uint:
		return t.appendUint(buf, uint64(x), v)
	case uint64:
		return t.appendUint(buf, x, v)
	case uint32:
		return t.appendUint(buf, uint64(x), v)
	case uint16:
		return t.appendUint(buf, uint64(x), v)
	case uint8:
		return t.appendUint(buf, uint64(x), v)
	case bool:
		if x {
			return t.appendUint(buf, 1, v)
		}
		return t.appendUint(buf, 0, v)
	case float64:
		return t.appendFloat(buf, x, v)
	case float32:
		return t.appendFloat(buf, float64(x), v)
	}
	return retry(t, buf, v)
}

// appendFloat accepts integral floats, which is what JSON-decoded numbers
// arrive as; anything with a fraction is refused rather than truncated.
func (t *intType) appendFloat(buf []byte, f float64, orig any) ([]byte, error) {
	if f != math.Trunc(f) || math.IsInf(f, 0) {
		return buf, badValue(t, orig, "not an integer")
	}
	if f >= 0 && f < 1<<64 {
		return t.appendUint(buf, uint64(f), orig)
	}
	if f < 0 && f >= -(1<<63) {
		return t.appendInt(buf, int64(f), orig)
	}
	return buf, t.rangeErr(orig)
}

func (t *intType) rangeErr(v any) error {
	return badValue(t, v, fmt.Sprintf("out of range [%d, %d]", t.min, t.max))
}

func (t *intType) appendInt(buf []byte, x int64, orig any) ([]byte, error) {
	if x < t.min || (x > 0 && uint64(x) > t.max) {
		return buf, t.rangeErr(orig)
	}
	return t.put(buf, uint64(x)), nil
}

func (t *intType) appendUint(buf []byte, x uint64, orig any) ([]byte, error) {
	if x > t.max {
		return buf, t.rangeErr(orig)
	}
	return t.put(buf, x), nil
}

func (t *intType) put(buf []byte, x uint64) []byte {
	switch t.size {
	case 1:
		return append(buf, byte(x))
	case 2:
		return binary.LittleEndian.AppendUint16(buf, uint16(x))
	case 4:
		return binary.LittleEndian.AppendUint32(buf, uint32(x))
	}
	return binary.LittleEndian.AppendUint64(buf, x)
}

func (t *intType) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < t.size {
		return nil, buf, shortErr(t)
	}
	rest := buf[t.size:]
	switch t.name {
	case "UInt8":
		return buf[0], rest, nil
	case "Int8":
		return int8(buf[0]), rest, nil
	case "UInt16":
		return binary.LittleEndian.Uint16(buf), rest, nil
	case "Int16":
		return int16(binary.LittleEndian.Uint16(buf)), rest, nil
	case "UInt32":
		return binary.LittleEndian.Uint32(buf), rest, nil
	case "Int32":
		return int32(binary.LittleEndian.Uint32(buf)), rest, nil
	case "UInt64":
		return binary.LittleEndian.Uint64(buf), rest, nil
	}
	return int64(binary.LittleEndian.Uint64(buf)), rest, nil
}

func (t *intType) raw(buf []byte) uint64 {
	switch t.size {
	case 1:
		return uint64(buf[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(buf))
	case 4:
		return uint64(binary.LittleEndian.Uint32(buf))
	}
	return binary.LittleEndian.Uint64(buf)
}

func (t *intType) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, t.size) }

func (t *intType) text(dst, buf []byte, _ bool) ([]byte, []byte, error) {
	if len(buf) < t.size {
		return dst, buf, shortErr(t)
	}
	u := t.raw(buf)
	if t.signed {
		shift := 64 - 8*t.size
		return strconv.AppendInt(dst, int64(u<<shift)>>shift, 10), buf[t.size:], nil
	}
	return strconv.AppendUint(dst, u, 10), buf[t.size:], nil
}

func (t *intType) goType() reflect.Type { return t.gt }

// ---- Int128 / UInt128 / Int256 / UInt256 ----

type bigIntType struct {
	name     string
	size     int
	signed   bool
	min, max *big.Int
}

var bigIntTypes = map[string]*bigIntType{
	"Int128":  newBigIntType("Int128", 16, true),
	"UInt128": newBigIntType("UInt128", 16, false),
	"Int256":  newBigIntType("Int256", 32, true),
	"UInt256": newBigIntType("UInt256", 32, false),
}

func newBigIntType(name string, size int, signed bool) *bigIntType {
	t := &bigIntType{name: name, size: size, signed: signed}
	bitsN := uint(size * 8)
	if signed {
		t.max = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bitsN-1), big.NewInt(1))
		t.min = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bitsN-1))
	} else {
		t.max = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bitsN), big.NewInt(1))
		t.min = new(big.Int)
	}
	return t
}

func (t *bigIntType) String() string { return t.name }

func (t *bigIntType) Append(buf []byte, v any) ([]byte, error) {
	var b *big.Int
	switch x := v.(type) {
	case *big.Int:
		if x == nil {
			return buf, badGoType(t, v)
		}
		b = x
	case big.Int:
		b = &x
	case string:
		var ok bool
		if b, ok = new(big.Int).SetString(x, 10); !ok {
			return buf, badValue(t, v, "not an integer")
		}
	case int, int64, int32, int16, int8:
		b = big.NewInt(reflect.ValueOf(x).Int())
	case uint, uint64, uint32, uint16, uint8:
		b = new(big.Int).SetUint64(reflect.ValueOf(x).Uint())
	default:
		return retry(t, buf, v)
	}
	if b.Cmp(t.min) < 0 || b.Cmp(t.max) > 0 {
		return buf, badValue(t, v, fmt.Sprintf("out of range [%s, %s]", t.min, t.max))
	}
	return appendBigLE(buf, b, t.size), nil
}

func (t *bigIntType) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < t.size {
		return nil, buf, shortErr(t)
	}
	return readBigLE(buf[:t.size], t.signed), buf[t.size:], nil
}

func (t *bigIntType) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, t.size) }

func (t *bigIntType) text(dst, buf []byte, _ bool) ([]byte, []byte, error) {
	if len(buf) < t.size {
		return dst, buf, shortErr(t)
	}
	return readBigLE(buf[:t.size], t.signed).Append(dst, 10), buf[t.size:], nil
}

func (*bigIntType) goType() reflect.Type { return reflect.TypeFor[*big.Int]() }

// appendBigLE writes b as a size-byte little-endian two's complement integer;
// the caller has range-checked b.
func appendBigLE(buf []byte, b *big.Int, size int) []byte {
	x := b
	if b.Sign() < 0 {
		x = new(big.Int).Add(b, new(big.Int).Lsh(big.NewInt(1), uint(size*8)))
	}
	start := len(buf)
	buf = slices.Grow(buf, size)[:start+size]
	x.FillBytes(buf[start:])
	slices.Reverse(buf[start:])
	return buf
}

// readBigLE reads a little-endian integer, two's complement when signed.
func readBigLE(le []byte, signed bool) *big.Int {
	be := make([]byte, len(le))
	for i, c := range le {
		be[len(le)-1-i] = c
	}
	b := new(big.Int).SetBytes(be)
	if signed && le[len(le)-1]&0x80 != 0 {
		b.Sub(b, new(big.Int).Lsh(big.NewInt(1), uint(len(le)*8)))
	}
	return b
}

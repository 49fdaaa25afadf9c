package rowbinary

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// ---- String ----

type stringType struct{}

func (stringType) String() string { return "String" }

func (t stringType) Append(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		return append(buf, x...), nil
	case []byte:
		buf = binary.AppendUvarint(buf, uint64(len(x)))
		return append(buf, x...), nil
	}
	return retry(t, buf, v)
}

func (t stringType) Decode(buf []byte) (any, []byte, error) {
	n, rest, ok := readLen(buf)
	if !ok {
		return nil, buf, shortErr(t)
	}
	return string(rest[:n]), rest[n:], nil
}

func (t stringType) skip(buf []byte) ([]byte, error) {
	n, rest, ok := readLen(buf)
	if !ok {
		return buf, shortErr(t)
	}
	return rest[n:], nil
}

func (t stringType) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	n, rest, ok := readLen(buf)
	if !ok {
		return dst, buf, shortErr(t)
	}
	if nested {
		return appendQuoted(dst, rest[:n]), rest[n:], nil
	}
	return append(dst, rest[:n]...), rest[n:], nil
}

func (stringType) goType() reflect.Type { return reflect.TypeFor[string]() }

// ---- FixedString(N) ----

type fixedStringType struct{ n int }

func (t *fixedStringType) String() string { return "FixedString(" + strconv.Itoa(t.n) + ")" }

func (t *fixedStringType) Append(buf []byte, v any) ([]byte, error) {
	var s []byte
	var str string
	isStr := false
	switch x := v.(type) {
	case string:
		str, isStr = x, true
	case []byte:
		s = x
	default:
		return retry(t, buf, v)
	}
	l := len(s)
	if isStr {
		l = len(str)
	}
	if l > t.n {
		return buf, badValue(t, v, fmt.Sprintf("%d bytes do not fit in %d", l, t.n))
	}
	if isStr {
		buf = append(buf, str...)
	} else {
		buf = append(buf, s...)
	}
	for i := l; i < t.n; i++ {
		buf = append(buf, 0)
	}
	return buf, nil
}

func (t *fixedStringType) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < t.n {
		return nil, buf, shortErr(t)
	}
	return string(buf[:t.n]), buf[t.n:], nil
}

func (t *fixedStringType) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, t.n) }

func (t *fixedStringType) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	if len(buf) < t.n {
		return dst, buf, shortErr(t)
	}
	if nested {
		return appendQuoted(dst, buf[:t.n]), buf[t.n:], nil
	}
	return append(dst, buf[:t.n]...), buf[t.n:], nil
}

func (*fixedStringType) goType() reflect.Type { return reflect.TypeFor[string]() }

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

// ---- Float32 / Float64 ----

type float32Type struct{}

func (float32Type) String() string { return "Float32" }

func (t float32Type) Append(buf []byte, v any) ([]byte, error) {
	f, ok := floatValue(v)
	if !ok {
		return retry(t, buf, v)
	}
	return binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(f))), nil
}

func (t float32Type) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < 4 {
		return nil, buf, shortErr(t)
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(buf)), buf[4:], nil
}

func (t float32Type) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, 4) }

func (t float32Type) text(dst, buf []byte, _ bool) ([]byte, []byte, error) {
	if len(buf) < 4 {
		return dst, buf, shortErr(t)
	}
	return appendFloat(dst, float64(math.Float32frombits(binary.LittleEndian.Uint32(buf))), 32), buf[4:], nil
}

func (float32Type) goType() reflect.Type { return reflect.TypeFor[float32]() }

type float64Type struct{}

func (float64Type) String() string { return "Float64" }

func (t float64Type) Append(buf []byte, v any) ([]byte, error) {
	if f, ok := v.(float64); ok {
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f)), nil
	}
	f, ok := floatValue(v)
	if !ok {
		return retry(t, buf, v)
	}
	return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f)), nil
}

func (t float64Type) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < 8 {
		return nil, buf, shortErr(t)
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(buf)), buf[8:], nil
}

func (t float64Type) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, 8) }

func (t float64Type) text(dst, buf []byte, _ bool) ([]byte, []byte, error) {
	if len(buf) < 8 {
		return dst, buf, shortErr(t)
	}
	return appendFloat(dst, math.Float64frombits(binary.LittleEndian.Uint64(buf)), 64), buf[8:], nil
}

func (float64Type) goType() reflect.Type { return reflect.TypeFor[float64]() }

// floatValue converts Go numbers to float64; integers beyond 2^53 lose
// precision exactly as ClickHouse's own Int→Float conversion does.
func floatValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	}
	return 0, false
}

// ---- Bool ----

type boolType struct{}

func (boolType) String() string { return "Bool" }

func (t boolType) Append(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case int, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8:
		b, err := intTypes["UInt8"].Append(nil, x)
		if err != nil || b[0] > 1 {
			return buf, badValue(t, v, "only 0 and 1 are booleans")
		}
		return append(buf, b[0]), nil
	}
	return retry(t, buf, v)
}

func (t boolType) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < 1 {
		return nil, buf, shortErr(t)
	}
	return buf[0] != 0, buf[1:], nil
}

func (t boolType) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, 1) }

func (t boolType) text(dst, buf []byte, _ bool) ([]byte, []byte, error) {
	if len(buf) < 1 {
		return dst, buf, shortErr(t)
	}
	if buf[0] != 0 {
		return append(dst, "true"...), buf[1:], nil
	}
	return append(dst, "false"...), buf[1:], nil
}

func (boolType) goType() reflect.Type { return reflect.TypeFor[bool]() }

// ---- UUID ----

// uuidType: RowBinary stores a UUID as two little-endian uint64 halves, so
// each 8-byte half of the canonical (big-endian) form is byte-reversed.
type uuidType struct{}

func (uuidType) String() string { return "UUID" }

func (t uuidType) Append(buf []byte, v any) ([]byte, error) {
	var u [16]byte
	switch x := v.(type) {
	case string:
		var ok bool
		if u, ok = parseUUID(x); !ok {
			return buf, badValue(t, v, "not a UUID")
		}
	case [16]byte:
		u = x
	case []byte:
		if len(x) != 16 {
			return buf, badValue(t, v, "want 16 bytes")
		}
		copy(u[:], x)
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Array && rv.Len() == 16 && rv.Type().Elem().Kind() == reflect.Uint8 {
			for i := range 16 {
				u[i] = byte(rv.Index(i).Uint())
			}
			break
		}
		return retry(t, buf, v)
	}
	for i := 7; i >= 0; i-- {
		buf = append(buf, u[i])
	}
	for i := 15; i >= 8; i-- {
		buf = append(buf, u[i])
	}
	return buf, nil
}

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	s = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"), "urn:uuid:")
	var h [32]byte
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return u, false
		}
		copy(h[0:8], s[0:8])
		copy(h[8:12], s[9:13])
		copy(h[12:16], s[14:18])
		copy(h[16:20], s[19:23])
		copy(h[20:32], s[24:36])
	case 32:
		copy(h[:], s)
	default:
		return u, false
	}
	if _, err := hex.Decode(u[:], h[:]); err != nil {
		return u, false
	}
	return u, true
}

func uuidBytes(buf []byte) [16]byte {
	var u [16]byte
	for i := range 8 {
		u[i] = buf[7-i]
		u[8+i] = buf[15-i]
	}
	return u
}

func appendUUIDText(dst []byte, u [16]byte) []byte {
	const hexdig = "0123456789abcdef"
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexdig[b>>4], hexdig[b&15])
	}
	return dst
}

func (t uuidType) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < 16 {
		return nil, buf, shortErr(t)
	}
	var tmp [36]byte
	return string(appendUUIDText(tmp[:0], uuidBytes(buf))), buf[16:], nil
}

func (t uuidType) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, 16) }

func (t uuidType) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	if len(buf) < 16 {
		return dst, buf, shortErr(t)
	}
	if nested {
		dst = append(dst, '\'')
	}
	dst = appendUUIDText(dst, uuidBytes(buf))
	if nested {
		dst = append(dst, '\'')
	}
	return dst, buf[16:], nil
}

func (uuidType) goType() reflect.Type { return reflect.TypeFor[string]() }

// ---- Nothing ----

// nothingType is the element type of NULL literals (Nullable(Nothing)) and
// empty array literals (Array(Nothing)); it occupies no bytes.
type nothingType struct{}

func (nothingType) String() string { return "Nothing" }

func (t nothingType) Append(buf []byte, v any) ([]byte, error) {
	return buf, badValue(t, v, "the Nothing type holds no values")
}

func (nothingType) Decode(buf []byte) (any, []byte, error) { return nil, buf, nil }
func (nothingType) skip(buf []byte) ([]byte, error)        { return buf, nil }
func (nothingType) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	if nested {
		return append(dst, "NULL"...), buf, nil
	}
	return append(dst, `\N`...), buf, nil
}
func (nothingType) goType() reflect.Type { return reflect.TypeFor[any]() }

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

// ---- Enum8 / Enum16 ----

type enumType struct {
	size   int // 1 or 2
	names  map[int16]string
	values map[string]int16
	spell  string
}

func buildEnum(n *node) (Type, error) {
	if len(n.args) == 0 {
		return nil, fmt.Errorf("%s needs at least one 'name' = value", n.name)
	}
	t := &enumType{names: map[int16]string{}, values: map[string]int16{}}
	auto := n.args[0].num == nil
	next := int64(1)
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	type item struct {
		name string
		v    int64
	}
	var items []item
	for _, a := range n.args {
		if a.str == nil || (a.num == nil) != auto {
			return nil, fmt.Errorf("%s: want 'name' = value items", n.name)
		}
		v := next
		if !auto {
			v = *a.num
		}
		next++
		if v < math.MinInt16 || v > math.MaxInt16 {
			return nil, fmt.Errorf("%s: value %d out of range", n.name, v)
		}
		if _, dup := t.values[*a.str]; dup {
			return nil, fmt.Errorf("%s: duplicate name %q", n.name, *a.str)
		}
		if _, dup := t.names[int16(v)]; dup {
			return nil, fmt.Errorf("%s: duplicate value %d", n.name, v)
		}
		t.names[int16(v)] = *a.str
		t.values[*a.str] = int16(v)
		items = append(items, item{*a.str, v})
		lo, hi = min(lo, v), max(hi, v)
	}
	switch n.name {
	case "Enum8":
		t.size = 1
	case "Enum16":
		t.size = 2
	default:
		t.size = 2
		if lo >= math.MinInt8 && hi <= math.MaxInt8 {
			t.size = 1
		}
	}
	if t.size == 1 && (lo < math.MinInt8 || hi > math.MaxInt8) {
		return nil, fmt.Errorf("Enum8 values must be in [-128, 127]")
	}
	slices.SortFunc(items, func(a, b item) int { return int(a.v - b.v) })
	var sb strings.Builder
	sb.WriteString("Enum")
	sb.WriteString(strconv.Itoa(t.size * 8))
	sb.WriteByte('(')
	for i, it := range items {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.Write(appendQuoted(nil, []byte(it.name)))
		sb.WriteString(" = ")
		sb.WriteString(strconv.FormatInt(it.v, 10))
	}
	sb.WriteByte(')')
	t.spell = sb.String()
	return t, nil
}

func (t *enumType) String() string { return t.spell }

func (t *enumType) Append(buf []byte, v any) ([]byte, error) {
	var code int64
	switch x := v.(type) {
	case string:
		c, ok := t.values[x]
		if !ok {
			return buf, badValue(t, v, "not one of the enum's names")
		}
		return t.put(buf, c), nil
	case int:
		code = int64(x)
	case int64:
		code = x
	case int32:
		code = int64(x)
	case int16:
		code = int64(x)
	case int8:
		code = int64(x)
	case uint8:
		code = int64(x)
	case uint16:
		code = int64(x)
	case uint32:
		code = int64(x)
	case uint64:
		if x > math.MaxInt16 {
			return buf, badValue(t, v, "not one of the enum's values")
		}
		code = int64(x)
	default:
		return retry(t, buf, v)
	}
	if code < math.MinInt16 || code > math.MaxInt16 {
		return buf, badValue(t, v, "not one of the enum's values")
	}
	if _, ok := t.names[int16(code)]; !ok {
		return buf, badValue(t, v, "not one of the enum's values")
	}
	return t.put(buf, int16(code)), nil
}

func (t *enumType) put(buf []byte, c int16) []byte {
	if t.size == 1 {
		return append(buf, byte(int8(c)))
	}
	return binary.LittleEndian.AppendUint16(buf, uint16(c))
}

func (t *enumType) read(buf []byte) (string, []byte, error) {
	if len(buf) < t.size {
		return "", buf, shortErr(t)
	}
	var c int16
	if t.size == 1 {
		c = int16(int8(buf[0]))
	} else {
		c = int16(binary.LittleEndian.Uint16(buf))
	}
	name, ok := t.names[c]
	if !ok {
		return "", buf, fmt.Errorf("rowbinary: decode %s: unknown value %d", t, c)
	}
	return name, buf[t.size:], nil
}

func (t *enumType) Decode(buf []byte) (any, []byte, error) {
	name, rest, err := t.read(buf)
	if err != nil {
		return nil, buf, err
	}
	return name, rest, nil
}

func (t *enumType) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, t.size) }

func (t *enumType) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	name, rest, err := t.read(buf)
	if err != nil {
		return dst, buf, err
	}
	if nested {
		return appendQuoted(dst, []byte(name)), rest, nil
	}
	return append(dst, name...), rest, nil
}

func (*enumType) goType() reflect.Type { return reflect.TypeFor[string]() }

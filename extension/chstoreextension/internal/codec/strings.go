package codec

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
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

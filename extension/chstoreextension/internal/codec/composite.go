package codec

import (
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// ---- LowCardinality(T) ----

// lowCardinalityType is only a storage hint: RowBinary carries the plain T.
type lowCardinalityType struct{ inner Type }

func (t *lowCardinalityType) String() string { return "LowCardinality(" + t.inner.String() + ")" }
func (t *lowCardinalityType) Append(buf []byte, v any) ([]byte, error) {
	return t.inner.Append(buf, v)
}
func (t *lowCardinalityType) Decode(buf []byte) (any, []byte, error) { return t.inner.Decode(buf) }
func (t *lowCardinalityType) skip(buf []byte) ([]byte, error)        { return t.inner.skip(buf) }
func (t *lowCardinalityType) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	return t.inner.text(dst, buf, nested)
}
func (t *lowCardinalityType) goType() reflect.Type { return t.inner.goType() }

// isString reports whether t is String or LowCardinality(String), whose
// values the composite fast paths write without boxing.
func isString(t Type) bool {
	_, ok := unwrapLC(t).(stringType)
	return ok
}

func appendStr(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// ---- Nullable(T) ----

// nullableType is a 1-byte NULL flag (1 = NULL) followed, when not NULL, by
// the value. Decoded values are *T or nil, as clickhouse-go returns them.
type nullableType struct {
	inner Type
	gt    reflect.Type
}

func newNullable(inner Type) *nullableType {
	return &nullableType{inner: inner, gt: reflect.PointerTo(inner.goType())}
}

func (t *nullableType) String() string { return "Nullable(" + t.inner.String() + ")" }

func (t *nullableType) Append(buf []byte, v any) ([]byte, error) {
	start := len(buf)
	switch x := v.(type) {
	case nil:
		return append(buf, 1), nil
	case string, int64, uint64, float64, int32, uint32, int, bool, time.Time, decimal.Decimal, []byte:
		// plain values: never NULL
	case *string:
		if x == nil {
			return append(buf, 1), nil
		}
		return t.appendValue(buf, start, *x)
	case *int64:
		if x == nil {
			return append(buf, 1), nil
		}
		return t.appendValue(buf, start, *x)
	case *uint64:
		if x == nil {
			return append(buf, 1), nil
		}
		return t.appendValue(buf, start, *x)
	case *float64:
		if x == nil {
			return append(buf, 1), nil
		}
		return t.appendValue(buf, start, *x)
	case *time.Time:
		if x == nil {
			return append(buf, 1), nil
		}
		return t.appendValue(buf, start, *x)
	case *decimal.Decimal:
		if x == nil {
			return append(buf, 1), nil
		}
		return t.appendValue(buf, start, *x)
	case driver.Valuer: // sql.NullString, decimal.NullDecimal…
		if isNil(v) {
			return append(buf, 1), nil
		}
		val, err := x.Value()
		if err != nil {
			return buf, badValue(t, v, err.Error())
		}
		if val == nil {
			return append(buf, 1), nil
		}
	default:
		if isNil(v) {
			return append(buf, 1), nil
		}
	}
	return t.appendValue(buf, start, v)
}

func (t *nullableType) appendValue(buf []byte, start int, v any) ([]byte, error) {
	buf, err := t.inner.Append(append(buf, 0), v)
	if err != nil {
		return buf[:start], err
	}
	return buf, nil
}

func (t *nullableType) Decode(buf []byte) (any, []byte, error) {
	if len(buf) < 1 {
		return nil, buf, shortErr(t)
	}
	if buf[0] != 0 {
		return nil, buf[1:], nil
	}
	v, rest, err := t.inner.Decode(buf[1:])
	if err != nil {
		return nil, buf, err
	}
	if v == nil {
		return nil, rest, nil
	}
	switch x := v.(type) {
	case string:
		return &x, rest, nil
	case int64:
		return &x, rest, nil
	case uint64:
		return &x, rest, nil
	case float64:
		return &x, rest, nil
	case time.Time:
		return &x, rest, nil
	case decimal.Decimal:
		return &x, rest, nil
	}
	p := reflect.New(t.inner.goType())
	p.Elem().Set(reflect.ValueOf(v))
	return p.Interface(), rest, nil
}

func (t *nullableType) skip(buf []byte) ([]byte, error) {
	if len(buf) < 1 {
		return buf, shortErr(t)
	}
	if buf[0] != 0 {
		return buf[1:], nil
	}
	return t.inner.skip(buf[1:])
}

func (t *nullableType) text(dst, buf []byte, nested bool) ([]byte, []byte, error) {
	if len(buf) < 1 {
		return dst, buf, shortErr(t)
	}
	if buf[0] != 0 {
		if nested {
			return append(dst, "NULL"...), buf[1:], nil
		}
		return append(dst, `\N`...), buf[1:], nil
	}
	return t.inner.text(dst, buf[1:], nested)
}

func (t *nullableType) goType() reflect.Type { return t.gt }

// ---- Tuple(...) ----

// tupleType is its elements back to back. Decoded tuples are []any.
type tupleType struct {
	elems []Type
	names []string // all empty for unnamed tuples
	spell string
}

func buildTuple(n *node) (Type, error) {
	if len(n.args) == 0 {
		return nil, fmt.Errorf("Tuple needs at least one element")
	}
	t := &tupleType{}
	var sb strings.Builder
	sb.WriteString("Tuple(")
	named := n.args[0].typ != nil
	for i, a := range n.args {
		if (a.typ != nil) != named {
			return nil, fmt.Errorf("Tuple elements must be all named or all unnamed")
		}
		tn := a
		if named {
			tn = a.typ
		}
		et, err := build(tn)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		if named {
			sb.WriteString(quoteName(a.name))
			sb.WriteByte(' ')
			t.names = append(t.names, a.name)
		}
		sb.WriteString(et.String())
		t.elems = append(t.elems, et)
	}
	sb.WriteByte(')')
	t.spell = sb.String()
	return t, nil
}

func quoteName(s string) string {
	ok := s != "" && !(s[0] >= '0' && s[0] <= '9')
	for i := 0; i < len(s) && ok; i++ {
		ok = isIdentByte(s[i])
	}
	if ok {
		return s
	}
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(s) + "`"
}

func (t *tupleType) String() string { return t.spell }

func (t *tupleType) Append(buf []byte, v any) ([]byte, error) {
	start := len(buf)
	var err error
	if m, ok := v.(map[string]any); ok && t.names != nil {
		for i, e := range t.elems {
			val, ok := m[t.names[i]]
			if !ok {
				return buf[:start], badValue(t, v, fmt.Sprintf("missing element %q", t.names[i]))
			}
			if buf, err = e.Append(buf, val); err != nil {
				return buf[:start], err
			}
		}
		return buf, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Len() != len(t.elems) {
			return buf, badValue(t, v, fmt.Sprintf("has %d elements, want %d", rv.Len(), len(t.elems)))
		}
		for i, e := range t.elems {
			if buf, err = e.Append(buf, rv.Index(i).Interface()); err != nil {
				return buf[:start], err
			}
		}
		return buf, nil
	case reflect.Pointer:
		return retry(t, buf, v)
	}
	return buf, badGoType(t, v)
}

func (t *tupleType) Decode(buf []byte) (any, []byte, error) {
	out := make([]any, len(t.elems))
	rest := buf
	var err error
	for i, e := range t.elems {
		if out[i], rest, err = e.Decode(rest); err != nil {
			return nil, buf, err
		}
	}
	return out, rest, nil
}

func (t *tupleType) skip(buf []byte) ([]byte, error) {
	rest := buf
	var err error
	for _, e := range t.elems {
		if rest, err = e.skip(rest); err != nil {
			return buf, err
		}
	}
	return rest, nil
}

func (t *tupleType) text(dst, buf []byte, _ bool) ([]byte, []byte, error) {
	dst = append(dst, '(')
	rest := buf
	var err error
	for i, e := range t.elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, rest, err = e.text(dst, rest, true); err != nil {
			return dst, buf, err
		}
	}
	return append(dst, ')'), rest, nil
}

func (*tupleType) goType() reflect.Type { return reflect.TypeFor[[]any]() }

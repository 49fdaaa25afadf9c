package codec

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// normalize turns a value no fast path recognised into one it may: it
// dereferences pointers, calls driver.Valuer (sql.NullString, uuid.UUID…)
// and converts named types (type Level string) to their basic kind. ok is
// false when there is nothing left to try.
func normalize(v any) (any, bool) {
	if v == nil {
		return nil, false
	}
	if val, ok := v.(driver.Valuer); ok {
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, false
		}
		out, err := val.Value()
		if err != nil || out == nil {
			return nil, false
		}
		if reflect.TypeOf(out) == reflect.TypeOf(v) {
			return nil, false
		}
		return out, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, false
		}
		return rv.Elem().Interface(), true
	case reflect.String:
		if rv.Type() != reflect.TypeFor[string]() {
			return rv.String(), true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.Type() != reflect.TypeFor[int64]() {
			return rv.Int(), true
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Type() != reflect.TypeFor[uint64]() {
			return rv.Uint(), true
		}
	case reflect.Float32, reflect.Float64:
		if rv.Type() != reflect.TypeFor[float64]() {
			return rv.Float(), true
		}
	case reflect.Bool:
		if rv.Type() != reflect.TypeFor[bool]() {
			return rv.Bool(), true
		}
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 && rv.Type() != reflect.TypeFor[[]byte]() {
			return rv.Bytes(), true
		}
	}
	return nil, false
}

// retry appends v after normalize, for values no fast path took; errors
// still name the caller's original value.
func retry(t Type, buf []byte, v any) ([]byte, error) {
	n, ok := normalize(v)
	if !ok {
		return buf, badGoType(t, v)
	}
	out, err := t.Append(buf, n)
	if ve := (*valueError)(nil); errors.As(err, &ve) && ve.typ == t.String() {
		ve.value = v
	}
	return out, err
}

// isNil reports whether v is nil or a nil pointer/map/slice/interface.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// valueError describes a value a type refuses.
type valueError struct {
	typ    string
	value  any
	reason string
}

func (e *valueError) Error() string {
	reason := e.reason
	if reason == "" {
		reason = fmt.Sprintf("unsupported Go type %T", e.value)
	}
	return fmt.Sprintf("rowbinary: cannot encode %s as %s: %s", describe(e.value), e.typ, reason)
}

func badValue(t Type, v any, reason string) error {
	return &valueError{typ: t.String(), value: v, reason: reason}
}

func badGoType(t Type, v any) error {
	if v == nil {
		return &valueError{typ: t.String(), value: v, reason: "NULL is only allowed in Nullable columns"}
	}
	if isNil(v) {
		return &valueError{typ: t.String(), value: v, reason: "nil pointer is only allowed in Nullable columns"}
	}
	return &valueError{typ: t.String(), value: v} // reason: the Go type, at Error time
}

// describe prints a value for an error message: its Go type and a bounded
// rendering, so a huge attribute map does not flood the log.
func describe(v any) string {
	if v == nil {
		return "nil"
	}
	var s string
	switch x := v.(type) {
	case string:
		s = strconv.Quote(x)
	case []byte:
		s = strconv.Quote(string(x))
	default:
		s = fmt.Sprintf("%v", v)
	}
	const limit = 80
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return fmt.Sprintf("%T %s", v, s)
}

package codec

import (
	"encoding/binary"
	"math"
	"reflect"
)

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

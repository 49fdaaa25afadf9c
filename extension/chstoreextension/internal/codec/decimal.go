package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"reflect"
	"strconv"

	"github.com/shopspring/decimal"
)

var pow10 = [...]uint64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// decimalType is Decimal(P, S): an integer of 4, 8, 16 or 32 bytes holding
// value×10^S. Encoding never rounds: a value with more fractional digits
// than S, or more integer digits than P-S, is refused, because silently
// rounding money is worse than failing the batch.
type decimalType struct {
	prec, scale int
	size        int
	limit       *big.Int // 10^prec, exclusive bound on the unscaled value
}

func buildDecimal(n *node) (Type, error) {
	var prec, scale int64
	var err error
	switch n.name {
	case "Decimal":
		switch len(n.args) {
		case 0:
			prec = 10
		case 1, 2:
			if prec, err = intArg(n, 0, 1, 76); err != nil {
				return nil, argErr(n, err, "Decimal(P, S)")
			}
			if len(n.args) == 2 {
				if scale, err = intArg(n, 1, 0, prec); err != nil {
					return nil, argErr(n, err, "Decimal(P, S) with 0 <= S <= P")
				}
			}
		default:
			return nil, argErr(n, nil, "Decimal(P, S)")
		}
	default:
		prec = map[string]int64{"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}[n.name]
		if len(n.args) != 1 {
			return nil, argErr(n, nil, n.name+"(S)")
		}
		if scale, err = intArg(n, 0, 0, prec); err != nil {
			return nil, argErr(n, err, n.name+"(S)")
		}
	}
	t := &decimalType{prec: int(prec), scale: int(scale)}
	switch {
	case prec <= 9:
		t.size = 4
	case prec <= 18:
		t.size = 8
	case prec <= 38:
		t.size = 16
	default:
		t.size = 32
	}
	t.limit = new(big.Int).Exp(big.NewInt(10), big.NewInt(prec), nil)
	return t, nil
}

func (t *decimalType) String() string {
	return "Decimal(" + strconv.Itoa(t.prec) + ", " + strconv.Itoa(t.scale) + ")"
}

func (t *decimalType) Append(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case decimal.Decimal:
		return t.appendDecimal(buf, x, v)
	case *decimal.Decimal:
		if x == nil {
			return buf, badGoType(t, v)
		}
		return t.appendDecimal(buf, *x, v)
	case string:
		d, err := decimal.NewFromString(x)
		if err != nil {
			return buf, badValue(t, v, "not a decimal number")
		}
		return t.appendDecimal(buf, d, v)
	case float64, float32:
		return buf, badValue(t, v, "floats are inexact; pass a decimal.Decimal or a string")
	case *big.Int:
		if x == nil {
			return buf, badGoType(t, v)
		}
		return t.appendDecimal(buf, decimal.NewFromBigInt(x, 0), v)
	}
	if i, ok, u64 := intValue(v); ok || u64 {
		if u64 {
			return t.appendDecimal(buf, decimal.NewFromUint64(v.(uint64)), v)
		}
		if s := t.scale; s <= 18 {
			hi, lo := bits.Mul64(absU64(i), pow10[s])
			if hi == 0 && lo <= math.MaxInt64 {
				u := int64(lo)
				if i < 0 {
					u = -u
				}
				return t.appendUnscaled64(buf, u, v)
			}
		}
		return t.appendDecimal(buf, decimal.NewFromInt(i), v)
	}
	return retry(t, buf, v)
}

func absU64(i int64) uint64 {
	if i < 0 {
		return uint64(-i) // also right for MinInt64
	}
	return uint64(i)
}

func (t *decimalType) inexact(v any) error {
	return badValue(t, v, fmt.Sprintf("more than %d fractional digits; refusing to round", t.scale))
}

func (t *decimalType) overflow(v any) error {
	return badValue(t, v, fmt.Sprintf("overflows: at most %d digits before the decimal point", t.prec-t.scale))
}

func (t *decimalType) appendDecimal(buf []byte, d decimal.Decimal, orig any) ([]byte, error) {
	shift := int(d.Exponent()) + t.scale
	// Fast path, no allocation: coefficients of up to 18 digits.
	if d.NumDigits() <= 18 {
		c := d.CoefficientInt64()
		switch {
		case c == 0:
			return t.appendUnscaled64(buf, 0, orig)
		case shift >= 0 && shift <= 18:
			hi, lo := bits.Mul64(absU64(c), pow10[shift])
			if hi == 0 && lo <= math.MaxInt64 {
				u := int64(lo)
				if c < 0 {
					u = -u
				}
				return t.appendUnscaled64(buf, u, orig)
			}
		case shift < 0:
			if -shift > 18 {
				return buf, t.inexact(orig)
			}
			p := int64(pow10[-shift])
			if c%p != 0 {
				return buf, t.inexact(orig)
			}
			return t.appendUnscaled64(buf, c/p, orig)
		}
	}
	// Slow path: big coefficients, large positive exponents.
	u := d.Coefficient()
	if u.Sign() == 0 {
		return t.appendUnscaled64(buf, 0, orig)
	}
	if shift >= 0 {
		if shift > 80 {
			return buf, t.overflow(orig)
		}
		u.Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
	} else {
		if -shift > 200 {
			return buf, t.inexact(orig)
		}
		var r big.Int
		u.QuoRem(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-shift)), nil), &r)
		if r.Sign() != 0 {
			return buf, t.inexact(orig)
		}
	}
	if u.CmpAbs(t.limit) >= 0 {
		return buf, t.overflow(orig)
	}
	if u.IsInt64() {
		return t.appendUnscaled64(buf, u.Int64(), orig)
	}
	return appendBigLE(buf, u, t.size), nil
}

// appendUnscaled64 writes value×10^S, already scaled, after the precision
// check.
func (t *decimalType) appendUnscaled64(buf []byte, u int64, orig any) ([]byte, error) {
	if t.prec <= 18 && absU64(u) >= pow10[t.prec] {
		return buf, t.overflow(orig)
	}
	switch t.size {
	case 4:
		return binary.LittleEndian.AppendUint32(buf, uint32(int32(u))), nil
	case 8:
		return binary.LittleEndian.AppendUint64(buf, uint64(u)), nil
	}
	buf = binary.LittleEndian.AppendUint64(buf, uint64(u))
	ext := uint64(0)
	if u < 0 {
		ext = math.MaxUint64
	}
	for i := 8; i < t.size; i += 8 {
		buf = binary.LittleEndian.AppendUint64(buf, ext)
	}
	return buf, nil
}

func (t *decimalType) read(buf []byte) (decimal.Decimal, []byte, error) {
	if len(buf) < t.size {
		return decimal.Decimal{}, buf, shortErr(t)
	}
	exp := int32(-t.scale)
	rest := buf[t.size:]
	switch t.size {
	case 4:
		return decimal.New(int64(int32(binary.LittleEndian.Uint32(buf))), exp), rest, nil
	case 8:
		return decimal.New(int64(binary.LittleEndian.Uint64(buf)), exp), rest, nil
	}
	lo := binary.LittleEndian.Uint64(buf)
	ext := uint64(0)
	if lo>>63 == 1 {
		ext = math.MaxUint64
	}
	fits := true
	for i := 8; i < t.size; i += 8 {
		if binary.LittleEndian.Uint64(buf[i:]) != ext {
			fits = false
			break
		}
	}
	if fits {
		return decimal.New(int64(lo), exp), rest, nil
	}
	return decimal.NewFromBigInt(readBigLE(buf[:t.size], true), exp), rest, nil
}

func (t *decimalType) Decode(buf []byte) (any, []byte, error) {
	d, rest, err := t.read(buf)
	if err != nil {
		return nil, buf, err
	}
	return d, rest, nil
}

func (t *decimalType) skip(buf []byte) ([]byte, error) { return fixedSkip(t, buf, t.size) }

// text prints without trailing fractional zeros, as ClickHouse does by
// default (output_format_decimal_trailing_zeros = 0).
func (t *decimalType) text(dst, buf []byte, _ bool) ([]byte, []byte, error) {
	d, rest, err := t.read(buf)
	if err != nil {
		return dst, buf, err
	}
	return append(dst, d.String()...), rest, nil
}

func (*decimalType) goType() reflect.Type { return reflect.TypeFor[decimal.Decimal]() }

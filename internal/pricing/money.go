package pricing

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/shopspring/decimal"
)

// Money is an amount in pico-USD (1e-12 USD). Integer arithmetic on it is
// exact and allocation-free; it is never converted to or from a float.
//
// An int64 holds ±9,223,372.036854775807 USD. ClickHouse Decimal(18,12)
// holds less (±999,999.999999999999 USD), so computed costs are capped at
// MaxCost: a single call that costs more is reported as unpriced (overflow),
// never stored out of range.
type Money int64

// Scale is the number of fractional decimal digits of Money.
const Scale = 12

// Units of Money.
const (
	PicoUSD  Money = 1
	NanoUSD  Money = 1_000
	MicroUSD Money = 1_000_000
	Cent     Money = 10_000_000_000
	USD      Money = 1_000_000_000_000
)

// MaxCost is the largest cost Price computes: the largest value of a
// ClickHouse Decimal(18,12), just under one million USD.
const MaxCost Money = 999_999_999_999_999_999

const pow10Scale = 1_000_000_000_000 // 10^Scale

// ParseMoney reads a decimal USD amount: an optional sign, digits with an
// optional decimal point, and an optional exponent ("2.50", "0.000075",
// "-0.00750", "7.5e-05"; surrounding spaces are ignored). It is exact: no
// float is involved. It refuses amounts finer than pico-USD (a nonzero digit
// past the 12th fractional place; trailing zeros are fine) and amounts
// outside the range of Money.
func ParseMoney(s string) (Money, error) {
	return parseMoney(s, false)
}

// ParseMoneyRound is ParseMoney that rounds amounts finer than pico-USD to
// the nearest pico-USD, ties to even, instead of refusing them. It suits
// provider-reported costs printed from a float64 (OpenRouter's usage.cost
// may have 20 fractional digits).
func ParseMoneyRound(s string) (Money, error) {
	return parseMoney(s, true)
}

// Parse errors. ParseMoney wraps them with the offending text.
var (
	ErrSyntax    = errors.New("is not a decimal amount")
	ErrPrecision = errors.New("has more than 12 fractional digits (finer than pico-USD)")
	ErrRange     = errors.New("is out of range")
)

// MoneyError is the error of ParseMoney: the text and what is wrong with it.
type MoneyError struct {
	Text string
	Err  error // ErrSyntax, ErrPrecision or ErrRange
}

func (e *MoneyError) Error() string { return fmt.Sprintf("%q %v", e.Text, e.Err) }
func (e *MoneyError) Unwrap() error { return e.Err }

func parseMoney(orig string, round bool) (Money, error) {
	s := trimSpace(orig)
	fail := func(err error) (Money, error) { return 0, &MoneyError{Text: orig, Err: err} }
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, exp := s, 0
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' || s[i] == 'E' {
			e, ok := parseExp(s[i+1:])
			if !ok {
				return fail(ErrSyntax)
			}
			mant, exp = s[:i], e
			break
		}
	}
	intPart, fracPart := mant, ""
	for i := 0; i < len(mant); i++ {
		if mant[i] == '.' {
			intPart, fracPart = mant[:i], mant[i+1:]
			break
		}
	}
	if intPart == "" && fracPart == "" || !allDigits(intPart) || !allDigits(fracPart) {
		return fail(ErrSyntax)
	}
	// The amount is D × 10^shift pico-USD, D being the digit string
	// intPart+fracPart.
	n := len(intPart) + len(fracPart)
	digit := func(i int) uint64 {
		if i < len(intPart) {
			return uint64(intPart[i] - '0')
		}
		return uint64(fracPart[i-len(intPart)] - '0')
	}
	shift := exp - len(fracPart) + Scale
	keep := n // leading digits at or above the pico place
	if shift < 0 {
		keep = n + shift
	}
	var mag uint64
	overflow := false
	mul10add := func(d uint64) {
		hi, lo := bits.Mul64(mag, 10)
		lo, c := bits.Add64(lo, d, 0)
		overflow = overflow || hi != 0 || c != 0
		mag = lo
	}
	for i := 0; i < keep; i++ {
		mul10add(digit(i))
	}
	for i := 0; i < shift && mag != 0 && !overflow; i++ {
		mul10add(0)
	}
	if keep < n { // digits below the pico place
		var first uint64 // first digit below the pico place
		if keep >= 0 {
			first = digit(keep)
		}
		rest := false
		for i := max(keep+1, 0); i < n; i++ {
			if digit(i) != 0 {
				rest = true
				break
			}
		}
		if first != 0 || rest {
			if !round {
				return fail(ErrPrecision)
			}
			if first > 5 || first == 5 && (rest || mag&1 == 1) {
				mag++
				overflow = overflow || mag == 0
			}
		}
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++ // MinInt64
	}
	if overflow || mag > limit {
		return fail(ErrRange)
	}
	if neg {
		return Money(-mag), nil
	}
	return Money(mag), nil
}

func parseExp(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || len(s) > 4 || !allDigits(s) {
		return 0, false
	}
	e := 0
	for i := 0; i < len(s); i++ {
		e = e*10 + int(s[i]-'0')
	}
	if neg {
		e = -e
	}
	return e, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// String formats m as a decimal USD amount with trailing zeros trimmed but
// at least two fractional digits: "2.50", "0.0025", "0.000075", "-0.0075",
// "0.00". ParseMoney(m.String()) == m for every m.
func (m Money) String() string {
	var buf [32]byte
	return string(m.AppendText(buf[:0]))
}

// AppendText appends m.String() to b without allocating when b has room.
func (m Money) AppendText(b []byte) []byte {
	mag := uint64(m)
	if m < 0 {
		b = append(b, '-')
		mag = -mag
	}
	ip, fp := mag/pow10Scale, mag%pow10Scale
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + ip%10)
		ip /= 10
		if ip == 0 {
			break
		}
	}
	b = append(b, tmp[i:]...)
	b = append(b, '.')
	var frac [Scale]byte
	for j := Scale - 1; j >= 0; j-- {
		frac[j] = byte('0' + fp%10)
		fp /= 10
	}
	n := Scale
	for n > 2 && frac[n-1] == '0' {
		n--
	}
	return append(b, frac[:n]...)
}

// MarshalText implements encoding.TextMarshaler (the String form).
func (m Money) MarshalText() ([]byte, error) { return m.AppendText(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler (ParseMoney).
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Decimal returns m as an exact decimal with exponent -12, the form stored
// in a ClickHouse Decimal(18,12) column.
func (m Money) Decimal() decimal.Decimal { return decimal.New(int64(m), -Scale) }

// MoneyFromDecimal converts an exact decimal to Money; it fails when d is
// finer than pico-USD or out of range.
func MoneyFromDecimal(d decimal.Decimal) (Money, error) {
	return ParseMoney(d.String())
}

// Abs returns |m| (Twilio reports prices as negative amounts). The absolute
// value of the most negative Money saturates at the largest.
func (m Money) Abs() Money {
	if m >= 0 {
		return m
	}
	if m == math.MinInt64 {
		return math.MaxInt64
	}
	return -m
}

// Add returns m+n and whether the sum fits in Money.
func (m Money) Add(n Money) (Money, bool) {
	s := m + n
	if (n > 0 && s < m) || (n < 0 && s > m) {
		return 0, false
	}
	return s, true
}

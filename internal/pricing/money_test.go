package pricing

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseMoney(t *testing.T) {
	cases := []struct {
		in   string
		want Money
	}{
		{"2.50", 2_500_000_000_000},
		{"0.000075", 75_000_000},
		{"-0.00750", -7_500_000_000},
		{"0", 0},
		{"-0", 0},
		{"+1", USD},
		{".5", 500_000_000_000},
		{"5.", 5 * USD},
		{"007.10", 7_100_000_000_000},
		{" 2 ", 2 * USD},
		{"0.000000000001", 1},
		{"0.0000000000010000", 1}, // trailing zeros past pico are no precision
		{"1e-12", 1},
		{"7.5e-05", 75_000_000},
		{"7.5E-5", 75_000_000},
		{"2.5e3", 2500 * USD},
		{"0e999", 0},
		{"9223372.036854775807", math.MaxInt64},
		{"-9223372.036854775808", math.MinInt64},
		{"999999.999999999999", MaxCost},
	}
	for _, c := range cases {
		got, err := ParseMoney(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestParseMoneyRefuses(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrSyntax},
		{"   ", ErrSyntax},
		{"abc", ErrSyntax},
		{".", ErrSyntax},
		{"-", ErrSyntax},
		{"1.2.3", ErrSyntax},
		{"--1", ErrSyntax},
		{"1e", ErrSyntax},
		{"1e+", ErrSyntax},
		{"1e99999", ErrSyntax},
		{"0x10", ErrSyntax},
		{"1,5", ErrSyntax},
		{"$1", ErrSyntax},
		{"NaN", ErrSyntax},
		{"Inf", ErrSyntax},
		{"1 000", ErrSyntax},
		{"0.0000000000001", ErrPrecision},   // 13th fractional digit
		{"2.5000000000001", ErrPrecision},   // likewise, with an integer part
		{"1e-13", ErrPrecision},             // by exponent
		{"9223372.036854775808", ErrRange},  // MaxInt64 + 1 pico
		{"-9223372.036854775809", ErrRange}, // MinInt64 - 1 pico
		{"1e7", ErrRange},
		{"100000000000000000000000", ErrRange},
	}
	for _, c := range cases {
		got, err := ParseMoney(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("ParseMoney(%q) = %d, %v; want error %v", c.in, got, err, c.want)
		}
	}
	_, err := ParseMoney("abc")
	if want := `"abc" is not a decimal amount`; err == nil || err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}
}

func TestParseMoneyRound(t *testing.T) {
	cases := []struct {
		in   string
		want Money
	}{
		{"0.0000000000005", 0},                 // half: to even (0)
		{"0.0000000000015", 2},                 // half: to even (2)
		{"0.0000000000025", 2},                 // half: to even (2)
		{"0.00000000000250001", 3},             // above half
		{"0.0000000000024999", 2},              // below half
		{"-0.0000000000015", -2},               // symmetric
		{"1.2345678901234568e-05", 12_345_679}, // a float64's shortest form: 12,345,678.901234568 pico
		{"0.00000000000000001", 0},             // far below the pico place
		{"2.50", 2_500_000_000_000},            // exact amounts are unchanged
	}
	for _, c := range cases {
		got, err := ParseMoneyRound(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMoneyRound(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	if _, err := ParseMoneyRound("9223372.0368547758075"); !errors.Is(err, ErrRange) {
		t.Errorf("rounding past MaxInt64: %v", err)
	}
}

func TestMoneyString(t *testing.T) {
	cases := []struct {
		m    Money
		want string
	}{
		{0, "0.00"},
		{2_500_000_000_000, "2.50"},
		{12 * USD, "12.00"},
		{2_500_000_000, "0.0025"},
		{75_000_000, "0.000075"},
		{-7_500_000_000, "-0.0075"},
		{1, "0.000000000001"},
		{-1, "-0.000000000001"},
		{math.MaxInt64, "9223372.036854775807"},
		{math.MinInt64, "-9223372.036854775808"},
	}
	for _, c := range cases {
		if got := c.m.String(); got != c.want {
			t.Errorf("Money(%d).String() = %q, want %q", int64(c.m), got, c.want)
		}
		back, err := ParseMoney(c.want)
		if err != nil || back != c.m {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", c.want, back, err, int64(c.m))
		}
	}
}

func TestMoneyRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100_000; i++ {
		var m Money
		switch i % 3 {
		case 0:
			m = Money(r.Int64())
		case 1:
			m = Money(r.Int64N(1_000_000_000)) // small amounts: many fractional digits
		case 2:
			m = -Money(r.Int64N(1 << 50))
		}
		s := m.String()
		back, err := ParseMoney(s)
		if err != nil || back != m {
			t.Fatalf("round trip %d → %q → %d, %v", int64(m), s, back, err)
		}
		// The decimal form is exact and has exponent -12.
		d := m.Decimal()
		if d.Exponent() != -12 || d.CoefficientInt64() != int64(m) {
			t.Fatalf("Decimal(%d) = %s (exp %d)", int64(m), d, d.Exponent())
		}
		if !d.Equal(decimal.RequireFromString(s)) {
			t.Fatalf("Decimal(%d) = %s, String %s", int64(m), d, s)
		}
	}
}

func TestMoneyDecimal(t *testing.T) {
	m := Money(2_500_000_000)
	if got := m.Decimal().String(); got != "0.0025" {
		t.Errorf("Decimal = %s", got)
	}
	back, err := MoneyFromDecimal(decimal.RequireFromString("0.0025"))
	if err != nil || back != m {
		t.Errorf("MoneyFromDecimal = %d, %v", back, err)
	}
	if _, err := MoneyFromDecimal(decimal.RequireFromString("0.0000000000001")); !errors.Is(err, ErrPrecision) {
		t.Errorf("MoneyFromDecimal too fine: %v", err)
	}
}

func TestMoneyHelpers(t *testing.T) {
	if Money(-7_500_000_000).Abs() != 7_500_000_000 || Money(5).Abs() != 5 || Money(math.MinInt64).Abs() != math.MaxInt64 {
		t.Error("Abs")
	}
	if s, ok := Money(1).Add(2); !ok || s != 3 {
		t.Error("Add")
	}
	if _, ok := Money(math.MaxInt64).Add(1); ok {
		t.Error("Add overflow not detected")
	}
	if _, ok := Money(math.MinInt64).Add(-1); ok {
		t.Error("Add underflow not detected")
	}
	var m Money
	if err := m.UnmarshalText([]byte("0.0025")); err != nil || m != 2_500_000_000 {
		t.Errorf("UnmarshalText = %d, %v", m, err)
	}
	if b, _ := m.MarshalText(); string(b) != "0.0025" {
		t.Errorf("MarshalText = %s", b)
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"2.50", "0.000075", "-0.00750", "1e-12", "9223372.036854775807", "abc", ".5", "7.5e-05",
		"0.0000000000015", "-2.50000000000050001", "1.2345678901234568e-05",
		// Hostile: range edges, huge and tiny exponents, long digit strings,
		// lone signs and points, odd spaces, non-ASCII digits.
		"-9223372.036854775808", "9223372.036854775808", "999999.999999999999", "1e9999", "1e-9999", "0e9999", "-0e-9999",
		"1e99999", "1e+0004", "1E-0", "0." + strings.Repeat("0", 5000) + "1", strings.Repeat("9", 5000), "00000000000000000000000001.5",
		"-", "+", ".", "e5", "1e", "1e+", "1.2.3", "--1", "+-1", " \t\r\n7\n", "\u00a07", "١٢", "1_000", "0x10", "NaN", "Inf", "-0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseMoney(s); err != nil {
			var me *MoneyError
			if !errors.As(err, &me) || me.Text != s ||
				!errors.Is(err, ErrSyntax) && !errors.Is(err, ErrPrecision) && !errors.Is(err, ErrRange) {
				t.Fatalf("ParseMoney(%q): error %v is not a MoneyError of a known kind", s, err)
			}
		}
		// Rounding agrees with the decimal library's banker's rounding
		// (which is slow on huge exponents: those are left out).
		if i := strings.IndexAny(s, "eE"); i >= 0 && len(s)-i > 4 {
			_, _ = ParseMoneyRound(s)
		} else if r, err := ParseMoneyRound(s); err == nil {
			if d, derr := decimal.NewFromString(trimSpace(s)); derr == nil && !d.RoundBank(Scale).Equal(r.Decimal()) {
				t.Fatalf("ParseMoneyRound(%q) = %s, decimal rounds to %s", s, r, d.RoundBank(Scale))
			}
		}
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		// Whatever parses is exact: the decimal library agrees, and the
		// canonical text parses back to the same amount.
		d, derr := decimal.NewFromString(trimSpace(s))
		if derr == nil && !d.Equal(m.Decimal()) {
			t.Fatalf("ParseMoney(%q) = %s, decimal says %s", s, m, d)
		}
		back, err := ParseMoney(m.String())
		if err != nil || back != m {
			t.Fatalf("round trip %q → %s → %d, %v", s, m, back, err)
		}
		r, err := ParseMoneyRound(s)
		if err != nil || r != m {
			t.Fatalf("ParseMoneyRound(%q) = %d, %v; ParseMoney %d", s, r, err, m)
		}
	})
}

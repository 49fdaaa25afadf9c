package pricing

import (
	"math"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// FuzzMoneyText formats every amount and reads it back: String, AppendText
// and MarshalText agree, the text is the canonical form (at least two
// fractional digits, no trailing zeros past them, no leading zeros, no
// "-0"), ParseMoney and UnmarshalText read it back exactly, and the decimal
// library reads the same value. Abs never returns a negative amount and Add
// reports overflow instead of wrapping.
func FuzzMoneyText(f *testing.F) {
	for _, m := range []int64{0, 1, -1, 2_500_000_000_000, -7_500_000_000, 75_000_000, int64(MaxCost), -int64(MaxCost),
		math.MaxInt64, math.MinInt64, math.MinInt64 + 1, 10_000_000_000, 999_999_999_999} {
		f.Add(m, int64(1))
	}
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64))
	f.Add(int64(math.MinInt64), int64(-1))
	f.Fuzz(func(t *testing.T, v, w int64) {
		m := Money(v)
		s := m.String()
		var buf [8]byte
		if got := string(m.AppendText(buf[:0])); got != s {
			t.Fatalf("AppendText %q, String %q", got, s)
		}
		if b, err := m.MarshalText(); err != nil || string(b) != s {
			t.Fatalf("MarshalText %q, %v; String %q", b, err, s)
		}
		ip, fp, ok := strings.Cut(strings.TrimPrefix(s, "-"), ".")
		if !ok || ip == "" || len(ip) > 1 && ip[0] == '0' || len(fp) < 2 || len(fp) > Scale ||
			len(fp) > 2 && fp[len(fp)-1] == '0' || s == "-0.00" {
			t.Fatalf("%d formats as %q, not the canonical form", v, s)
		}
		back, err := ParseMoney(s)
		if err != nil || back != m {
			t.Fatalf("%d → %q → %d, %v", v, s, back, err)
		}
		var u Money
		if err := u.UnmarshalText([]byte(s)); err != nil || u != m {
			t.Fatalf("UnmarshalText(%q) = %d, %v", s, u, err)
		}
		if d, err := decimal.NewFromString(s); err != nil || !d.Equal(m.Decimal()) {
			t.Fatalf("decimal reads %q as %v, %v; want %s", s, d, err, m.Decimal())
		}
		if from, err := MoneyFromDecimal(m.Decimal()); err != nil || from != m {
			t.Fatalf("MoneyFromDecimal(%s) = %d, %v", m.Decimal(), from, err)
		}
		if a := m.Abs(); a < 0 || (v != math.MinInt64 && a != Money(max(v, -v))) {
			t.Fatalf("Abs(%d) = %d", v, a)
		}
		sum, ok := m.Add(Money(w))
		exact := decimal.NewFromInt(v).Add(decimal.NewFromInt(w))
		fits := exact.GreaterThanOrEqual(decimal.NewFromInt(math.MinInt64)) && exact.LessThanOrEqual(decimal.NewFromInt(math.MaxInt64))
		if ok != fits || ok && !decimal.NewFromInt(int64(sum)).Equal(exact) {
			t.Fatalf("%d + %d = %d, %v; exact %s", v, w, sum, ok, exact)
		}
	})
}

// TestParseMoneyHostileBounded: long digit strings and huge exponents are
// refused in time linear in the text and with no allocation but the error
// (they never become a big number).
func TestParseMoneyHostileBounded(t *testing.T) {
	long := strings.Repeat("9", 1<<20)
	tiny := "0." + strings.Repeat("0", 1<<20) + "1"
	for _, s := range []string{long, "-" + long, tiny, "1e9999", "1e-9999", "9" + strings.Repeat("0", 1<<20) + "e-1048576", "1e99999999999"} {
		var err error
		allocs := testing.AllocsPerRun(3, func() { _, err = ParseMoney(s) })
		if err == nil {
			t.Errorf("ParseMoney(%.20q…) accepted", s)
		}
		if allocs > 2 {
			t.Errorf("ParseMoney(%.20q…): %v allocations", s, allocs)
		}
	}
	// Rounding a long fraction is fine and exact.
	if m, err := ParseMoneyRound(tiny); err != nil || m != 0 {
		t.Errorf("ParseMoneyRound(tiny) = %d, %v", m, err)
	}
}

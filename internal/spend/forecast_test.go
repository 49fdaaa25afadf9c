package spend

import (
	"math/big"
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func TestPeriodBounds(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, c := range []struct {
		period, now, start, end string
	}{
		// Sunday night is still the week that began on Monday.
		{"weekly", "2026-10-04T23:30:00+02:00", "2026-09-28T00:00:00+02:00", "2026-10-05T00:00:00+02:00"},
		{"weekly", "2026-10-05T00:00:00+02:00", "2026-10-05T00:00:00+02:00", "2026-10-12T00:00:00+02:00"},
		// Across the change to winter time: the period is local midnight
		// to local midnight, 25 hours for that day.
		{"daily", "2026-10-25T12:00:00+01:00", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"},
		{"monthly", "2026-10-31T23:59:59+01:00", "2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00"},
		// 23:30 UTC on the 31st is already November in Paris.
		{"monthly", "2026-10-31T23:30:00Z", "2026-11-01T00:00:00+01:00", "2026-12-01T00:00:00+01:00"},
	} {
		start, end := PeriodBounds(c.period, ts(c.now), paris)
		if start.Format(time.RFC3339) != c.start || end.Format(time.RFC3339) != c.end {
			t.Errorf("%s at %s: [%s, %s), want [%s, %s)", c.period, c.now, start.Format(time.RFC3339), end.Format(time.RFC3339), c.start, c.end)
		}
	}
}

func TestFitLine(t *testing.T) {
	l := fitLine([]*big.Rat{rat("3"), rat("1"), rat("4"), rat("1"), rat("5")})
	if l.slope.Cmp(rat("0.4")) != 0 || l.intercept.Cmp(rat("2")) != 0 {
		t.Fatalf("slope %s intercept %s", l.slope.FloatString(6), l.intercept.FloatString(6))
	}
	// A falling trend stops at zero spend: 5, 3, 1 projects 0 from x = 3.
	l = fitLine([]*big.Rat{rat("5"), rat("3"), rat("1")})
	if got := l.projectRemaining(2, rat("1/2"), 3); got.Cmp(rat("1/2")) != 0 {
		t.Fatalf("falling: %s", got.FloatString(6))
	}
}

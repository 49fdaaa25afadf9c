package pricing

import (
	"fmt"
	"strings"
)

// Bracket replaces some of an entry's prices for the calls whose quantity
// of Unit is at least From and, when To is set, at most To. A call above
// the last bracket's To is unpriced: the list does not say what it costs.
// Brackets are in ascending order and do not overlap.
type Bracket struct {
	Unit   string            `mapstructure:"unit" yaml:"unit" json:"unit"`
	From   int64             `mapstructure:"from" yaml:"from" json:"from"`
	To     int64             `mapstructure:"to" yaml:"to,omitempty" json:"to,omitempty"`
	Prices map[string]string `mapstructure:"prices" yaml:"prices" json:"prices"`
}

// maxBrackets bounds an entry's brackets: prices by quantity have a few.
const maxBrackets = 16

// bracket is a Bracket, parsed: the prices it sets replace the list's.
type bracket struct {
	unit     Unit
	from, to int64 // to 0: no upper bound
	priced   uint32
	p        [NumUnits]Money
}

// parseBrackets validates an entry's brackets: a known unit, 1 ≤ from ≤ to,
// ascending without overlap, at least one price each.
func parseBrackets(in []Bracket, path string) ([]Bracket, []bracket, []error) {
	if len(in) == 0 {
		return nil, nil, nil
	}
	if len(in) > maxBrackets {
		return nil, nil, []error{fmt.Errorf("%s: more than %d brackets", path, maxBrackets)}
	}
	var errs []error
	norm := make([]Bracket, len(in))
	out := make([]bracket, len(in))
	for i, b := range in {
		p := fmt.Sprintf("%s[%d]", path, i)
		u, ok := ParseUnit(asciiLower(trimSpace(b.Unit)))
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s.unit: unknown unit %q (one of %s)", p, b.Unit, strings.Join(unitNames[:], ", ")))
		case i > 0 && u != out[0].unit:
			errs = append(errs, fmt.Errorf("%s.unit: %s, but the first bracket is by %s (one unit per entry)", p, u, out[0].unit))
		}
		switch {
		case b.From < 1:
			errs = append(errs, fmt.Errorf("%s.from: %d is below 1 (below the first bracket the entry's prices hold)", p, b.From))
		case b.To != 0 && b.To < b.From:
			errs = append(errs, fmt.Errorf("%s.to: %d is below from %d", p, b.To, b.From))
		case i > 0 && (in[i-1].To == 0 || b.From <= in[i-1].To || b.From <= in[i-1].From):
			errs = append(errs, fmt.Errorf("%s: overlaps the bracket before it (brackets are ascending, each but the last with a to)", p))
		}
		if len(b.Prices) == 0 {
			errs = append(errs, fmt.Errorf("%s: no prices", p))
		}
		prices, priced, perrs := parsePrices(b.Prices, &out[i].p, p+".prices")
		errs = append(errs, perrs...)
		out[i].unit, out[i].from, out[i].to, out[i].priced = u, b.From, b.To, priced
		norm[i] = Bracket{Unit: u.String(), From: b.From, To: b.To, Prices: prices}
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return norm, out, nil
}

// bracketFor picks the bracket u falls in: nil below the first; beyond
// when above the last one's To.
func (pl *priceList) bracketFor(u *Usage) (b *bracket, beyond bool) {
	for i := len(pl.brackets) - 1; i >= 0; i-- {
		br := &pl.brackets[i]
		q := u[br.unit]
		if q < br.from {
			continue
		}
		if br.to != 0 && q > br.to {
			// Only the last bracket can be passed: the others end where
			// the next begins, or below it.
			return nil, i == len(pl.brackets)-1
		}
		return br, false
	}
	return nil, false
}

// with returns the list with the bracket's prices in place of its own.
func (pl *priceList) with(b *bracket) priceList {
	m := *pl
	for u := Unit(0); u < NumUnits; u++ {
		if b.priced&(1<<u) != 0 {
			m.p[u] = b.p[u]
			m.priced |= 1 << u
		}
	}
	m.brackets = nil
	return m
}

package pricing

import (
	"fmt"
	"sort"
	"strings"
)

// parsePrices parses a price map into p, in unit order so that errors come
// out in a stable order. It returns the prices trimmed and the units priced.
func parsePrices(in map[string]string, p *[NumUnits]Money, path string) (map[string]string, uint32, []error) {
	var errs []error
	units := make([]string, 0, len(in))
	for u := range in {
		units = append(units, u)
	}
	sort.Slice(units, func(i, j int) bool {
		ui, oki := ParseUnit(units[i])
		uj, okj := ParseUnit(units[j])
		if oki != okj {
			return oki
		}
		if oki && ui != uj {
			return ui < uj
		}
		return units[i] < units[j]
	})
	var priced uint32
	prices := make(map[string]string, len(in))
	for _, name := range units {
		text := in[name]
		u, okU := ParseUnit(name)
		if !okU {
			errs = append(errs, fmt.Errorf("%s.%s: unknown unit (one of %s)", path, name, strings.Join(unitNames[:], ", ")))
			continue
		}
		m, err := parsePrice(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w", path, name, err))
			continue
		}
		p[u] = m
		priced |= 1 << u
		prices[name] = trimSpace(text)
	}
	return prices, priced, errs
}

// parsePrice reads a non-negative price (or credit count) no larger than
// MaxCost. Token prices are per 1,000,000 tokens in pico-USD, so they may
// have up to 12 fractional digits: the per-token price (up to 18 fractional
// digits of USD) is never rounded, only a call's total is.
func parsePrice(s string) (Money, error) {
	m, err := ParseMoney(s)
	if err != nil {
		return 0, err
	}
	if m < 0 {
		return 0, fmt.Errorf("negative price %q", s)
	}
	if m > MaxCost {
		return 0, fmt.Errorf("price %q is out of range (at most %s)", s, MaxCost)
	}
	return m, nil
}

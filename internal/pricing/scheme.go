package pricing

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// scheme is how a provider's prices are keyed and read, as the catalog's
// providers section states it: the catalog, not the code, knows which
// provider is priced per model, per operation, per destination country or
// in credits, so a provider is added to pricing by its catalog entries
// alone.
type scheme struct {
	Name string `yaml:"name"`
	// KeyedBy is "model" (token pricing) or "operation".
	KeyedBy string `yaml:"keyed_by"`
	// Models says how model names resolve (keyed by model only): "own",
	// names as the provider's own API gives them (dated snapshots resolve
	// to their alias, ft:<base>:… to ft:<base>, a gateway's <name>/ prefix
	// is dropped); "vendor", a gateway's vendor/model[:variant] names, which
	// fall back to the vendor's own list when the vendor is a provider
	// with "own" names.
	Models string `yaml:"models"`
	// ByCountry: operations may have prices per destination country.
	ByCountry bool `yaml:"by_country"`
	// Credits: calls consume credits per operation (entries give credits,
	// not prices), and the entry without operation is the USD price of a
	// credit (pricing.apollo_usd_per_credit overrides it).
	Credits bool `yaml:"credits"`
	// Tiers are the provider's service tiers (OpenAI: batch, flex) as exact
	// decimal multipliers of a call's token cost. Calls at the standard
	// tier ("", default, auto, standard) take the list prices; a tier not
	// named here makes the call unpriced, never priced as standard: a
	// priority call is dearer, and a wrong number is worse than none.
	Tiers map[string]string `yaml:"tiers"`

	tiers map[string]Money // Tiers parsed, keys lowercase
}

// maxTierMultiplier bounds a tier multiplier: ×100 is far beyond any
// provider's surcharge, and keeps the token cost's product within 192 bits.
const maxTierMultiplier = 100 * USD

// standardTier reports whether a service tier name (lowercase) means the
// list prices.
func standardTier(t []byte) bool {
	switch string(t) {
	case "", "default", "auto", "standard":
		return true
	}
	return false
}

// tierNames lists the scheme's tiers, for messages.
func (s *scheme) tierNames() string {
	names := make([]string, 0, len(s.tiers))
	for n := range s.tiers {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// parseTiers validates and parses the scheme's tier multipliers.
func (s *scheme) parseTiers() error {
	var errs []error
	s.tiers = make(map[string]Money, len(s.Tiers))
	for name, text := range s.Tiers {
		n := asciiLower(trimSpace(name))
		if standardTier([]byte(n)) || strings.ContainsAny(n, " \t\r\n") || len(n) > 32 {
			errs = append(errs, fmt.Errorf("tiers.%s: not a tier name (standard names are implied; at most 32 bytes, no spaces)", name))
			continue
		}
		if _, dup := s.tiers[n]; dup {
			errs = append(errs, fmt.Errorf("tiers.%s: repeated", name))
			continue
		}
		m, err := ParseMoney(trimSpace(text))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("tiers.%s: %w", name, err))
		case m <= 0 || m > maxTierMultiplier:
			errs = append(errs, fmt.Errorf("tiers.%s: multiplier %q is not above 0 and at most %s", name, text, maxTierMultiplier))
		default:
			s.tiers[n] = m
		}
	}
	sortErrs(errs)
	return errors.Join(errs...)
}

// sortErrs orders errors by text, so that map iteration does not shuffle
// a message.
func sortErrs(errs []error) {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
}

func (s *scheme) byModel() bool { return s.KeyedBy == "model" }

// vendorNames: the provider is a gateway whose model names carry a vendor.
func (s *scheme) vendorNames() bool { return s.Models == "vendor" }

func checkSchemes(ss []scheme) error {
	var errs []error
	seen := map[string]bool{}
	for i := range ss {
		s := &ss[i]
		if err := s.parseTiers(); err != nil {
			errs = append(errs, fmt.Errorf("[%d] (%s): %w", i, s.Name, err))
		}
		if s.Name == "" || s.Name != strings.ToLower(strings.TrimSpace(s.Name)) || seen[s.Name] {
			errs = append(errs, fmt.Errorf("[%d].name: %q is empty, not lowercase or repeated", i, s.Name))
		}
		seen[s.Name] = true
		switch {
		case s.KeyedBy == "model" && (s.Models == "own" || s.Models == "vendor") && !s.ByCountry && !s.Credits:
		case s.KeyedBy == "operation" && s.Models == "":
		default:
			errs = append(errs, fmt.Errorf("[%d] (%s): keyed_by model takes models own or vendor; keyed_by operation "+
				"takes by_country or credits", i, s.Name))
		}
	}
	if len(ss) > 255 {
		errs = append(errs, errors.New("more than 255 providers"))
	}
	return errors.Join(errs...)
}

// names lists the providers whose scheme passes keep (nil: all), for
// messages.
func (c *Catalog) names(keep func(scheme) bool) string {
	var out []string
	for _, s := range c.schemes {
		if keep == nil || keep(s) {
			out = append(out, s.Name)
		}
	}
	return strings.Join(out, ", ")
}

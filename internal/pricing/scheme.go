package pricing

import (
	"errors"
	"fmt"
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
}

func (s *scheme) byModel() bool { return s.KeyedBy == "model" }

// vendorNames: the provider is a gateway whose model names carry a vendor.
func (s *scheme) vendorNames() bool { return s.Models == "vendor" }

func checkSchemes(ss []scheme) error {
	var errs []error
	seen := map[string]bool{}
	for i, s := range ss {
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

// Package pricing is Nexus's versioned pricing catalog and the exact,
// allocation-free cost computation the cost processor runs for every call.
//
// Money is integer pico-USD (1e-12 USD), never a float. A call whose price is
// not known is Unpriced, never $0. Cached, cache-write, audio and image
// input tokens are parts of the input tokens, reasoning, audio and image
// output tokens parts of the output tokens, and are never counted twice; a
// part the list has no price for leaves the call Unpriced rather than
// priced as text. A service tier (OpenAI batch, flex) multiplies the token
// cost exactly; one the catalog does not know leaves the call Unpriced.
//
// The catalog (catalog.yaml, embedded) is a list of price lists, each for
// one model or operation and effective from a date: a call is priced by the
// list with the latest effective date on or before the call, so a price
// change never rewrites history. The cost processor's config can override
// and extend it (Overrides); the catalog version, stored with every computed
// cost, then says so.
package pricing

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Entry is one price list, effective from a date. It is the shape of both
// the entries of catalog.yaml and the processor config's pricing.models.
//
// OpenAI and OpenRouter lists are keyed by Model; Exa, Twilio and Apollo
// lists by Operation (Exa: search, contents, answer, find_similar, research;
// Twilio: sms, voice, optionally per destination Country, ISO 3166 alpha-2,
// "" being the default for every other country; Apollo: the endpoint path
// without /api/v1, e.g. people/match).
//
// Prices are decimal USD strings: per 1,000,000 tokens for token units, per
// unit for the others. An entry is a complete price list: the units it does
// not name have no price from its effective date on.
//
// Apollo is priced in credits: an entry with an Operation gives the Credits
// one call to that endpoint consumes, and the entry without an Operation
// gives the USD price of one credit (prices: {credit: "…"}).
//
// Brackets price calls by how much of one unit they used (Exa: a search
// returning 26–100 results costs more per request than one returning up
// to 25): Prices hold below the first bracket.
type Entry struct {
	Provider  string            `mapstructure:"provider" yaml:"provider" json:"provider"`
	Model     string            `mapstructure:"model" yaml:"model,omitempty" json:"model,omitempty"`
	Operation string            `mapstructure:"operation" yaml:"operation,omitempty" json:"operation,omitempty"`
	Country   string            `mapstructure:"country" yaml:"country,omitempty" json:"country,omitempty"`
	Effective string            `mapstructure:"effective" yaml:"effective" json:"effective"`
	Prices    map[string]string `mapstructure:"prices" yaml:"prices,omitempty" json:"prices,omitempty"`
	Credits   string            `mapstructure:"credits" yaml:"credits,omitempty" json:"credits,omitempty"`
	Brackets  []Bracket         `mapstructure:"brackets" yaml:"brackets,omitempty" json:"brackets,omitempty"`
}

// Overrides are the processor config's changes to the built-in catalog.
type Overrides struct {
	// Models are price lists added to the catalog. One with the same key
	// (provider, model or operation, country) and effective date as a
	// built-in list replaces it; one with a later date changes the price
	// from that date on.
	Models []Entry `mapstructure:"models"`
	// ApolloUSDPerCredit is the USD price of one Apollo credit, at every
	// date; "" keeps the catalog's rate.
	ApolloUSDPerCredit string `mapstructure:"apollo_usd_per_credit"`
}

// Catalog is a set of price lists. It is immutable after construction and
// safe for concurrent use.
type Catalog struct {
	version string
	schemes []scheme // by provIdx
	tables  []table  // by provIdx
	entries []normEntry

	creditRate    Money // override of the USD price of one credit
	hasCreditRate bool
}

//go:embed catalog.yaml
var catalogYAML []byte

var defaultCatalog = sync.OnceValues(func() (*Catalog, error) { return Load(catalogYAML, "catalog.yaml") })

// Default returns the catalog embedded in the binary. It is parsed once.
func Default() (*Catalog, error) { return defaultCatalog() }

type catalogFile struct {
	Version string `yaml:"version"`
	// Providers say how each provider's prices are keyed; a catalog
	// without them has the embedded catalog's.
	Providers []scheme `yaml:"providers"`
	Entries   []Entry  `yaml:"entries"`
}

// builtinSchemes are the embedded catalog's providers.
var builtinSchemes = sync.OnceValues(func() ([]scheme, error) {
	f, err := parseFile(catalogYAML, "catalog.yaml")
	if err != nil {
		return nil, err
	}
	return f.Providers, nil
})

func parseFile(data []byte, name string) (catalogFile, error) {
	var f catalogFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("%s: %w", name, err)
	}
	if strings.TrimSpace(f.Version) == "" {
		return f, fmt.Errorf("%s: missing version", name)
	}
	if err := checkSchemes(f.Providers); err != nil {
		return f, fmt.Errorf("%s: providers: %w", name, err)
	}
	return f, nil
}

// Load reads a catalog in the catalog.yaml format; name prefixes errors.
func Load(data []byte, name string) (*Catalog, error) {
	f, err := parseFile(data, name)
	if err != nil {
		return nil, err
	}
	c := &Catalog{version: strings.TrimSpace(f.Version), schemes: f.Providers}
	if len(c.schemes) == 0 {
		if c.schemes, err = builtinSchemes(); err != nil {
			return nil, err
		}
	}
	norm, err := c.normalize(f.Entries, name+": entries", 0)
	if err != nil {
		return nil, err
	}
	if err := c.build(norm); err != nil {
		return nil, err
	}
	return c, nil
}

// Version is the catalog's version, stored with every computed cost: the
// catalog file's own version ("2026-11-26"), followed by "+cfg." and a hash
// of the overrides when there are any, so that two collectors with the same
// catalog and config store the same version.
func (c *Catalog) Version() string { return c.version }

// Entries returns the catalog's price lists, normalized (lowercase keys), in
// order: built-in first, then overrides.
func (c *Catalog) Entries() []Entry {
	out := make([]Entry, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.Entry
	}
	return out
}

// With returns a catalog with the overrides applied. Each malformed entry is
// an error naming it (pricing.models[2].prices.input_tokens: "abc" is not a
// decimal amount); all are reported at once.
func (c *Catalog) With(o Overrides) (*Catalog, error) {
	if len(o.Models) == 0 && strings.TrimSpace(o.ApolloUSDPerCredit) == "" {
		return c, nil
	}
	var errs []error
	gen := 1
	if n := len(c.entries); n > 0 {
		gen = c.entries[n-1].gen + 1
	}
	norm, err := c.normalize(o.Models, "pricing.models", gen)
	if err != nil {
		errs = append(errs, err)
	}
	nc := &Catalog{version: c.version, schemes: c.schemes, creditRate: c.creditRate, hasCreditRate: c.hasCreditRate}
	if s := strings.TrimSpace(o.ApolloUSDPerCredit); s != "" {
		m, err := parsePrice(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("pricing.apollo_usd_per_credit: %w", err))
		}
		nc.creditRate, nc.hasCreditRate = m, true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := nc.build(append(slices.Clip(c.entries), norm...)); err != nil {
		return nil, err
	}
	nc.version = c.version + "+cfg." + overridesHash(norm, o.ApolloUSDPerCredit)
	return nc, nil
}

func overridesHash(norm []normEntry, rate string) string {
	h := sha256.New()
	for _, e := range norm {
		fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s|", e.Provider, e.Model, e.Operation, e.Country, e.Effective, e.Credits)
		hashPrices(h, e.Prices)
		for _, b := range e.Brackets {
			fmt.Fprintf(h, "[%s %d-%d ", b.Unit, b.From, b.To)
			hashPrices(h, b.Prices)
			h.Write([]byte{']'})
		}
		h.Write([]byte{'\n'})
	}
	if rate != "" {
		m, _ := ParseMoney(rate)
		fmt.Fprintf(h, "apollo_usd_per_credit=%d\n", m)
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

func hashPrices(h io.Writer, prices map[string]string) {
	units := make([]string, 0, len(prices))
	for u := range prices {
		units = append(units, u)
	}
	sort.Strings(units)
	for _, u := range units {
		// Hash the value, not the text: "2.5" and "2.50" are one price.
		m, _ := ParseMoney(prices[u])
		fmt.Fprintf(h, "%s=%d,", u, m)
	}
}

// provIdx indexes a catalog's providers (its schemes and tables).
type provIdx uint8

// providerIndex finds provider s, exactly first, then ignoring case and
// surrounding space.
func (c *Catalog) providerIndex(s string) (provIdx, bool) {
	for i := range c.schemes { // exact first: no folding on the common path
		if s == c.schemes[i].Name {
			return provIdx(i), true
		}
	}
	s = trimSpace(s)
	for i := range c.schemes {
		if strings.EqualFold(s, c.schemes[i].Name) {
			return provIdx(i), true
		}
	}
	return 0, false
}

// priceList is one entry, parsed.
type priceList struct {
	eff        int64  // unix seconds of 00:00 UTC on the effective date
	date       string // effective date, YYYY-MM-DD
	priced     uint32 // bit u set when p[u] is a price
	p          [NumUnits]Money
	credits    Money // Apollo endpoint: credits per call, in 1e-12 credits
	hasCredits bool
	brackets   []bracket
}

func (pl *priceList) has(u Unit) bool { return pl.priced&(1<<u) != 0 }

// series is the price history of one key.
type series struct {
	provider  string
	key       string      // model or operation, lowercase
	country   string      // Twilio destination, lowercase; "" for the default
	lists     []priceList // by effective date, ascending
	countries map[string]*series
}

// at returns the list in effect at t (unix seconds), nil before the first.
func (s *series) at(t int64) *priceList {
	for i := len(s.lists) - 1; i >= 0; i-- {
		if s.lists[i].eff <= t {
			return &s.lists[i]
		}
	}
	return nil
}

type table struct {
	byKey map[string]*series
}

// normEntry is a validated, normalized entry.
type normEntry struct {
	Entry
	path string // where it came from, for errors
	gen  int    // 0 built-in catalog, 1… successive overrides
	pi   provIdx
	list priceList
}

func (c *Catalog) normalize(in []Entry, path string, gen int) ([]normEntry, error) {
	if len(c.schemes) == 0 { // a catalog built in code
		var err error
		if c.schemes, err = builtinSchemes(); err != nil {
			return nil, err
		}
	}
	var errs []error
	out := make([]normEntry, 0, len(in))
	for i, e := range in {
		p := fmt.Sprintf("%s[%d]", path, i)
		n, err := c.normalizeEntry(e, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n.gen = gen
		out = append(out, n)
	}
	return out, errors.Join(errs...)
}

func (c *Catalog) normalizeEntry(e Entry, path string) (normEntry, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(path+": "+format, a...)) }
	n := normEntry{path: path}
	n.Provider = asciiLower(trimSpace(e.Provider))
	n.Model = asciiLower(trimSpace(e.Model))
	n.Operation = normOperation(asciiLower(trimSpace(e.Operation)))
	n.Country = asciiLower(trimSpace(e.Country))
	n.Effective = trimSpace(e.Effective)
	n.Credits = trimSpace(e.Credits)

	pi, ok := c.providerIndex(n.Provider)
	switch {
	case n.Provider == "":
		bad("missing provider (one of %s)", c.names(nil))
	case !ok:
		bad("unknown provider %q (one of %s)", e.Provider, c.names(nil))
	}
	n.pi = pi
	var sc scheme
	if ok {
		sc = c.schemes[pi]
	}

	if n.Effective == "" {
		bad("missing effective date (YYYY-MM-DD)")
	} else if t, err := time.Parse(time.DateOnly, n.Effective); err != nil {
		bad("effective date %q is not YYYY-MM-DD", e.Effective)
	} else {
		n.list.eff, n.list.date = t.Unix(), n.Effective
	}

	// Key fields by provider.
	if ok {
		name := sc.Name
		if strings.ContainsAny(n.Model, " \t\r\n") || strings.ContainsAny(n.Operation, " \t\r\n") {
			bad("model and operation must not contain spaces")
		}
		switch {
		case sc.byModel():
			if n.Model == "" {
				bad("missing model (%s prices are per model)", name)
			}
			if n.Operation != "" {
				bad("operation %q is not used for %s prices (they are per model)", e.Operation, name)
			}
		default:
			if n.Model != "" {
				bad("model %q is not used for %s prices (they are per operation)", e.Model, name)
			}
			if n.Operation == "" && !sc.Credits {
				bad("missing operation (%s prices are per operation)", name)
			}
		}
		if n.Country != "" {
			if !sc.ByCountry {
				bad("country is only used for %s prices", c.names(func(s scheme) bool { return s.ByCountry }))
			} else if len(n.Country) != 2 || !isLetters(n.Country) {
				bad("country %q is not an ISO 3166 two-letter code", e.Country)
			}
		}
	}

	var perrs []error
	n.Prices, n.list.priced, perrs = parsePrices(e.Prices, &n.list.p, path+".prices")
	errs = append(errs, perrs...)
	n.Brackets, n.list.brackets, perrs = parseBrackets(e.Brackets, path+".brackets")
	errs = append(errs, perrs...)
	if len(n.Brackets) > 0 && ok && sc.Credits {
		bad("brackets are not used for %s prices", sc.Name)
	}

	if ok && sc.Credits {
		if n.Operation == "" { // the USD price of one credit
			if n.Credits != "" {
				bad("credits is for an endpoint; the entry without operation gives the USD price of one credit")
			}
			if !n.list.has(Credits) || n.list.priced != 1<<Credits {
				bad("the %s entry without operation must give exactly prices.credit, the USD price of one credit", sc.Name)
			}
		} else {
			if len(e.Prices) > 0 {
				bad("%s endpoint %q: give credits (per call), not prices; the USD price of a credit is a separate entry", sc.Name, n.Operation)
			}
			if n.Credits == "" {
				bad("%s endpoint %q: missing credits (credits one call consumes)", sc.Name, n.Operation)
			} else if m, err := parsePrice(n.Credits); err != nil {
				errs = append(errs, fmt.Errorf("%s.credits: %w", path, err))
			} else {
				n.list.credits, n.list.hasCredits = m, true
			}
		}
	} else {
		if n.Credits != "" {
			bad("credits is only used for %s endpoints", c.names(func(s scheme) bool { return s.Credits }))
		}
		// Without a known provider, what the list must hold is unknown.
		if len(e.Prices) == 0 && ok {
			bad("no prices")
		}
	}
	if len(errs) > 0 {
		return normEntry{}, errors.Join(errs...)
	}
	return n, nil
}

type dupKey struct {
	pi                    provIdx
	key, country, effDate string
}

// build indexes entries. An entry replaces an earlier one with the same key
// and date from an earlier generation; within one generation that is an
// error.
func (c *Catalog) build(entries []normEntry) error {
	var errs []error
	seen := make(map[dupKey]int, len(entries))
	kept := make([]normEntry, 0, len(entries))
	for _, e := range entries {
		k := dupKey{e.pi, e.Model + e.Operation, e.Country, e.Effective}
		if j, ok := seen[k]; ok {
			if kept[j].gen == e.gen {
				errs = append(errs, fmt.Errorf("%s: same %s %q%s effective %s as %s", e.path, c.schemes[e.pi].Name,
					k.key, countrySuffix(e.Country), e.Effective, kept[j].path))
				continue
			}
			kept[j] = e
			continue
		}
		seen[k] = len(kept)
		kept = append(kept, e)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.tables = make([]table, len(c.schemes))
	for i := range c.tables {
		c.tables[i].byKey = make(map[string]*series)
	}
	for _, e := range kept {
		t := &c.tables[e.pi]
		key := e.Model + e.Operation
		s := t.byKey[key]
		if s == nil {
			s = &series{provider: c.schemes[e.pi].Name, key: key}
			t.byKey[key] = s
		}
		if e.Country != "" {
			if s.countries == nil {
				s.countries = make(map[string]*series)
			}
			cs := s.countries[e.Country]
			if cs == nil {
				cs = &series{provider: s.provider, key: key, country: e.Country}
				s.countries[e.Country] = cs
			}
			s = cs
		}
		s.lists = append(s.lists, e.list)
	}
	for i := range c.tables {
		for _, s := range c.tables[i].byKey {
			sortLists(s)
			for _, cs := range s.countries {
				sortLists(cs)
			}
		}
	}
	c.entries = kept
	return nil
}

func sortLists(s *series) {
	sort.SliceStable(s.lists, func(i, j int) bool { return s.lists[i].eff < s.lists[j].eff })
}

func countrySuffix(c string) string {
	if c == "" {
		return ""
	}
	return " country " + strings.ToUpper(c)
}

// normOperation strips what a caller may leave on an operation named by
// its path: leading slashes and an /api/v1/ prefix (Apollo).
func normOperation(op string) string {
	op = strings.TrimLeft(op, "/")
	op = strings.TrimPrefix(op, "api/")
	op = strings.TrimPrefix(op, "v1/")
	return strings.TrimRight(op, "/")
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

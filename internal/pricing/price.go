package pricing

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// Short reasons a call is unpriced, in Result.Reason. They are constants so
// that pricing never allocates and so that they group well on a dashboard;
// Result.Detail spells out the specifics.
const (
	ReasonUnknownProvider = "unknown provider"
	ReasonNoModel         = "no model or operation given"
	ReasonNoEntry         = "no catalog entry"
	ReasonNotInEffect     = "no price in effect at call time"
	ReasonUnitNotPriced   = "used unit has no price"
	ReasonNegativeUsage   = "negative usage quantity"
	ReasonOverflow        = "cost out of range"
	ReasonNoCreditRate    = "no usd price per apollo credit"
)

// Result is the outcome of pricing one call.
type Result struct {
	Cost   Money  // valid unless Status is Unpriced
	Status Status // Computed or Unpriced (Reported is set by callers)
	// Reason says why the call is unpriced: one of the Reason constants
	// (or a caller's text). Detail gives the full story.
	Reason string
	// Model is the catalog key that matched, after dated-suffix, vendor and
	// fine-tune resolution: a model (gpt-4o) or an operation (search, sms,
	// people/match).
	Model string
	// Provider is the provider whose price list was used: openai for an
	// OpenRouter call to openai/gpt-4o priced from OpenAI's list.
	Provider string
	// Effective is the first day (YYYY-MM-DD) of the price list used.
	Effective string

	d detail
}

// detail keeps what Detail needs, without formatting it.
type detail struct {
	provider, name, country string // as asked
	at                      int64  // unix seconds
	unit                    Unit
	qty                     int64
	s                       *series
	freeVariant             bool
	byOperation             bool // the provider is priced per operation
}

// Detail explains the result in a sentence, e.g. "no catalog entry for
// openai model gpt-9". It allocates: call it for logs, not per call.
func (r Result) Detail() string {
	d := &r.d
	what := "model"
	if d.byOperation {
		what = "operation"
	}
	subject := fmt.Sprintf("%s %s %s", d.provider, what, d.name)
	if d.country != "" {
		subject += " to " + strings.ToUpper(d.country)
	}
	date := time.Unix(d.at, 0).UTC().Format(time.DateOnly)
	switch r.Status {
	case Reported:
		return "cost reported by the provider"
	case Computed:
		return fmt.Sprintf("computed from %s %s prices effective %s", r.Provider, r.Model, r.Effective)
	}
	switch r.Reason {
	case ReasonUnknownProvider:
		return fmt.Sprintf("unknown provider %q", d.provider)
	case ReasonNoModel:
		return fmt.Sprintf("no %s given for the %s call", what, d.provider)
	case ReasonNoEntry:
		if d.freeVariant {
			return fmt.Sprintf("no catalog entry for %s (a :free variant is priced only by an entry of its own)", subject)
		}
		if d.country != "" && d.s != nil {
			return fmt.Sprintf("no catalog entry for %s, and no default price for other countries", subject)
		}
		return "no catalog entry for " + subject
	case ReasonNotInEffect:
		if d.s != nil && len(d.s.lists) > 0 {
			return fmt.Sprintf("no price in effect at %s for %s (prices start %s)", date, subject, d.s.lists[0].date)
		}
		return fmt.Sprintf("no price in effect at %s for %s", date, subject)
	case ReasonUnitNotPriced:
		extra := ""
		if d.unit == ReasoningTokens {
			extra = " or output_tokens"
		}
		return fmt.Sprintf("%s %s (prices effective %s) has no %s%s price, but the call used %d",
			r.Provider, r.Model, r.Effective, d.unit, extra, d.qty)
	case ReasonNegativeUsage:
		return fmt.Sprintf("negative %s quantity %d for %s", d.unit, d.qty, subject)
	case ReasonOverflow:
		return fmt.Sprintf("cost of a call to %s exceeds %s USD", subject, MaxCost)
	case ReasonNoCreditRate:
		return fmt.Sprintf("no USD price per %s credit in effect at %s (set apollo_usd_per_credit)", d.provider, date)
	}
	return r.Reason
}

var zeroUsage Usage

// Price prices one call to provider at time at from its usage u (nil: no
// usage). model names the model (OpenAI, OpenRouter), operation the
// operation (Exa, Twilio, Apollo), country the destination (Twilio).
//
// It does not allocate when the names fit in 128 bytes.
//
// Token prices: uncached input = input − cached − cache_write, uncached
// output = output − reasoning; reasoning tokens take the reasoning price when
// the list has one, else the output price. When cached + cache_write exceed
// input (or reasoning exceeds output) the reported total is taken to be too
// low: the larger parts are charged in full and the remainder is 0 — never
// negative, and never more than what was reported used. A token kind the
// call used with no price in the list makes the call Unpriced (naming the
// unit), as does a negative quantity.
//
// Per-call units (request, page, result, sms_segment, voice_minute) are
// charged when the list prices them; quantities of units an operation's list
// does not price are not billed by that operation.
//
// Arithmetic is exact: Σ tokens × price-per-1M-tokens (pico-USD) in 128 bits,
// divided by 1,000,000 once and rounded half to even to the pico-USD, plus
// Σ quantity × unit price. A call with zero usage of a known model costs
// $0: whether a failed call was billed at all is its caller's to settle
// first (the cost processor's refused rule). A cost above MaxCost is
// Unpriced (overflow).
func (c *Catalog) Price(prov, model, operation, country string, at time.Time, u *Usage) Result {
	r := Result{d: detail{provider: prov, name: model, at: at.Unix()}}
	pi, ok := c.providerIndex(prov)
	if !ok {
		r.Reason = ReasonUnknownProvider
		return r
	}
	sc := &c.schemes[pi]
	r.d.provider, r.d.byOperation = sc.Name, !sc.byModel()
	if u == nil {
		u = &zeroUsage
	}
	for i, q := range u {
		if q < 0 {
			r.Reason, r.d.unit, r.d.qty = ReasonNegativeUsage, Unit(i), q
			if !sc.byModel() {
				r.d.name = operation
			}
			return r
		}
	}
	if sc.Credits {
		r.d.name = operation
		return c.priceCredits(pi, r, u)
	}

	var nb [128]byte
	var s *series
	pricedAs := pi
	if sc.byModel() {
		name := lowerInto(nb[:], model)
		if len(name) == 0 {
			r.Reason = ReasonNoModel
			return r
		}
		s, pricedAs, _, r.d.freeVariant = c.resolveModel(pi, name)
	} else {
		r.d.name = operation
		name := opBytes(lowerInto(nb[:], operation))
		if len(name) == 0 {
			r.Reason = ReasonNoModel
			return r
		}
		s = c.tables[pi].byKey[string(name)]
		if s != nil && sc.ByCountry {
			r.d.country = country
			s = c.countrySeries(s, country, r.d.at)
		}
	}
	if s == nil {
		r.Reason = ReasonNoEntry
		return r
	}
	r.Model, r.Provider, r.d.s = s.key, c.schemes[pricedAs].Name, s
	if sc.ByCountry && len(s.lists) == 0 { // only per-country lists, none for this country
		r.Reason = ReasonNoEntry
		return r
	}
	pl := s.at(r.d.at)
	if pl == nil {
		r.Reason = ReasonNotInEffect
		return r
	}
	r.Effective = pl.date
	cost, reason, unit, qty := pl.cost(u)
	if reason != "" {
		r.Reason, r.d.unit, r.d.qty = reason, unit, qty
		return r
	}
	r.Cost, r.Status = cost, Computed
	return r
}

// countrySeries picks the country's series when it has a price in effect,
// else the default (which may have no lists).
func (c *Catalog) countrySeries(s *series, country string, at int64) *series {
	if s.countries == nil || country == "" {
		return s
	}
	var cb [16]byte
	cc := lowerInto(cb[:], country)
	if cs := s.countries[string(cc)]; cs != nil && cs.at(at) != nil {
		return cs
	}
	return s
}

// priceCredits prices a call to a provider priced in credits: the credits
// it reported, else its operation's credits per call, at the USD price of a
// credit.
func (c *Catalog) priceCredits(pi provIdx, r Result, u *Usage) Result {
	var nb [128]byte
	op := opBytes(lowerInto(nb[:], r.d.name))
	s := c.tables[pi].byKey[string(op)]
	if len(op) == 0 {
		s = nil // the rate entry is not an endpoint
	}
	r.Provider = c.schemes[pi].Name
	if s != nil {
		r.Model, r.d.s = s.key, s
	}
	reported := u[Credits]
	var endpoint *priceList
	if reported == 0 {
		switch {
		case len(op) == 0:
			r.Reason = ReasonNoModel
			return r
		case s == nil:
			r.Reason = ReasonNoEntry
			return r
		}
		if endpoint = s.at(r.d.at); endpoint == nil {
			r.Reason = ReasonNotInEffect
			return r
		}
		r.Effective = endpoint.date
	}
	rate, rateDate, ok := c.creditRateAt(pi, r.d.at)
	if !ok {
		r.Reason = ReasonNoCreditRate
		return r
	}
	if r.Effective == "" {
		r.Effective = rateDate
	}
	var cost uint64
	if reported > 0 {
		hi, lo := bits.Mul64(uint64(reported), uint64(rate))
		if hi != 0 || lo > uint64(MaxCost) {
			r.Reason = ReasonOverflow
			return r
		}
		cost = lo
	} else {
		// credits (1e-12 credits) × rate (pico-USD) / 1e12
		hi, lo := bits.Mul64(uint64(endpoint.credits), uint64(rate))
		q, ok := divRound(hi, lo, pow10Scale)
		if !ok || q > uint64(MaxCost) {
			r.Reason = ReasonOverflow
			return r
		}
		cost = q
	}
	r.Cost, r.Status = Money(cost), Computed
	return r
}

// EndpointCredits is the catalog's credits per call to an endpoint of the
// provider priced in credits (Apollo; its path, with or without /api/v1, as
// Price takes it) in effect at at, in 1e-12 credits; ok is false when the
// catalog has none for it.
func (c *Catalog) EndpointCredits(operation string, at time.Time) (credits Money, ok bool) {
	var nb [128]byte
	op := opBytes(lowerInto(nb[:], operation))
	var s *series
	for i := range c.schemes {
		if c.schemes[i].Credits {
			if s = c.tables[i].byKey[string(op)]; s != nil {
				break
			}
		}
	}
	if len(op) == 0 || s == nil {
		return 0, false
	}
	pl := s.at(at.Unix())
	if pl == nil || !pl.hasCredits {
		return 0, false
	}
	return pl.credits, true
}

func (c *Catalog) creditRateAt(pi provIdx, t int64) (Money, string, bool) {
	if c.hasCreditRate {
		return c.creditRate, "", true
	}
	s := c.tables[pi].byKey[""]
	if s == nil {
		return 0, "", false
	}
	pl := s.at(t)
	if pl == nil {
		return 0, "", false
	}
	return pl.p[Credits], pl.date, true
}

// cost prices u with the list. It returns a reason when it cannot.
func (pl *priceList) cost(u *Usage) (Money, string, Unit, int64) {
	in, cached, cw := uint64(u[InputTokens]), uint64(u[CachedInputTokens]), uint64(u[CacheWriteTokens])
	var uncached uint64
	if sub := cached + cw; in > sub { // cached+cw < 2^64: both are below 2^63
		uncached = in - sub
	}
	out, reasoning := uint64(u[OutputTokens]), uint64(u[ReasoningTokens])
	var plain uint64
	if out > reasoning {
		plain = out - reasoning
	}
	reasoningUnit := ReasoningTokens
	if !pl.has(ReasoningTokens) {
		reasoningUnit = OutputTokens // reasoning tokens are output tokens
	}
	parts := [5]struct {
		qty       uint64
		unit, use Unit // the quantity's unit, the price's unit
	}{
		{uncached, InputTokens, InputTokens},
		{cached, CachedInputTokens, CachedInputTokens},
		{cw, CacheWriteTokens, CacheWriteTokens},
		{plain, OutputTokens, OutputTokens},
		{reasoning, ReasoningTokens, reasoningUnit},
	}
	// Σ qty × price < 5 × 2^63 × 2^60 < 2^126: the 128-bit sum cannot wrap.
	var hi, lo uint64
	for _, p := range parts {
		if p.qty == 0 {
			continue
		}
		if !pl.has(p.use) {
			return 0, ReasonUnitNotPriced, p.unit, int64(p.qty)
		}
		h, l := bits.Mul64(p.qty, uint64(pl.p[p.use]))
		var carry uint64
		lo, carry = bits.Add64(lo, l, 0)
		hi, _ = bits.Add64(hi, h, carry)
	}
	total, ok := divRound(hi, lo, 1_000_000)
	if !ok {
		return 0, ReasonOverflow, 0, 0
	}
	for unit := Requests; unit < NumUnits; unit++ {
		q := uint64(u[unit])
		if q == 0 || !pl.has(unit) {
			continue
		}
		h, l := bits.Mul64(q, uint64(pl.p[unit]))
		var carry uint64
		total, carry = bits.Add64(total, l, 0)
		if h != 0 || carry != 0 {
			return 0, ReasonOverflow, 0, 0
		}
	}
	if total > uint64(MaxCost) {
		return 0, ReasonOverflow, 0, 0
	}
	return Money(total), "", 0, 0
}

// divRound returns (hi,lo) / d rounded half to even, and false when the
// quotient does not fit in 64 bits.
func divRound(hi, lo, d uint64) (uint64, bool) {
	if hi >= d {
		return 0, false
	}
	q, rem := bits.Div64(hi, lo, d)
	// rem < d < 2^63 for our divisors, so 2*rem does not wrap.
	if twice := 2 * rem; twice > d || twice == d && q&1 == 1 {
		q++
		if q == 0 {
			return 0, false
		}
	}
	return q, true
}

// lowerInto copies s, trimmed and ASCII-lowercased, into buf. Names longer
// than buf are lowered on the heap.
func lowerInto(buf []byte, s string) []byte {
	s = trimSpace(s)
	if len(s) > len(buf) {
		return []byte(asciiLower(s))
	}
	b := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b[i] = ch
	}
	return b
}

// opBytes is normOperation on bytes, without allocating.
func opBytes(b []byte) []byte {
	for len(b) > 0 && b[0] == '/' {
		b = b[1:]
	}
	b, _ = cutPrefix(b, "api/")
	b, _ = cutPrefix(b, "v1/")
	for len(b) > 0 && b[len(b)-1] == '/' {
		b = b[:len(b)-1]
	}
	return b
}

func cutPrefix(b []byte, prefix string) ([]byte, bool) {
	if len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix {
		return b[len(prefix):], true
	}
	return b, false
}

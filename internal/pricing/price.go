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
	ReasonUnknownTier     = "unknown service tier"
	ReasonBeyondBrackets  = "quantity beyond the priced brackets"
	// ReasonCachedMedia: a call reported cached input tokens and audio or
	// image input tokens. Whether the cached tokens are text or media is
	// not reported, so pricing both would count some tokens twice.
	ReasonCachedMedia = "cached tokens of an audio or image call not split"
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
	byOperation             bool   // the provider is priced per operation
	tier                    string // the call's service tier, as asked
	tiers                   *scheme
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
	case ReasonUnknownTier:
		tiers := "none"
		if d.tiers != nil {
			tiers = d.tiers.tierNames()
		}
		return fmt.Sprintf("unknown service tier %q for %s (priced tiers: %s)", d.tier, subject, tiers)
	case ReasonBeyondBrackets:
		end := ""
		if d.s != nil {
			if pl := d.s.at(d.at); pl != nil && len(pl.brackets) > 0 {
				end = fmt.Sprintf(" (its prices end at %d)", pl.brackets[len(pl.brackets)-1].to)
			}
		}
		return fmt.Sprintf("%s %s (prices effective %s) has no price for %d %s%s", r.Provider, r.Model, r.Effective, d.qty, d.unit, end)
	case ReasonCachedMedia:
		return fmt.Sprintf("%s %s: %d cached input tokens beside audio or image input tokens, not told apart", r.Provider, r.Model, d.qty)
	case ReasonNoCreditRate:
		return fmt.Sprintf("no USD price per %s credit in effect at %s (set apollo_usd_per_credit)", d.provider, date)
	}
	return r.Reason
}

var zeroUsage Usage

// Price prices one call to provider at time at from its usage u (nil: no
// usage) at the standard service tier. model names the model (OpenAI,
// OpenRouter), operation the operation (Exa, Twilio, Apollo), country the
// destination (Twilio).
//
// It does not allocate when the names fit in 128 bytes.
//
// Token prices: uncached text input = input − cached − cache_write −
// input audio − input image, text output = output − reasoning − output
// audio − output image; reasoning tokens take the reasoning price when the
// list has one, else the output price. Audio and image tokens take their
// own prices, never the text price: a list without them leaves a call that
// used them Unpriced, as a list without a cached price does a call with
// cached tokens. When the parts exceed the total the reported total is
// taken to be too low: the parts are charged in full and the remainder is
// 0 — never negative, and never more than what was reported used. A token
// kind the call used with no price in the list makes the call Unpriced
// (naming the unit), as does a negative quantity, and so do cached tokens
// beside audio or image input tokens (ReasonCachedMedia: the cached tokens
// could be either).
//
// Per-call units (request, page, result, sms_segment, voice_minute) are
// charged when the list prices them; quantities of units an operation's list
// does not price are not billed by that operation. A list's brackets
// replace its prices for calls with that much of a unit (Exa results).
//
// Arithmetic is exact: Σ tokens × price-per-1M-tokens (pico-USD) in 128 bits,
// times the service tier's multiplier, divided by 1,000,000 (and the
// multiplier's scale) once and rounded half to even to the pico-USD, plus Σ
// quantity × unit price. A call with zero usage of a known model costs $0:
// whether a failed call was billed at all is its caller's to settle first
// (the cost processor's refused rule). A cost above MaxCost is Unpriced
// (overflow).
func (c *Catalog) Price(prov, model, operation, country string, at time.Time, u *Usage) Result {
	return c.PriceTier(prov, model, operation, country, "", at, u)
}

// PriceTier is Price at a service tier (OpenAI's service_tier, or batch).
// "", "default", "auto" and "standard" are the list prices; a tier the
// provider's scheme has a multiplier for scales the call's token cost; any
// other tier leaves the call Unpriced (ReasonUnknownTier), never priced as
// standard.
func (c *Catalog) PriceTier(prov, model, operation, country, tier string, at time.Time, u *Usage) Result {
	r := Result{d: detail{provider: prov, name: model, at: at.Unix(), tier: tier}}
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
	var tb [32]byte
	tierName := lowerInto(tb[:], tier)
	if sc.Credits {
		r.d.name = operation
		if !standardTier(tierName) {
			r.Reason, r.d.tiers = ReasonUnknownTier, sc
			return r
		}
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
	var mult Money // 0: the list prices
	if !standardTier(tierName) {
		m, ok := c.schemes[pricedAs].tiers[string(tierName)]
		if !ok {
			r.Reason, r.d.tiers = ReasonUnknownTier, &c.schemes[pricedAs]
			return r
		}
		mult = m
	}
	var merged priceList
	if len(pl.brackets) > 0 {
		b, beyond := pl.bracketFor(u)
		if beyond {
			r.Reason, r.d.unit, r.d.qty = ReasonBeyondBrackets, pl.brackets[0].unit, u[pl.brackets[0].unit]
			return r
		}
		if b != nil {
			merged = pl.with(b)
			pl = &merged
		}
	}
	cost, reason, unit, qty := pl.cost(u, mult)
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

// cost prices u with the list, the token part times mult (pico-units; 0:
// ×1). It returns a reason when it cannot.
func (pl *priceList) cost(u *Usage, mult Money) (Money, string, Unit, int64) {
	in, cached, cw := uint64(u[InputTokens]), uint64(u[CachedInputTokens]), uint64(u[CacheWriteTokens])
	audioIn, imageIn := uint64(u[InputAudioTokens]), uint64(u[InputImageTokens])
	if cached+cw > 0 && audioIn+imageIn > 0 { // each below 2^63: no wrap
		return 0, ReasonCachedMedia, CachedInputTokens, int64(cached + cw)
	}
	uncached := rest(in, cached, cw, audioIn, imageIn)
	out, reasoning := uint64(u[OutputTokens]), uint64(u[ReasoningTokens])
	audioOut, imageOut := uint64(u[OutputAudioTokens]), uint64(u[OutputImageTokens])
	plain := rest(out, reasoning, audioOut, imageOut)
	reasoningUnit := ReasoningTokens
	if !pl.has(ReasoningTokens) {
		reasoningUnit = OutputTokens // reasoning tokens are output tokens
	}
	parts := [9]struct {
		qty       uint64
		unit, use Unit // the quantity's unit, the price's unit
	}{
		{uncached, InputTokens, InputTokens},
		{cached, CachedInputTokens, CachedInputTokens},
		{cw, CacheWriteTokens, CacheWriteTokens},
		{audioIn, InputAudioTokens, InputAudioTokens},
		{imageIn, InputImageTokens, InputImageTokens},
		{plain, OutputTokens, OutputTokens},
		{reasoning, ReasoningTokens, reasoningUnit},
		{audioOut, OutputAudioTokens, OutputAudioTokens},
		{imageOut, OutputImageTokens, OutputImageTokens},
	}
	// Σ qty × price < 9 × 2^63 × 2^60 < 2^127: the 128-bit sum cannot wrap.
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
	var total uint64
	var ok bool
	if mult == 0 {
		total, ok = divRound(hi, lo, 1_000_000)
	} else {
		total, ok = mulDivRound(hi, lo, uint64(mult), 1_000_000*pow10Scale)
	}
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

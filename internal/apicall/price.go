package apicall

import (
	"time"

	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// PriceUsage prices a call's usage from the catalog at the call's service
// tier: the one pricing path for calls as they are seen (the cost
// processor) and for stored calls priced again (see Stored). It prices
// usage only: a provider-reported cost and whether a failed call was billed
// at all are the caller's to settle first.
func PriceUsage(cat *pricing.Catalog, c *Call, at time.Time) pricing.Result {
	var u pricing.Usage
	u[pricing.InputTokens] = c.InputTokens
	u[pricing.CachedInputTokens] = c.CachedInputTokens
	u[pricing.CacheWriteTokens] = c.CacheWriteTokens
	u[pricing.OutputTokens] = c.OutputTokens
	u[pricing.ReasoningTokens] = c.ReasoningTokens
	u[pricing.InputAudioTokens] = c.InputAudioTokens
	u[pricing.OutputAudioTokens] = c.OutputAudioTokens
	u[pricing.InputImageTokens] = c.InputImageTokens
	u[pricing.OutputImageTokens] = c.OutputImageTokens
	u[pricing.Pages] = c.Pages
	u[pricing.Results] = c.Results
	u[pricing.Credits] = c.Credits
	// What else is billed (a request, SMS segments, voice minutes) is the
	// provider's rule.
	if d, ok := providers.Lookup(c.Provider); ok && d.Billing.Units != nil {
		billed := provider.Billed{Operation: c.Operation, SMSSegments: c.SMSSegments, VoiceSeconds: c.VoiceSeconds}
		if reason := d.Billing.Units(billed, &u); reason != "" {
			return pricing.Result{Status: pricing.Unpriced, Reason: reason}
		}
	}
	return cat.PriceTier(c.Provider, c.Model, c.Operation, c.Country, c.ServiceTier, at, &u)
}

// Keys of the api_calls usage_units map: a call's quantities beyond the
// token columns. The first five predate the token kinds, which are named
// as the catalog's units.
const (
	UnitResults           = "results"
	UnitPages             = "pages"
	UnitSMSSegments       = "sms_segments"
	UnitVoiceSeconds      = "voice_seconds"
	UnitCredits           = "credits"
	UnitInputAudioTokens  = "input_audio_tokens"
	UnitOutputAudioTokens = "output_audio_tokens"
	UnitInputImageTokens  = "input_image_tokens"
	UnitOutputImageTokens = "output_image_tokens"
)

type unitField struct {
	key string
	v   *int64
}

// unitFields pairs the usage_units keys with the call's fields, so that
// writing and reading the map cannot drift apart.
func unitFields(c *Call) [9]unitField {
	return [...]unitField{
		{UnitResults, &c.Results}, {UnitPages, &c.Pages}, {UnitSMSSegments, &c.SMSSegments},
		{UnitVoiceSeconds, &c.VoiceSeconds}, {UnitCredits, &c.Credits},
		{UnitInputAudioTokens, &c.InputAudioTokens}, {UnitOutputAudioTokens, &c.OutputAudioTokens},
		{UnitInputImageTokens, &c.InputImageTokens}, {UnitOutputImageTokens, &c.OutputImageTokens},
	}
}

// UsageUnits is the call's usage_units map: its non-zero quantities beyond
// the token columns, nil when there are none.
func UsageUnits(c *Call) map[string]uint64 {
	var m map[string]uint64
	for _, f := range unitFields(c) {
		if *f.v > 0 {
			if m == nil {
				m = make(map[string]uint64, 2)
			}
			m[f.key] = uint64(*f.v)
		}
	}
	return m
}

// UsageFromUnits sets the call's quantities from a stored usage_units map,
// as UsageUnits wrote it. Keys it does not know are left alone (a newer
// writer's), absent ones read as 0, and a value above MaxCount reads as 0,
// as such a count in a span would.
func UsageFromUnits(c *Call, units map[string]uint64) {
	for _, f := range unitFields(c) {
		*f.v = storedCount(units[f.key])
	}
}

func storedCount(v uint64) int64 {
	if v > MaxCount {
		return 0
	}
	return int64(v)
}

// Stored is what PriceUsage needs of a stored api_calls row: the columns
// provider, operation, model and service_tier, the token columns
// input_tokens, output_tokens, cached_input_tokens,
// cache_write_input_tokens and reasoning_tokens, and usage_units. The
// destination country of a Twilio call is not stored: such a call prices at
// the catalog's default (US) price.
type Stored struct {
	Provider, Operation, Model, ServiceTier string

	InputTokens, OutputTokens, CachedInputTokens, CacheWriteInputTokens, ReasoningTokens uint64
	UsageUnits                                                                           map[string]uint64
}

// Call rebuilds the call a stored row describes, as far as pricing needs
// it.
func (s *Stored) Call() Call {
	c := Call{Provider: s.Provider, Operation: s.Operation, Model: s.Model, ServiceTier: BoundServiceTier(s.ServiceTier),
		InputTokens: storedCount(s.InputTokens), OutputTokens: storedCount(s.OutputTokens),
		CachedInputTokens: storedCount(s.CachedInputTokens), CacheWriteTokens: storedCount(s.CacheWriteInputTokens),
		ReasoningTokens: storedCount(s.ReasoningTokens)}
	UsageFromUnits(&c, s.UsageUnits)
	return c
}

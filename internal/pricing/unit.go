package pricing

// Unit is a billed quantity of a call.
//
// Token units are priced per 1,000,000 tokens in the catalog; every other
// unit is priced per unit. CachedInputTokens, CacheWriteTokens,
// InputAudioTokens and InputImageTokens are part of InputTokens;
// ReasoningTokens, OutputAudioTokens and OutputImageTokens part of
// OutputTokens (as in the OpenAI, OpenRouter and OpenTelemetry GenAI usage
// fields): Price never counts them twice.
type Unit uint8

// Units.
const (
	InputTokens       Unit = iota // all input tokens, cached and cache-write included
	CachedInputTokens             // input tokens read from the prompt cache
	CacheWriteTokens              // input tokens written to the prompt cache
	OutputTokens                  // all output tokens, reasoning included
	ReasoningTokens               // output tokens spent on reasoning
	InputAudioTokens              // input tokens that are audio
	OutputAudioTokens             // output tokens that are audio
	InputImageTokens              // input tokens that are images (gpt-image-1)
	OutputImageTokens             // output tokens that are images (gpt-image-1)
	Requests                      // calls
	Pages                         // pages of content (Exa /contents)
	Results                       // results returned (Exa)
	SMSSegments                   // SMS segments (Twilio)
	VoiceMinutes                  // started minutes of a voice call (Twilio)
	Credits                       // Apollo credits
	NumUnits                      // number of units
)

var unitNames = [NumUnits]string{
	InputTokens:       "input_tokens",
	CachedInputTokens: "cached_input_tokens",
	CacheWriteTokens:  "cache_write_tokens",
	OutputTokens:      "output_tokens",
	ReasoningTokens:   "reasoning_tokens",
	InputAudioTokens:  "input_audio_tokens",
	OutputAudioTokens: "output_audio_tokens",
	InputImageTokens:  "input_image_tokens",
	OutputImageTokens: "output_image_tokens",
	Requests:          "request",
	Pages:             "page",
	Results:           "result",
	SMSSegments:       "sms_segment",
	VoiceMinutes:      "voice_minute",
	Credits:           "credit",
}

// String returns the unit's name as written in the catalog.
func (u Unit) String() string {
	if u < NumUnits {
		return unitNames[u]
	}
	return "unit?"
}

// PerMillion reports whether the unit is priced per 1,000,000 (token units).
func (u Unit) PerMillion() bool { return u <= OutputImageTokens }

// ParseUnit reads a unit name: input_tokens, cached_input_tokens,
// cache_write_tokens, output_tokens, reasoning_tokens, input_audio_tokens,
// output_audio_tokens, input_image_tokens, output_image_tokens, request,
// page, result, sms_segment, voice_minute or credit.
func ParseUnit(s string) (Unit, bool) {
	for u, n := range unitNames {
		if s == n {
			return Unit(u), true
		}
	}
	return 0, false
}

// Usage holds the quantities of one call, indexed by Unit. Quantities are
// never negative; a negative one makes the call unpriced.
type Usage [NumUnits]int64

// Status says where a call's cost came from.
//
// The zero value is Unpriced: a Result nobody filled in never passes for a
// priced $0.
type Status uint8

// Statuses.
const (
	Unpriced Status = iota // no price known: the cost is unknown, not zero
	Computed               // computed from the catalog
	Reported               // reported by the provider (set by the caller, never by Price)
	// Refused: the provider did not perform the call — it answered with a
	// refusal (4xx, 5xx) or the request never reached it — and bills
	// nothing for it. A known $0 that always comes with its reason, never a
	// price; set by the caller, never by Price.
	Refused
)

// String returns "unpriced", "computed", "reported" or "refused", as stored.
func (s Status) String() string {
	switch s {
	case Computed:
		return "computed"
	case Reported:
		return "reported"
	case Refused:
		return "refused"
	}
	return "unpriced"
}

// ParseStatus reads a Status from its String form.
func ParseStatus(s string) (Status, bool) {
	switch s {
	case "unpriced":
		return Unpriced, true
	case "computed":
		return Computed, true
	case "reported":
		return Reported, true
	case "refused":
		return Refused, true
	}
	return Unpriced, false
}

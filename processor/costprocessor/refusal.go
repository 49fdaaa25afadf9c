package costprocessor

import (
	"strconv"

	"github.com/nexus-otel/nexus/internal/apicall"
	"github.com/nexus-otel/nexus/internal/pricing"
	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// unbilled settles the cost of a failed call to one of the five providers
// before the catalog is asked, by what the provider was told and answered
// (apicall.Call.Answer). A provider-reported cost has already won. ok is
// false for a call to price from its usage as usual.
//
//   - Refused (4xx/5xx): none of the five bills a request it refused — a
//     rate limit, quota or credit exhaustion, auth failure, validation
//     error or outage — so the cost is a known $0 with the reason, status
//     refused. Without a status the refusal is what error.type implies
//     (RateLimitError); then usage the call reports wins, as the weaker
//     signal is the error name.
//   - NotSent (DNS, connection refused, TLS): the provider never saw it:
//     refused, $0.
//   - NoAnswer (a timeout, a cut connection, no status at all): whether the
//     provider performed it is unknown. Usage the call reports is priced;
//     without any the call is unpriced with the reason, never $0 and never
//     a full price: the provider's own usage report settles it (price
//     keeps the $0 of an operation the catalog says is free).
//   - Performed then failed (a 2xx whose stream was cut, OpenRouter's error
//     event inside a 200): the provider accepted it and bills what it did.
//     Providers that bill tokens (Billing.ByTokens: OpenAI, OpenRouter):
//     reported tokens are priced, and with none the call is unpriced (what
//     was generated is unknown). The others (Exa, Twilio, Apollo) bill the
//     accepted request: priced as usual.
func unbilled(call *apicall.Call) (pricing.Result, bool) {
	if !call.Failed {
		return pricing.Result{}, false
	}
	d, known := providers.Lookup(call.Provider)
	if !known {
		return pricing.Result{}, false // no billing rules known: "unknown provider"
	}
	switch call.Answer {
	case provider.Refused:
		if call.HTTPStatus == 0 && reportsUsage(call) {
			return pricing.Result{}, false
		}
		return pricing.Result{Status: pricing.Refused, Reason: refusedReason(call)}, true
	case provider.NotSent:
		return pricing.Result{Status: pricing.Refused, Reason: "not sent: " + call.ErrorClass + " (" + call.ErrorType + ")"}, true
	case provider.NoAnswer:
		if reportsUsage(call) {
			return pricing.Result{}, false
		}
		what := "no response status"
		if call.ErrorClass != provider.ClassError {
			what += " (" + call.ErrorClass + ")"
		}
		return pricing.Result{Status: pricing.Unpriced, Reason: what + ": unknown whether " + call.Provider + " billed it"}, true
	}
	// Performed, then failed.
	if d.Billing.ByTokens && call.InputTokens == 0 && call.OutputTokens == 0 {
		return pricing.Result{Status: pricing.Unpriced, Reason: "failed after HTTP " + strconv.FormatInt(call.AnswerStatus, 10) +
			" with no usage reported: unknown what " + call.Provider + " billed"}, true
	}
	return pricing.Result{}, false
}

// refusedReason is e.g. "refused: HTTP 429 rate_limited"; with the status
// implied by error.type, "refused: HTTP 429 rate_limited (error.type
// RateLimitError)". The values are few (status × class × the error names
// AnswerOf knows), so they group on a dashboard.
func refusedReason(call *apicall.Call) string {
	r := "refused: "
	if call.AnswerStatus > 0 {
		r += "HTTP " + strconv.FormatInt(call.AnswerStatus, 10) + " "
	}
	r += call.ErrorClass
	if call.HTTPStatus == 0 {
		r += " (error.type " + call.ErrorType + ")"
	}
	return r
}

// reportsUsage says whether the call carries usage that only a response
// gives: tokens, Exa results or pages, Twilio segments or seconds, Apollo
// credits.
func reportsUsage(call *apicall.Call) bool {
	return call.InputTokens > 0 || call.OutputTokens > 0 || call.Results > 0 || call.Pages > 0 ||
		call.SMSSegments > 0 || call.VoiceSeconds > 0 || call.Credits > 0
}

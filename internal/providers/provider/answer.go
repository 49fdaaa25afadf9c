package provider

import "strings"

// Answer is what a call's HTTP status and error.type say about whether the
// provider performed it. It decides whether the call was billed: none of the
// five providers bills a request it refused or never received, each bills
// one it accepted.
type Answer uint8

// Answers.
const (
	// Performed: the call did not fail, or the provider answered 1xx–3xx
	// and the failure came after (a stream cut mid-way, an error event
	// inside a 200): the provider accepted the request.
	Performed Answer = iota
	// Refused: the provider answered 4xx or 5xx. The status line comes
	// before any body, so nothing was generated or sent: a rate limit, an
	// auth failure, a validation error, an outage.
	Refused
	// NotSent: the request provably never reached the provider: the name
	// did not resolve, the connection was refused, the TLS handshake failed.
	NotSent
	// NoAnswer: the call failed with no response status, and nothing says
	// whether the provider performed it (a timeout, a connection cut after
	// the request went out, an error of the application's own).
	NoAnswer
)

// AnswerOf reads a call's answer from its HTTP status (0: none), error.type
// and whether it failed. With no status, an error.type that names one
// implies it: a status code ("429"), an SDK's error class for one
// (RateLimitError, openai.AuthenticationError), a provider's error code
// (rate_limit_exceeded, insufficient_quota, NO_MORE_CREDITS) or a Twilio
// REST API error code (20429, 21211). status is then the implied status (0
// for a refusal that names none, APIStatusError). It does not allocate.
func AnswerOf(status int, errorType string, failed bool) (answer Answer, effective int) {
	switch {
	case status >= 400:
		return Refused, status
	case status > 0 || !failed:
		return Performed, status
	}
	et := strings.TrimSpace(errorType)
	if et == "" {
		return NoAnswer, 0
	}
	if n, ok := httpStatus(et); ok {
		return Refused, n
	}
	if n, ok := twilioCode(et); ok {
		return Refused, n
	}
	name := et
	// Qualified class names: openai.RateLimitError,
	// openai.error.RateLimitError, java.net.UnknownHostException.
	if i := strings.LastIndexByte(name, '.'); i >= 0 && i < len(name)-1 {
		name = name[i+1:]
	}
	for _, r := range refusalTypes {
		if strings.EqualFold(name, r.name) {
			return Refused, r.status
		}
	}
	for _, n := range notSentTypes {
		if strings.EqualFold(name, n) {
			return NotSent, 0
		}
	}
	return NoAnswer, 0
}

// refusalTypes are error.type values that mean the provider answered with
// an error status: the OpenAI SDKs' (Python, Node) error classes, which the
// OpenRouter SDKs share, and the providers' documented error codes.
var refusalTypes = [...]struct {
	name   string
	status int
}{
	{"BadRequestError", 400},
	{"AuthenticationError", 401},
	{"PermissionDeniedError", 403},
	{"NotFoundError", 404},
	{"ConflictError", 409},
	{"UnprocessableEntityError", 422},
	{"RateLimitError", 429},
	{"InternalServerError", 500},
	{"APIStatusError", 0}, // a status error whose class names no status

	{"invalid_request_error", 400}, // OpenAI error types and codes
	{"context_length_exceeded", 400},
	{"invalid_api_key", 401},
	{"model_not_found", 404},
	{"rate_limit_exceeded", 429},
	{"insufficient_quota", 429},

	{"NO_MORE_CREDITS", 402}, // Exa tags
	{"API_KEY_BUDGET_EXCEEDED", 402},
}

// notSentTypes are error.type values of failures before the request left:
// the proxy's own words, then Java's, Python's (socket, httpx, aiohttp)
// and Node's. Ambiguous ones (openai.APIConnectionError, requests'
// ConnectionError, a reset) are not here: the request may have gone out.
var notSentTypes = [...]string{
	"connection_refused", "dns_error", "tls_error",
	"UnknownHostException", "ConnectException",
	"ConnectionRefusedError", "gaierror", "ConnectError", "ConnectTimeout", "ClientConnectorError",
	"ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN",
}

// httpStatus reads an error.type that is an HTTP error status, as the HTTP
// semantic conventions write it ("429").
func httpStatus(s string) (int, bool) {
	if len(s) != 3 || s[0] < '4' || s[0] > '5' || !isDigits(s) {
		return 0, false
	}
	return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0'), true
}

// twilioCode reads a Twilio REST API error code: 20xxx (the API's own:
// 20003 authentication, 20404 not found, 20429 too many requests) and
// 21xxx (the request refused, as an invalid or unsubscribed number) come
// with a 4xx answer and no message or call created. The 3xxxx delivery
// errors come later, on a message that was sent, and are not refusals.
func twilioCode(s string) (int, bool) {
	if len(s) != 5 || s[0] != '2' || (s[1] != '0' && s[1] != '1') || !isDigits(s) {
		return 0, false
	}
	switch s {
	case "20003":
		return 401, true
	case "20404":
		return 404, true
	case "20429":
		return 429, true
	}
	return 400, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

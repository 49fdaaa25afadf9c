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

// Refusals are the error.type values by which a provider's clients say it
// refused a call, for spans that carry no HTTP status.
type Refusals struct {
	// Names are error classes (an SDK's RateLimitError) and error codes
	// (rate_limit_exceeded), each with the status it implies (0: none).
	Names []RefusalName
	// Code reads the provider's numeric error codes (Twilio's 20429); nil
	// when it has none.
	Code func(errorType string) (status int, ok bool)
}

// RefusalName is an error.type that means a refusal, and its status.
type RefusalName struct {
	Name   string
	Status int
}

// AnswerOf reads a call's answer from its HTTP status (0: none), error.type
// and whether it failed. With no status, an error.type that names one
// implies it: a status code ("429"), or one of the refusals of ps (an SDK's
// error class, RateLimitError, openai.AuthenticationError; a provider's
// error code, rate_limit_exceeded, NO_MORE_CREDITS, Twilio's 20429). All
// providers' refusals are tried, not only the called one's: error.type is
// read before anything says which provider was called, and SDKs are shared
// (the OpenAI SDKs call every OpenAI-compatible API). status is then the
// implied status (0 for a refusal that names none, APIStatusError). It does
// not allocate.
func AnswerOf(status int, errorType string, failed bool, ps []*Provider) (answer Answer, effective int) {
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
	for _, p := range ps {
		if p.Refusals.Code != nil {
			if n, ok := p.Refusals.Code(et); ok {
				return Refused, n
			}
		}
	}
	name := et
	// Qualified class names: openai.RateLimitError,
	// openai.error.RateLimitError, java.net.UnknownHostException.
	if i := strings.LastIndexByte(name, '.'); i >= 0 && i < len(name)-1 {
		name = name[i+1:]
	}
	for _, p := range ps {
		for _, r := range p.Refusals.Names {
			if strings.EqualFold(name, r.Name) {
				return Refused, r.Status
			}
		}
	}
	for _, n := range notSentTypes {
		if strings.EqualFold(name, n) {
			return NotSent, 0
		}
	}
	return NoAnswer, 0
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
	if len(s) != 3 || s[0] < '4' || s[0] > '5' || !IsDigits(s) {
		return 0, false
	}
	return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0'), true
}

// IsDigits reports whether s is a non-empty string of ASCII digits.
func IsDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

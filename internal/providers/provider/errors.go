package provider

import "strings"

// Error classes stored in the `error_class` column and used by alert rules.
// They say what an operator should do, not just what the status code was:
// a quota exhaustion needs money, a rate limit needs patience.
const (
	ClassNone           = ""
	ClassAuthFailed     = "auth_failed"
	ClassQuotaExhausted = "quota_exhausted"
	ClassRateLimited    = "rate_limited"
	ClassClientError    = "client_error"
	ClassServerError    = "server_error"
	ClassTimeout        = "timeout"
	ClassNetwork        = "network_error"
	ClassBadResponse    = "bad_response"
	ClassError          = "error" // failed, but nothing said how
)

// ClassifyHTTP classifies a call from its HTTP status and, where known, the
// provider's error code or type (OpenAI's `insufficient_quota`, the
// OpenTelemetry `error.type` attribute). status 0 means no response.
func ClassifyHTTP(status int, errorType string) string {
	et := strings.ToLower(errorType)
	switch {
	case strings.Contains(et, "insufficient_quota"), strings.Contains(et, "quota"),
		strings.Contains(et, "credit"), status == 402:
		return ClassQuotaExhausted
	case status == 401 || status == 403:
		return ClassAuthFailed
	case status == 429:
		return ClassRateLimited
	case status == 408 || status == 504 || strings.Contains(et, "timeout") || strings.Contains(et, "deadline"):
		return ClassTimeout
	case status >= 500:
		return ClassServerError
	case status >= 400:
		return ClassClientError
	case status == 0 && et != "":
		if strings.Contains(et, "connection") || strings.Contains(et, "dns") || strings.Contains(et, "refused") {
			return ClassNetwork
		}
		return ClassError
	}
	return ClassNone
}

package twilio

import "github.com/nexus-otel/nexus/internal/providers/provider"

// errorCode reads a Twilio REST API error code: 20xxx (the API's own:
// 20003 authentication, 20404 not found, 20429 too many requests) and
// 21xxx (the request refused, as an invalid or unsubscribed number) come
// with a 4xx answer and no message or call created. The 3xxxx delivery
// errors come later, on a message that was sent, and are not refusals.
func errorCode(s string) (int, bool) {
	if len(s) != 5 || s[0] != '2' || (s[1] != '0' && s[1] != '1') || !provider.IsDigits(s) {
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

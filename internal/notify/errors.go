package notify

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// SendError is a failed attempt the Dispatcher knows how to treat: a
// permanent one (the destination refused what it was sent, so sending it
// again cannot help) ends the delivery at once; a retryable one may carry
// the delay the destination asked for.
//
// Errors that are not a SendError (network failures, timeouts) count as
// retryable, since they say nothing about the notification itself.
type SendError struct {
	Err        error
	Permanent  bool
	RetryAfter time.Duration // zero when the destination named no delay
	// StatusCode is the HTTP or SMTP status that caused the error; zero when
	// there was no answer.
	StatusCode int
}

func (e *SendError) Error() string { return e.Err.Error() }

func (e *SendError) Unwrap() error { return e.Err }

// Permanent reports whether err says that retrying cannot help: a 4xx
// answer other than 408 and 429, an SMTP 5xx reply, or an unusable
// configuration.
func Permanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// RetryAfter is the delay the destination asked for before the next
// attempt (Retry-After, Discord's retry_after); zero when it named none.
func RetryAfter(err error) time.Duration {
	var se *SendError
	if errors.As(err, &se) && !se.Permanent {
		return se.RetryAfter
	}
	return 0
}

// permanent marks err as not worth retrying: for errors a channel makes
// itself (a refused payload, a server without STARTTLS) sending again
// would meet the same refusal.
func permanent(err error) error { return &SendError{Err: err, Permanent: true} }

// statusError classifies an HTTP answer that was not a success. detail is
// what the body said, already cut short.
func statusError(status int, header http.Header, detail string) *SendError {
	msg := "HTTP " + strconv.Itoa(status)
	if detail != "" {
		msg += ": " + detail
	}
	se := &SendError{Err: errors.New(msg), StatusCode: status}
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		se.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
	default:
		// 4xx (and the 1xx/3xx a client should never end on): the request
		// itself is wrong, so it would be refused again.
		se.Permanent = true
	}
	return se
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// transportError describes a request that got no answer. *url.Error puts
// the whole URL in its message, and for Slack and Discord the URL is the
// credential, so only the host and the underlying cause are kept.
func transportError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	host := ""
	if u, perr := url.Parse(ue.URL); perr == nil {
		host = u.Host
	}
	if ue.Timeout() {
		return &timeoutError{host: host, err: ue.Err}
	}
	return &hostError{host: host, err: ue.Err}
}

type hostError struct {
	host string
	err  error
}

func (e *hostError) Error() string { return "request to " + e.host + ": " + e.err.Error() }
func (e *hostError) Unwrap() error { return e.err }

type timeoutError struct {
	host string
	err  error
}

func (e *timeoutError) Error() string {
	return "request to " + e.host + " timed out: " + e.err.Error()
}
func (e *timeoutError) Unwrap() error { return e.err }
func (e *timeoutError) Timeout() bool { return true }

// redactor removes a channel's secrets from error text. The channels keep
// secrets out of the messages they write themselves; this is the guard for
// what a server says back, since a server may echo what it was sent.
type redactor []string

// newRedactor keeps the secrets long enough to be found without shredding
// ordinary words.
func newRedactor(secrets ...string) redactor {
	var r redactor
	for _, s := range secrets {
		if len(s) >= 4 {
			r = append(r, s)
		}
	}
	return r
}

func (r redactor) string(s string) string {
	for _, secret := range r {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

// error keeps err's chain (so Permanent and RetryAfter still see it) but
// answers its text redacted.
func (r redactor) error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := r.string(msg)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// urlSecrets are the parts of a webhook URL that grant access: the URL
// itself, its path and query, and its last path segment (Slack's and
// Discord's token), so that a server quoting any of them is redacted too.
func urlSecrets(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
	}
	if p := strings.Trim(u.EscapedPath(), "/"); p != "" {
		out = append(out, p)
		if i := strings.LastIndexByte(p, '/'); i >= 0 && len(p)-i-1 >= 8 {
			out = append(out, p[i+1:])
		}
	}
	return out
}

// snippet makes a response body fit in an error message: one line, at most
// 200 characters, no control characters.
func snippet(body []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, string(body))
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, 200)
}

// truncate cuts s to at most n runes, marking the cut with "...".
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 3 {
		return string(r[:n])
	}
	return string(r[:n-3]) + "..."
}

package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds what a provider response may make Nexus read.
const maxBody = 32 << 20

// Client is the HTTP plumbing every provider client shares: base URL, auth,
// timeouts from the caller's context, error classification, JSON decoding.
type Client struct {
	Provider string
	BaseURL  string // without trailing slash
	HTTP     *http.Client
	// Auth adds credentials to a request.
	Auth func(*http.Request)
	// Secrets are the credentials Auth sends. Do removes them from every
	// error it returns: providers quote the key they refused in their
	// messages, and a key must never reach a log or a Check.
	Secrets []string
}

// Error is a failed provider call, classified so callers can act on it:
// stop on auth_failed, wait RetryAfter on rate_limited, alert on
// quota_exhausted.
type Error struct {
	Provider   string
	Op         string // what was being done, e.g. "GET /v1/organization/costs"
	Status     int    // HTTP status, 0 when there was no response
	Class      string // Class*
	RetryAfter time.Duration
	Message    string // the provider's message, trimmed
	Err        error  // the transport or decoding error, when any
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", e.Provider, e.Op, e.Class)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err ("" for nil, server_error for errors
// that are not *Error).
func ClassOf(err error) string {
	if err == nil {
		return ClassNone
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Class
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ClassTimeout
	}
	return ClassServerError
}

// Response is a successful call's metadata.
type Response struct {
	Status  int
	Header  http.Header
	Latency time.Duration
}

// Do sends method path?query (path relative to BaseURL, or an absolute URL
// on the same host for next-page links) with an optional JSON body, and
// decodes a 2xx JSON answer into out (nil to discard). Any other outcome is
// an *Error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) (*Response, error) {
	resp, err := c.do(ctx, method, path, query, body, out)
	return resp, Scrub(err, c.Secrets...)
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) (*Response, error) {
	op := method + " " + path
	target := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		target = c.BaseURL + path
	}
	if len(query) > 0 {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return nil, &Error{Provider: c.Provider, Op: op, Class: ClassClientError, Err: err}
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, &Error{Provider: c.Provider, Op: op, Class: ClassClientError, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "nexus-apiusage/0.1")
	if c.Auth != nil {
		c.Auth(req)
	}
	began := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, &Error{Provider: c.Provider, Op: op, Class: transportClass(ctx, err), Err: redact(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Latency: time.Since(began)}
	if err != nil {
		return r, &Error{Provider: c.Provider, Op: op, Status: resp.StatusCode, Class: transportClass(ctx, err), Err: redact(err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg, code := errorMessage(raw)
		return r, &Error{Provider: c.Provider, Op: op, Status: resp.StatusCode,
			Class: ClassifyHTTP(resp.StatusCode, code+" "+msg), RetryAfter: retryAfter(resp.Header), Message: msg}
	}
	if len(raw) > maxBody {
		return r, &Error{Provider: c.Provider, Op: op, Status: resp.StatusCode, Class: ClassBadResponse,
			Message: fmt.Sprintf("response larger than %d bytes", maxBody)}
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return r, &Error{Provider: c.Provider, Op: op, Status: resp.StatusCode, Class: ClassBadResponse, Err: err}
		}
	}
	return r, nil
}

func transportClass(ctx context.Context, err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return ClassTimeout
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return ClassBadResponse
	}
	return ClassNetwork
}

// redact drops the URL from transport errors: query strings may carry
// credentials for some providers, and a key must never reach a log.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// errorMessage digs the message and code out of the providers' error bodies:
// {"error":{"message","code"|"type"}} (OpenAI, OpenRouter), {"error","tag"}
// (Exa), {"message","code"} (Twilio), or plain text (Apollo).
func errorMessage(raw []byte) (msg, code string) {
	var body struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Code    json.RawMessage `json:"code"`
		Tag     string          `json:"tag"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return Clip(strings.TrimSpace(string(raw))), ""
	}
	msg, code = body.Message, strings.Trim(string(body.Code), `"`)
	if body.Tag != "" {
		code = body.Tag
	}
	if len(body.Error) > 0 {
		var nested struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
		}
		if json.Unmarshal(body.Error, &nested) == nil && nested.Message != "" {
			msg = nested.Message
			code = strings.Trim(string(nested.Code), `"`) + " " + nested.Type
		} else {
			var s string
			if json.Unmarshal(body.Error, &s) == nil {
				msg = s
			}
		}
	}
	return Clip(msg), strings.TrimSpace(code)
}

func Clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// maxRetryAfter bounds the wait a provider can ask for: a day is already
// longer than any poll interval.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads Retry-After as seconds or an HTTP date, at most
// maxRetryAfter.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// NaN and negative waits are no waits; +Inf and huge ones (which
		// would overflow a Duration) are the cap.
		if !(s > 0) {
			return 0
		}
		if s >= maxRetryAfter.Seconds() {
			return maxRetryAfter
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

// CheckWith runs one call as a key check and reports it as a Check.
func (c *Client) CheckWith(ctx context.Context, method, path string, body any) Check {
	resp, err := c.Do(ctx, method, path, nil, body, nil)
	return CheckOf(resp, err)
}

// CheckOf turns one call's outcome into a Check: up unless it failed, with
// the failure's class and message. A rate-limited key is a valid key, so a
// 429 counts as up (with its class).
func CheckOf(resp *Response, err error) Check {
	ch := Check{Up: err == nil}
	if resp != nil {
		ch.HTTPStatus, ch.Latency = resp.Status, resp.Latency
	}
	if err == nil {
		return ch
	}
	ch.Class = ClassOf(err)
	var pe *Error
	if errors.As(err, &pe) {
		ch.Message = pe.Message
		if ch.Message == "" && pe.Err != nil {
			ch.Message = Clip(pe.Err.Error())
		}
	}
	if ch.Class == ClassRateLimited {
		ch.Up = true
	}
	return ch
}

// Scrub removes secrets from an *Error's message and cause, so that no key
// reaches a log or a Check.
func Scrub(err error, secrets ...string) error {
	return ScrubWith(err, func(s string) string {
		for _, k := range secrets {
			if k != "" {
				s = strings.ReplaceAll(s, k, "[redacted]")
			}
		}
		return s
	})
}

// ScrubWith returns a copy of err's *Error with clean applied to its message
// and cause; other errors are returned as they are.
func ScrubWith(err error, clean func(string) string) error {
	var pe *Error
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	out := *pe
	out.Message = clean(pe.Message)
	if pe.Err != nil {
		if msg := pe.Err.Error(); clean(msg) != msg {
			out.Err = errors.New(clean(msg))
		}
	}
	return &out
}

// Package fuzztest is the harness the providers' usage clients are fuzzed
// with: an in-memory transport answering arbitrary bodies, and the checks
// every answer must pass whatever it says.
package fuzztest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/provider"
)

// The fuzz targets of each provider feed each provider's poller and key check with
// arbitrary answers through an in-memory transport, and check what every
// answer must respect whatever it says:
//
//   - no panic, and bounded work: a poll makes at most a fixed number of
//     requests (a provider repeating its page cursor is not followed
//     forever) and every request goes to the configured host (credentials
//     are never sent elsewhere, whatever a next-page link says);
//   - no negative usage: quantities (tokens, requests, counts) are never
//     negative; only money kinds (*_usd) may be (refunds, credits);
//   - buckets are real intervals: Start before End;
//   - rate limits are -1 (not announced) or more, resets and Retry-After
//     never negative;
//   - no configured key in any error or check message, even when the
//     provider quotes it, and check messages stay short.
//
// statuses are the answers' status codes, picked by the first argument.
var statuses = []int{200, 200, 200, 200, 201, 204, 400, 401, 402, 403, 404, 422, 429, 500, 502, 503}

// Host is the only host requests may go to.
const Host = "provider.fuzz"

// Transport answers every request in memory with body(path).
type Transport struct {
	t      *testing.T
	status int
	header http.Header
	body   func(path string) []byte
	n      int // requests made
}

func (ft *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	ft.n++
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	if r.URL.Host != Host {
		ft.t.Errorf("request sent to %s: credentials left the provider's host", r.URL.Redacted())
	}
	h := ft.header.Clone()
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: ft.status, Header: h, Body: io.NopCloser(bytes.NewReader(ft.body(r.URL.Path))),
		Request: r, ContentLength: -1}, nil
}

// NewTransport returns a transport answering status (picked from a list by
// the fuzzer's byte), headers ("Name: value" lines) and body, and a client
// using it that follows no redirect.
func NewTransport(t *testing.T, status uint8, headers string, body func(string) []byte) (*Transport, *http.Client) {
	ft := &Transport{t: t, status: statuses[int(status)%len(statuses)], header: parseHeaders(headers), body: body}
	return ft, &http.Client{Transport: ft, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// parseHeaders reads "Name: value" lines.
func parseHeaders(s string) http.Header {
	h := http.Header{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && len(h) < 32 {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return h
}

// Window is the poll window: three UTC days.
func Window() (from, now time.Time) {
	now = time.Date(2026, 11, 26, 15, 4, 5, 0, time.UTC)
	return now.Add(-50 * time.Hour), now
}

// CheckPoll checks a poll's outcome against the invariants above.
func CheckPoll(t *testing.T, ft *Transport, maxRequests int, p provider.Poll, err error, secrets ...string) {
	t.Helper()
	if ft.n > maxRequests {
		t.Errorf("poll made %d requests, more than %d", ft.n, maxRequests)
	}
	for _, u := range p.Usage {
		if u.Kind == "" {
			t.Errorf("usage without kind: %+v", u)
		}
		if !strings.HasSuffix(u.Kind, "_usd") && u.Value.IsNegative() {
			t.Errorf("negative %s: %s", u.Kind, u.Value)
		}
		if !u.Start.Before(u.End) {
			t.Errorf("bucket [%s, %s) is not an interval", u.Start, u.End)
		}
	}
	checkRateLimits(t, p.RateLimits)
	checkErr(t, err, secrets...)
}

func checkRateLimits(t *testing.T, rls []provider.RateLimit) {
	t.Helper()
	for _, rl := range rls {
		if rl.Limit < -1 || rl.Remaining < -1 || rl.Reset < 0 {
			t.Errorf("rate limit out of range: %+v", rl)
		}
	}
}

func checkErr(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	if provider.ClassOf(err) == "" {
		t.Errorf("error without class: %v", err)
	}
	NoSecret(t, err.Error(), secrets)
	var walk func(error)
	walk = func(e error) {
		var pe *provider.Error
		if errors.As(e, &pe) {
			if pe.RetryAfter < 0 {
				t.Errorf("negative Retry-After %s", pe.RetryAfter)
			}
			if len(pe.Message) > 1024 {
				t.Errorf("error message of %d bytes", len(pe.Message))
			}
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
}

// CheckCheck checks a key check's outcome against the invariants above.
func CheckCheck(t *testing.T, ch provider.Check, secrets ...string) {
	t.Helper()
	NoSecret(t, ch.Message, secrets)
	if len(ch.Message) > 1024 {
		t.Errorf("check message of %d bytes", len(ch.Message))
	}
	if !ch.Up && ch.Class == "" {
		t.Errorf("down without a class: %+v", ch)
	}
	checkRateLimits(t, ch.RateLimits)
}

// NoSecret fails t when s holds one of secrets.
func NoSecret(t *testing.T, s string, secrets []string) {
	t.Helper()
	for _, k := range secrets {
		if strings.Contains(s, k) {
			t.Errorf("key %q leaked in %q", k, s)
		}
	}
}

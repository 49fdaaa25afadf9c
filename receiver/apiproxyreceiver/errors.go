package apiproxyreceiver

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Codes of the answers the proxy gives itself, in the error body and in
// the X-Nexus-Proxy-Error header, so that a caller can tell them from the
// provider's own.
const (
	codeNoRoute         = "no_route"
	codeTooLarge        = "request_too_large"
	codeRateLimited     = "proxy_rate_limited"
	codeCircuitOpen     = "circuit_open"
	codeUnreachable     = "upstream_unreachable"
	codeUpstreamTimeout = "upstream_timeout"
)

// headerProxyError marks answers that come from the proxy, not the provider.
const headerProxyError = "X-Nexus-Proxy-Error"

// proxyError is an answer the proxy gives itself.
type proxyError struct {
	status     int
	code       string
	message    string
	retryAfter time.Duration
}

// write answers with the OpenAI error shape, which every provider SDK here
// either parses or shows as is, so the caller sees a message it can act on.
func (e *proxyError) write(w http.ResponseWriter) {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": e.message, "type": "apiproxy_error", "code": e.code,
	}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(headerProxyError, e.code)
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(e.retryAfter.Seconds()))))
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// Errors the proxy causes itself on the upstream call's context.
var (
	errHeaderTimeout = errors.New("no response headers in time")
	errIdleTimeout   = errors.New("response body stalled")
	errBodyTooLarge  = errors.New("request body over max_request_body_size")
)

// errorType names a failed exchange for error.type: a word the provider
// package's classification understands (timeout, connection…), never the
// error's text, which may carry a URL.
func errorType(ctx context.Context, err error) string {
	if cause := context.Cause(ctx); errors.Is(cause, errHeaderTimeout) || errors.Is(cause, errIdleTimeout) {
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection_reset"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection_closed"
	case errors.As(err, &dnsErr):
		return "dns_error"
	case errors.As(err, &certErr), errors.As(err, &recErr):
		return "tls_error"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	}
	return "connection_error"
}

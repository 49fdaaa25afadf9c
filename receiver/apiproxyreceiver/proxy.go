package apiproxyreceiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// proxy is the HTTP handler: it routes each call to its provider, runs the
// route's protections, forwards the call with httputil.ReverseProxy (which
// strips hop-by-hop headers and flushes streamed answers as they come) and
// hands the finished call to the emitter.
type proxy struct {
	routes        []*route
	serviceName   string
	serviceHeader string
	whoHeaders    whoHeaders
	maxBody       int64
	maxParsed     int
	logger        *zap.Logger
	rp            *httputil.ReverseProxy
	emit          func(*call)
	rejected      metric.Int64Counter
	// auth checks the callers' ingest keys (auth.go); nil lets every
	// call through as the default tenant's.
	auth extensionauth.Server
	// enforcer decides calls against warn and block budgets (budgets.go);
	// nil when budgets.enforce is off.
	enforcer *enforcer
}

type callKey struct{}

// Media kinds of a response body, for what is kept of it.
const (
	mediaOther = iota
	mediaJSON
	mediaSSE
)

// call is one proxied call, from the request's arrival to the end of its
// response body. Its fields are written by the handler's goroutine only,
// then read by the emitter after the hand-off.
type call struct {
	rt         *route
	start, end time.Time
	service    string
	who        who // whom the call is for, from the attribution headers
	// client is who made the call as the authenticator proved it: the
	// pipeline request carrying its span has it in its context.
	client      client.Info
	traceparent string
	method      string
	host, path  string // upstream host[:port] and escaped path
	query       string // raw query, redacted when the span is built
	scheme      string

	w      http.ResponseWriter
	inCtx  context.Context // the caller's request context
	ctx    context.Context // the upstream call's context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	inBody atomic.Bool // the timer is watching the response body, not the headers

	req *reqBody
	// reqDoc is the request body read whole before it was forwarded (to
	// check budgets); nil when it was not.
	reqDoc *requestDoc
	// hold is the call's reservation on its budgets; nil when unguarded.
	hold *hold

	status   int // 0: no response
	media    int
	encoding string // Content-Encoding of the response when not identity
	streamed bool
	resp     capture
	sse      sseScanner
	eof      bool
	readErr  error
	errType  string
	failed   bool
	gone     bool // the caller left before the answer ended
	rejected bool // refused by the proxy after all (body too large)
	upgraded bool
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	var rt *route
	var rest string
	for _, candidate := range p.routes {
		if tail, ok := candidate.match(path); ok {
			rt, rest = candidate, tail
			break
		}
	}
	if rt == nil {
		p.noRoute(w, path)
		return
	}
	info, ok := p.authenticate(w, r, rt)
	if !ok {
		return
	}
	service := p.serviceName
	if p.serviceHeader != "" {
		if v := r.Header.Get(p.serviceHeader); v != "" {
			if s, ok := cleanService(v); ok {
				service = s
			}
		}
		r.Header.Del(p.serviceHeader)
	}
	// Taken (and removed) before anything can answer or forward.
	who := p.whoHeaders.take(r.Header)
	if r.ContentLength > p.maxBody {
		p.refuse(w, rt, tooLarge(p.maxBody))
		return
	}
	done, refusal := rt.admit(r.Context())
	if refusal != nil {
		p.refuse(w, rt, refusal)
		return
	}

	c := &call{
		rt: rt, start: time.Now(), service: service, who: who, client: info, method: r.Method,
		traceparent: r.Header.Get("Traceparent"),
		scheme:      rt.base.Scheme, host: rt.base.Host, path: rt.basePath + rest, query: r.URL.RawQuery,
		inCtx: r.Context(), w: w,
	}
	c.resp.max = p.maxParsed
	c.sse.maxEvent = min(p.maxParsed, 256<<10)
	c.ctx, c.cancel = context.WithCancelCause(r.Context())
	c.timer = time.AfterFunc(rt.headerTimeout, func() {
		if c.inBody.Load() {
			c.cancel(errIdleTimeout)
		} else {
			c.cancel(errHeaderTimeout)
		}
	})
	if r.Body != nil && r.Body != http.NoBody {
		c.req = &reqBody{rc: r.Body, limit: p.maxBody}
		if rt.genAI {
			c.req.capture.max = p.maxParsed
		}
		r.Body = c.req
	}
	defer p.finish(c, done)
	if p.enforcer != nil && !p.enforce(w, r, c) {
		return
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(c.ctx, callKey{}, c)))
}

// rewrite points the outbound request at the provider. Everything else the
// caller sent — credentials first — goes as it came.
func (p *proxy) rewrite(pr *httputil.ProxyRequest) {
	c := pr.Out.Context().Value(callKey{}).(*call)
	u := pr.Out.URL
	u.Scheme, u.Host, u.User = c.scheme, c.host, nil
	u.RawPath = c.path
	if unescaped, err := url.PathUnescape(c.path); err == nil {
		u.Path = unescaped
	} else {
		u.Path, u.RawPath = c.path, ""
	}
	pr.Out.Host = ""
}

func (p *proxy) modifyResponse(res *http.Response) error {
	c := res.Request.Context().Value(callKey{}).(*call)
	c.status = res.StatusCode
	c.inBody.Store(true)
	c.timer.Reset(c.rt.idleTimeout)
	if res.StatusCode == http.StatusSwitchingProtocols {
		// A websocket's traffic bypasses the body tap: the idle timer
		// cannot see it flow, so it must not cut it.
		c.timer.Stop()
		c.upgraded = true
		return nil
	}
	if _, ok := res.Header["Content-Type"]; !ok {
		// Stop net/http from sniffing one: the caller gets the headers
		// the provider sent, no more.
		c.w.Header()["Content-Type"] = nil
	}
	ct := strings.ToLower(res.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(ct, "text/event-stream"):
		c.media, c.streamed = mediaSSE, true
	case strings.Contains(ct, "json"):
		c.media = mediaJSON
	}
	if enc := strings.ToLower(strings.TrimSpace(res.Header.Get("Content-Encoding"))); enc != "" && enc != "identity" {
		// A compressed body is kept raw and decoded off the request path;
		// only its head can be, so it is kept up to the parse limit.
		c.encoding = enc
		c.resp.headOnly = true
	}
	res.Body = &respBody{rc: res.Body, c: c}
	return nil
}

// errorHandler answers when no response came from the provider.
func (p *proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	c, _ := r.Context().Value(callKey{}).(*call)
	if c == nil {
		(&proxyError{status: 502, code: codeUnreachable, message: "apiproxy: upstream call failed"}).write(w)
		return
	}
	if c.req != nil && c.req.tooLarge() {
		c.rejected = true
		p.refuse(w, c.rt, tooLarge(p.maxBody))
		return
	}
	if c.inCtx.Err() != nil {
		c.gone = true // nobody is left to answer
		return
	}
	c.failed = true
	c.errType = errorType(c.ctx, err)
	pe := &proxyError{status: 502, code: codeUnreachable,
		message: fmt.Sprintf("apiproxy: could not reach %s at %s (%s)", c.rt.name, c.host, c.errType)}
	if c.errType == "timeout" {
		pe.status, pe.code = 504, codeUpstreamTimeout
		pe.message = fmt.Sprintf("apiproxy: timed out connecting to %s at %s", c.rt.name, c.host)
		if errors.Is(context.Cause(c.ctx), errHeaderTimeout) {
			pe.message = fmt.Sprintf("apiproxy: %s at %s sent no response headers within %s", c.rt.name, c.host, c.rt.headerTimeout)
		}
	}
	c.rt.warnUpstream("upstream call failed", zap.String("host", c.host), zap.String("error.type", c.errType), zap.Error(stripURL(err)))
	pe.write(w)
}

// stripURL drops the URL an error may quote (it may carry a query-string
// key), keeping what went wrong.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// finish settles the call once the response is over (or abandoned) and
// hands it to the emitter. It runs on the caller's critical path, before the
// last bytes leave: it only decides, all parsing happens off the path.
func (p *proxy) finish(c *call, done func(error)) {
	c.timer.Stop()
	now := time.Now()
	if c.end.IsZero() {
		c.end = now
	}
	if c.req != nil {
		c.req.seal()
	}
	switch {
	case c.rejected:
	case c.gone:
	case c.status == 0:
		if !c.failed {
			c.gone = c.inCtx.Err() != nil
		}
	case c.readErr != nil:
		if c.inCtx.Err() != nil {
			c.gone = true
		} else {
			c.failed = true
			c.errType = errorType(c.ctx, c.readErr)
			c.rt.warnUpstream("response body cut", zap.String("host", c.host), zap.String("error.type", c.errType), zap.Error(c.readErr))
		}
	case !c.eof && !c.upgraded:
		// The provider's body did not end and did not fail: the copy to
		// the caller did, so the caller left.
		c.gone = true
	}
	c.cancel(nil)
	if c.media == mediaSSE && c.encoding == "" {
		c.sse.flush()
	}
	if done != nil {
		switch {
		case c.rejected || c.gone:
			done(errExcluded)
		case c.failed || c.status >= 500 || c.sse.errEv != nil:
			done(errCallFailed)
		default:
			done(nil)
		}
	}
	if c.rejected || c.gone && c.status == 0 {
		c.releaseHold()
	}
	if c.rejected {
		c.resp.release()
		return
	}
	p.emit(c)
}

func (p *proxy) refuse(w http.ResponseWriter, rt *route, e *proxyError) {
	p.countRefusal(rt, e.code)
	e.write(w)
}

// countRefusal counts a call the proxy answered itself, by why.
func (p *proxy) countRefusal(rt *route, reason string) {
	p.rejected.Add(context.Background(), 1, metric.WithAttributes(
		attribute.String("provider", rt.name), attribute.String("reason", reason)))
}

func tooLarge(limit int64) *proxyError {
	return &proxyError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge,
		message: fmt.Sprintf("apiproxy: request body larger than max_request_body_size (%d bytes)", limit)}
}

func (p *proxy) noRoute(w http.ResponseWriter, path string) {
	var mounts []string
	hint := ""
	for _, rt := range p.routes {
		mounts = append(mounts, rt.prefix)
		if path == rt.mount || strings.HasPrefix(path, rt.mount+"/") {
			hint = fmt.Sprintf(" %s is mounted at %s: point the SDK's base URL there.", rt.name, rt.prefix)
		}
	}
	p.rejected.Add(context.Background(), 1, metric.WithAttributes(
		attribute.String("provider", ""), attribute.String("reason", codeNoRoute)))
	(&proxyError{status: http.StatusNotFound, code: codeNoRoute,
		message: "apiproxy: no provider route for this path." + hint + " Routes: " + strings.Join(mounts, ", ")}).write(w)
}

// cleanService accepts a service name from a header when it is short,
// printable UTF-8: it becomes a resource attribute and a stored column.
func cleanService(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 128 || !utf8.ValidString(v) {
		return "", false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "", false
		}
	}
	return v, true
}

// reqBody forwards the caller's body, enforcing the size limit and keeping
// what the model is read from. The transport may read it from its own
// goroutine, even after the response came, hence the lock.
type reqBody struct {
	rc    io.ReadCloser
	limit int64

	mu       sync.Mutex
	n        int64
	exceeded bool
	sealed   bool
	capture  capture // max 0: nothing kept
}

func (b *reqBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n += int64(n)
	if b.n > b.limit {
		b.exceeded = true
		return 0, errBodyTooLarge
	}
	if n > 0 && !b.sealed && b.capture.max > 0 {
		b.capture.write(p[:n])
	}
	return n, err
}

func (b *reqBody) Close() error { return b.rc.Close() }

func (b *reqBody) tooLarge() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exceeded
}

// seal stops capturing: from here on the emitter owns the capture.
func (b *reqBody) seal() {
	b.mu.Lock()
	b.sealed = true
	b.mu.Unlock()
}

// respBody taps the provider's response body as the reverse proxy copies it
// to the caller: every read re-arms the idle timeout and is fed, by
// reference, to what keeps the usage.
type respBody struct {
	rc io.ReadCloser
	c  *call
}

func (b *respBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	c := b.c
	if n > 0 {
		c.timer.Reset(c.rt.idleTimeout)
		switch {
		case c.media == mediaOther:
		case c.encoding != "" || c.media == mediaJSON:
			c.resp.write(p[:n])
		default:
			c.sse.write(p[:n])
		}
	}
	if err != nil {
		if err == io.EOF {
			c.eof = true
		} else if c.readErr == nil {
			c.readErr = err
		}
		if c.end.IsZero() {
			c.end = time.Now()
		}
	}
	return n, err
}

func (b *respBody) Close() error {
	if b.c.end.IsZero() {
		b.c.end = time.Now()
	}
	return b.rc.Close()
}

// newReverseProxy builds the forwarding machinery around transport.
func (p *proxy) newReverseProxy(transport http.RoundTripper, errorLog *log.Logger) {
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      transport,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		BufferPool:     bufferPool{},
		ErrorLog:       errorLog,
	}
}

// bufferPool recycles the reverse proxy's copy buffers.
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *(copyBuffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }

// newTransport builds the connection pool to the providers. It does not
// decompress: the caller asked for its encoding and gets the provider's
// bytes as they are.
func newTransport(up *UpstreamConfig) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: up.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   up.TLSHandshakeTimeout,
		MaxIdleConnsPerHost:   up.MaxIdleConnsPerHost,
		IdleConnTimeout:       up.IdleConnTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

package apiproxyreceiver

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/providers"
	"github.com/nexus-otel/nexus/internal/semconv"
)

// Attributes only the proxy writes and no other component reads, so they
// stay here; the names it shares with the others are in internal/semconv.
const (
	// AttrUsage says whether usage could be read from the response; see
	// the usage* values.
	AttrUsage = "nexus.proxy.usage"
	// AttrStreamed marks calls answered with an event stream.
	AttrStreamed = "nexus.proxy.streamed"
	// AttrClientCancelled marks calls the caller abandoned before the
	// answer ended: the provider may have billed part of it, the proxy
	// could not see how much.
	AttrClientCancelled = "nexus.proxy.client_cancelled"
)

const scopeName = "github.com/nexus-otel/nexus/receiver/apiproxyreceiver"

// maxBatch bounds how many calls go to the pipeline in one request.
const maxBatch = 512

// emitter turns finished calls into spans off the request path: the
// handler only queues; parsing, span building and the pipeline run here.
type emitter struct {
	next      consumer.Traces
	obs       *receiverhelper.ObsReport
	logger    *zap.Logger
	version   string
	maxParsed int

	queue    chan *call
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	dropped metric.Int64Counter
	// enforcer settles guarded calls' reservations; nil when off.
	enforcer    *enforcer
	droppedN    atomic.Int64
	lastDropLog atomic.Int64
}

func (e *emitter) enqueue(c *call) {
	select {
	case e.queue <- c:
	default:
		// The pipeline is behind by queue_size calls: losing a span beats
		// holding every app's calls.
		e.dropped.Add(context.Background(), 1)
		n := e.droppedN.Add(1)
		now := time.Now().UnixNano()
		if last := e.lastDropLog.Load(); now-last > int64(warnEvery) && e.lastDropLog.CompareAndSwap(last, now) {
			e.logger.Warn("span queue full: dropping spans of proxied calls", zap.Int64("dropped_total", n))
		}
		c.resp.release()
		c.releaseHold()
	}
}

// flushInterval is how long the emitter gathers calls after the first one
// before it sends them on: one wake-up per interval rather than one per
// call keeps it off the CPU the calls themselves need.
const flushInterval = 5 * time.Millisecond

func (e *emitter) run() {
	defer close(e.done)
	batch := make([]*call, 0, maxBatch)
	for {
		select {
		case c := <-e.queue:
			batch = append(batch[:0], c)
		case <-e.stop:
			e.drain(batch[:0])
			return
		}
		select {
		case <-time.After(flushInterval):
		case <-e.stop:
			e.drain(batch)
			return
		}
		e.drain(batch)
	}
}

// drain sends batch and everything queued behind it, maxBatch at a time.
func (e *emitter) drain(batch []*call) {
	for {
	fill:
		for len(batch) < maxBatch {
			select {
			case c := <-e.queue:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		if len(batch) == 0 {
			return
		}
		e.send(batch)
		if len(batch) < maxBatch {
			return
		}
		batch = batch[:0]
	}
}

func (e *emitter) shutdown(ctx context.Context) error {
	e.stopOnce.Do(func() { close(e.stop) })
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *emitter) send(batch []*call) {
	// Calls of different callers go in separate requests, each with its
	// caller's client info in the context, where the cost processor reads
	// the tenant.
	type request struct {
		td        ptrace.Traces
		info      client.Info
		n         int
		byService map[string]ptrace.SpanSlice
	}
	var reqs []*request
	byCaller := make(map[string]*request, 1)
	for _, c := range batch {
		k := authKey(c.client)
		req, ok := byCaller[k]
		if !ok {
			req = &request{td: ptrace.NewTraces(), info: c.client, byService: make(map[string]ptrace.SpanSlice, 2)}
			byCaller[k] = req
			reqs = append(reqs, req)
		}
		spans, ok := req.byService[c.service]
		if !ok {
			rs := req.td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr(semconv.AttrServiceName, c.service)
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName(scopeName)
			ss.Scope().SetVersion(e.version)
			spans = ss.Spans()
			req.byService[c.service] = spans
		}
		res := extract(c, e.maxParsed)
		if e.enforcer != nil {
			e.enforcer.settle(c, &res)
		}
		buildSpan(spans.AppendEmpty(), c, &res)
		req.n++
		c.resp.release()
		c.sse.release()
		if c.req != nil {
			c.req.capture.release()
		}
	}
	for _, req := range reqs {
		e.deliver(client.NewContext(context.Background(), req.info), req.td, req.n)
	}
}

// Back-off between attempts to hand spans to a pipeline that refuses them
// for now.
const (
	retryFirst = 50 * time.Millisecond
	retryMax   = 5 * time.Second
)

// deliver hands td to the pipeline. What the pipeline refuses for now (a
// full exporter queue answers so) is offered again with back-off: the
// proxy has answered these calls, and no client will send their spans
// again. Meanwhile calls wait in the emitter's queue and, once it is full,
// new ones are dropped and counted, so memory stays bounded. A permanent
// refusal, or shutdown, ends the attempts.
func (e *emitter) deliver(base context.Context, td ptrace.Traces, n int) {
	wait := retryFirst
	for {
		ctx := e.obs.StartTracesOp(base)
		err := e.next.ConsumeTraces(ctx, td)
		e.obs.EndTracesOp(ctx, "", n, err)
		if err == nil {
			return
		}
		if consumererror.IsPermanent(err) {
			e.logger.Warn("pipeline refused spans of proxied calls", zap.Int("spans", n), zap.Error(err))
			return
		}
		select {
		case <-e.stop:
			e.logger.Warn("shutting down: spans of proxied calls the pipeline could not take are lost",
				zap.Int("spans", n), zap.Error(err))
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}

// buildSpan writes the span an instrumented client would have written:
// GenAI conventions for the OpenAI-compatible APIs, HTTP client conventions
// plus the provider's usage for the others.
func buildSpan(span ptrace.Span, c *call, res *result) {
	rt := c.rt
	traceID, parent, ok := parseTraceparent(c.traceparent)
	if !ok {
		traceID = randomTraceID()
	}
	span.SetTraceID(traceID)
	span.SetParentSpanID(parent)
	span.SetSpanID(randomSpanID())
	span.SetKind(ptrace.SpanKindClient)
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(c.start))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(c.end))

	attrs := span.Attributes()
	// Room for the cost processor's attributes too, so that it does not
	// grow the slice again.
	attrs.EnsureCapacity(32)
	operation := providers.Operation(rt.name, c.method, c.path, nil)
	genAI := rt.genAI && operation != ""
	attrs.PutStr(semconv.AttrNexusProvider, rt.name)
	c.who.put(attrs)
	if genAI {
		attrs.PutStr(semconv.AttrProviderName, rt.name)
		attrs.PutStr(semconv.AttrOperationName, operation)
		model := res.requestModel
		if model != "" {
			attrs.PutStr(semconv.AttrRequestModel, model)
		}
		if res.model != "" {
			attrs.PutStr(semconv.AttrResponseModel, res.model)
		}
		if res.id != "" {
			attrs.PutStr(semconv.AttrResponseID, res.id)
		}
		if len(res.finish) > 0 {
			fr := attrs.PutEmptySlice(semconv.AttrFinishReasons)
			for _, f := range res.finish {
				fr.AppendEmpty().SetStr(f)
			}
		}
		if res.hasTokens {
			attrs.PutInt(semconv.AttrInputTokens, res.input)
			attrs.PutInt(semconv.AttrOutputTokens, res.output)
			if res.cacheRead > 0 {
				attrs.PutInt(semconv.AttrCacheReadToken, res.cacheRead)
			}
			if res.cacheWrite > 0 {
				attrs.PutInt(semconv.AttrCacheWriteTok, res.cacheWrite)
			}
			if res.reasoning > 0 {
				attrs.PutInt(semconv.AttrReasoningTok, res.reasoning)
			}
			putMediaTokens(attrs, res)
		}
		if res.tier != "" {
			attrs.PutStr(semconv.AttrOpenAIResponseServiceTier, res.tier)
		}
		if res.requestTier != "" {
			attrs.PutStr(semconv.AttrOpenAIRequestServiceTier, res.requestTier)
		}
		if res.cost != "" {
			// gen_ai.usage.cost is what instrumentations write (a double);
			// the exact decimal is what gets priced.
			if d, err := decimal.NewFromString(res.cost); err == nil {
				attrs.PutDouble(semconv.AttrUsageCost, d.InexactFloat64())
			}
			attrs.PutStr(semconv.AttrReportedCost, res.cost)
		}
		if model == "" {
			model = res.model
		}
		span.SetName(strings.TrimSpace(operation + " " + model))
	} else {
		span.SetName(c.method)
	}

	if res.extra != nil {
		res.extra.Annotate(operation, attrs)
	}

	attrs.PutStr(semconv.AttrServerAddress, rt.serverAddr)
	attrs.PutInt(semconv.AttrServerPort, rt.serverPort)
	attrs.PutStr(semconv.AttrMethod, c.method)
	attrs.PutStr(semconv.AttrURLFull, fullURL(c))
	if c.status > 0 {
		attrs.PutInt(semconv.AttrStatusCode, int64(c.status))
	}
	attrs.PutStr(AttrUsage, res.usage)
	if c.streamed {
		attrs.PutBool(AttrStreamed, true)
	}

	errType := ""
	switch {
	case c.failed:
		errType = c.errType
	case c.status >= 400:
		errType = res.bodyErrType
		if errType == "" {
			errType = strconv.Itoa(c.status)
		}
	case res.streamErr:
		errType = res.bodyErrType
	}
	if errType != "" {
		attrs.PutStr(semconv.AttrErrorType, errType)
		span.Status().SetCode(ptrace.StatusCodeError)
		// The provider's message can quote part of a key: only the type
		// goes on the span.
		span.Status().SetMessage(errType)
	}
	if c.gone {
		attrs.PutBool(AttrClientCancelled, true)
	}
}

// fullURL is url.full with the values of credential-looking query
// parameters redacted, as the HTTP conventions ask.
func fullURL(c *call) string {
	var b strings.Builder
	b.Grow(len(c.scheme) + 3 + len(c.host) + len(c.path) + len(c.query) + 1)
	b.WriteString(c.scheme)
	b.WriteString("://")
	b.WriteString(c.host)
	b.WriteString(c.path)
	if c.query != "" {
		b.WriteByte('?')
		b.WriteString(redactQuery(c.query))
	}
	return b.String()
}

func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, part := range parts {
		name, _, hasValue := strings.Cut(part, "=")
		if hasValue && sensitiveParam(name) {
			parts[i] = name + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

func sensitiveParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"key", "token", "secret", "password", "passwd", "auth", "sig", "credential", "session"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// parseTraceparent reads a W3C traceparent header, so that the call's span
// joins the caller's trace when the app propagates one.
func parseTraceparent(h string) (pcommon.TraceID, pcommon.SpanID, bool) {
	var tid pcommon.TraceID
	var sid pcommon.SpanID
	if len(h) < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-' {
		return tid, sid, false
	}
	if _, err := hex.Decode(tid[:], []byte(h[3:35])); err != nil {
		return tid, sid, false
	}
	if _, err := hex.Decode(sid[:], []byte(h[36:52])); err != nil {
		return tid, sid, false
	}
	if tid.IsEmpty() || sid.IsEmpty() {
		return pcommon.TraceID{}, pcommon.SpanID{}, false
	}
	return tid, sid, true
}

func randomTraceID() pcommon.TraceID {
	var id pcommon.TraceID
	putUint64(id[:8], rand.Uint64())
	putUint64(id[8:], rand.Uint64())
	return id
}

func randomSpanID() pcommon.SpanID {
	var id pcommon.SpanID
	for id.IsEmpty() {
		putUint64(id[:], rand.Uint64())
	}
	return id
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

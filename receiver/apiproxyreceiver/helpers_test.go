package apiproxyreceiver

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/processor/costprocessor"
)

// testProxy is a running proxy whose spans go through the real cost
// processor into a sink, as in configs/proxy.yaml.
type testProxy struct {
	rcv  *apiProxyReceiver
	url  string
	sink *consumertest.TracesSink
}

// startProxy starts the receiver on a free port with cfg adjusted by
// mutate; spans go through the cost processor unless next is given.
func startProxy(t testing.TB, mutate func(*Config), opts ...func(*startOptions)) *testProxy {
	t.Helper()
	o := startOptions{logger: zap.NewNop()}
	for _, f := range opts {
		f(&o)
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = "127.0.0.1:0"
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	sink := new(consumertest.TracesSink)
	next := o.next
	if next == nil {
		next = costPipeline(t, sink)
	}
	set := receivertest.NewNopSettings(componentType)
	set.Logger = o.logger
	rcv, err := newReceiver(cfg, set, next)
	if err != nil {
		t.Fatal(err)
	}
	host := o.host
	if host == nil {
		host = componenttest.NewNopHost()
	}
	if err := rcv.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rcv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testProxy{rcv: rcv, url: "http://" + rcv.addr(), sink: sink}
}

type startOptions struct {
	logger *zap.Logger
	next   consumer.Traces
	host   component.Host // the extensions the receiver finds (none by default)
}

func withHost(h component.Host) func(*startOptions) { return func(o *startOptions) { o.host = h } }
func withLogger(l *zap.Logger) func(*startOptions)  { return func(o *startOptions) { o.logger = l } }
func withNext(n consumer.Traces) func(*startOptions) {
	return func(o *startOptions) { o.next = n }
}

// costPipeline is the cost processor feeding sink.
func costPipeline(t testing.TB, sink consumer.Traces) consumer.Traces {
	t.Helper()
	f := costprocessor.NewFactory()
	p, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// waitSpans waits until the sink holds n spans and returns them in order.
func (tp *testProxy) waitSpans(t testing.TB, n int) []spanOf {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for tp.sink.SpanCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d spans, want %d", tp.sink.SpanCount(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return allSpans(tp.sink.AllTraces())
}

// lastSpan waits for the n-th span and returns it.
func (tp *testProxy) span(t testing.TB, n int) spanOf {
	t.Helper()
	return tp.waitSpans(t, n)[n-1]
}

type spanOf struct {
	span     ptrace.Span
	resource pcommon.Resource
}

func (s spanOf) attr(key string) (pcommon.Value, bool) { return s.span.Attributes().Get(key) }

func (s spanOf) str(key string) string {
	v, ok := s.attr(key)
	if !ok {
		return ""
	}
	return v.AsString()
}

func (s spanOf) int(t testing.TB, key string) int64 {
	t.Helper()
	v, ok := s.attr(key)
	if !ok || v.Type() != pcommon.ValueTypeInt {
		t.Fatalf("attribute %s = %v (present %v), want an int", key, v.AsRaw(), ok)
	}
	return v.Int()
}

func (s spanOf) has(key string) bool { _, ok := s.attr(key); return ok }

func allSpans(tds []ptrace.Traces) []spanOf {
	var out []spanOf
	for _, td := range tds {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				spans := rs.ScopeSpans().At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					out = append(out, spanOf{span: spans.At(k), resource: rs.Resource()})
				}
			}
		}
	}
	return out
}

// do sends a raw request and returns the status, headers and body bytes.
func do(t testing.TB, client *http.Client, method, url string, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, b
}

// rawClient neither decompresses nor adds headers: it sees the bytes the
// proxy sent.
func rawClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}
}

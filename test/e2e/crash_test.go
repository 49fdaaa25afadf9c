package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// gpt-4o-mini in the built-in catalog: $0.15 per 1M input tokens, $0.60
// per 1M output tokens, i.e. 150,000 and 600,000 pico-USD a token. The
// crash and outage tests price every span from it, so the exact sum they
// expect follows from the tokens they send.
const (
	picoPerInputToken  = 150_000
	picoPerOutputToken = 600_000
)

// ackedLoad is a client that sends numbered OTLP/HTTP requests of distinct
// spans and retries each one until the collector answers 200, as an
// OpenTelemetry SDK does with retryable answers. It remembers what was
// acknowledged, so the test knows exactly what the store must hold.
type ackedLoad struct {
	perReq   int
	url      atomic.Pointer[string] // the collector's OTLP/HTTP URL; moves if a restart changes ports
	client   *http.Client
	acked    atomic.Int64 // spans acknowledged
	pico     atomic.Int64 // their cost in pico-USD
	refused  sync.Map     // HTTP status -> *atomic.Int64, answers other than 200
	connErrs atomic.Int64 // requests that found no collector (killed, restarting)
}

func newAckedLoad(perReq int, otlpHTTP string) *ackedLoad {
	l := &ackedLoad{perReq: perReq, client: &http.Client{Timeout: 15 * time.Second}}
	l.setAddr(otlpHTTP)
	return l
}

func (l *ackedLoad) setAddr(otlpHTTP string) {
	u := "http://" + otlpHTTP + "/v1/traces"
	l.url.Store(&u)
}

// request is request number seq: perReq spans with ids no other request
// uses, each an OpenAI chat call of gpt-4o-mini with 1,000–1,009 input and
// 100 output tokens, and its cost in pico-USD.
func (l *ackedLoad) request(seq int) ([]byte, int64) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "integrity")
	rs.Resource().Attributes().PutStr("deployment.environment.name", "prod")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	var pico int64
	for i := range l.perReq {
		s := spans.AppendEmpty()
		s.SetName("chat gpt-4o-mini")
		s.SetKind(ptrace.SpanKindClient)
		var tid [16]byte
		copy(tid[:], "nexus-ok")
		tid[8], tid[9], tid[10], tid[11] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
		tid[12], tid[13] = byte(i>>8), byte(i)
		s.SetTraceID(pcommon.TraceID(tid))
		s.SetSpanID(pcommon.SpanID([8]byte{1, byte(seq >> 24), byte(seq >> 16), byte(seq >> 8), byte(seq), byte(i >> 8), byte(i), 1}))
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(300 * time.Millisecond)))
		in, out := int64(1000+i%10), int64(100)
		pico += in*picoPerInputToken + out*picoPerOutputToken
		a := s.Attributes()
		a.PutStr("gen_ai.provider.name", "openai")
		a.PutStr("gen_ai.operation.name", "chat")
		a.PutStr("gen_ai.request.model", "gpt-4o-mini")
		a.PutInt("gen_ai.usage.input_tokens", in)
		a.PutInt("gen_ai.usage.output_tokens", out)
		a.PutStr("server.address", "api.openai.com")
		a.PutInt("http.response.status_code", 200)
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		panic(err)
	}
	return body, pico
}

// send posts request seq until it is acknowledged or ctx ends.
func (l *ackedLoad) send(ctx context.Context, seq int) error {
	body, pico := l.request(seq)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, *l.url.Load(), bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-protobuf")
		resp, err := l.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				l.acked.Add(int64(l.perReq))
				l.pico.Add(pico)
				return nil
			}
			n, _ := l.refused.LoadOrStore(resp.StatusCode, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
		} else {
			l.connErrs.Add(1)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("request %d not acknowledged: %w", seq, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run sends requests [first, first+n) from `workers` concurrent clients,
// the i-th no earlier than start + i*every (a steady offered load; requests
// held back by a dead collector go as soon as it answers again).
func (l *ackedLoad) run(ctx context.Context, first, n, workers int, every time.Duration) error {
	start := time.Now()
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for seq := range next {
				if err := l.send(ctx, seq); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d)
		}
		select {
		case next <- first + i:
		case err := <-errs:
			close(next)
			wg.Wait()
			return err
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

func (l *ackedLoad) refusals() string {
	var parts []string
	l.refused.Range(func(k, v any) bool {
		parts = append(parts, fmt.Sprintf("HTTP %d ×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	return fmt.Sprintf("%s; %d connection errors", strings.Join(parts, ", "), l.connErrs.Load())
}

// crashLoop SIGKILLs the collector `kills` times, every `every`, and starts
// it again on the same data directory each time, until stop is closed. It
// runs on the test's goroutine (it may fail the test).
func crashLoop(tb testing.TB, col *collector, load *ackedLoad, kills int, every time.Duration, stop <-chan struct{}) int {
	done := 0
	for done < kills {
		select {
		case <-stop:
			return done
		case <-time.After(every):
		}
		if err := col.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			tb.Fatal(err)
		}
		<-col.done
		done++
		began := time.Now()
		col.start()
		load.setAddr(col.otlpHTTP)
		tb.Logf("kill %d: back after %s", done, time.Since(began).Round(time.Millisecond))
	}
	return done
}

// stored is what the store holds of the load's spans.
type stored struct {
	rows, distinct, dayCalls int64
	cost, dayCost            decimal.Decimal
}

func (s stored) String() string {
	return fmt.Sprintf("api_calls: %d rows (%d distinct spans), cost %s; api_calls_1d: %d calls, cost %s",
		s.rows, s.distinct, s.cost, s.dayCalls, s.dayCost)
}

// readStored asks the store: raw rows and the day rollup. Its columns are
// SimpleAggregateFunction(sum, …), so sum() over the unmerged parts is
// exact without FINAL.
func readStored(q func(string) (string, error)) (stored, error) {
	var s stored
	out, err := q("SELECT count(), uniqExact(trace_id, span_id), toString(sum(cost_usd)) FROM nexus.api_calls " +
		"WHERE service = 'integrity' FORMAT TSV")
	if err != nil {
		return s, err
	}
	f := strings.Split(out, "\t")
	if len(f) != 3 {
		return s, fmt.Errorf("api_calls: %q", out)
	}
	s.rows, _ = strconv.ParseInt(f[0], 10, 64)
	s.distinct, _ = strconv.ParseInt(f[1], 10, 64)
	s.cost, _ = decimal.NewFromString(f[2])
	out, err = q("SELECT sum(calls), toString(sum(cost_usd)) FROM nexus.api_calls_1d WHERE service = 'integrity' FORMAT TSV")
	if err != nil {
		return s, err
	}
	f = strings.Split(out, "\t")
	if len(f) != 2 {
		return s, fmt.Errorf("api_calls_1d: %q", out)
	}
	s.dayCalls, _ = strconv.ParseInt(f[0], 10, 64)
	s.dayCost, _ = decimal.NewFromString(f[1])
	return s, nil
}

// settle waits until the store holds at least want rows and the count has
// not moved for two seconds (the queue has drained), or, when quiet > 0,
// until it has not moved for quiet whatever it holds; then reads it.
func settle(q func(string) (string, error), want int64, timeout, quiet time.Duration) (stored, error) {
	deadline := time.Now().Add(timeout)
	var last stored
	var lastErr error
	stableSince := time.Now()
	for time.Now().Before(deadline) {
		s, err := readStored(q)
		if err == nil && s.rows != last.rows {
			stableSince = time.Now()
		}
		last, lastErr = s, err
		if err == nil && (s.rows >= want && time.Since(stableSince) > 2*time.Second || quiet > 0 && time.Since(stableSince) > quiet) {
			return s, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	if lastErr != nil {
		return last, lastErr
	}
	return last, fmt.Errorf("store still short of %d rows after %s: %s", want, timeout, last)
}

// checkExact fails unless the store holds each acknowledged span once, at
// the exact total cost, in api_calls and in the day rollup. Duplicates and
// losses are told apart: a duplicate is a span inserted twice (a batch
// replayed from the persistent queue after a kill), a loss an acknowledged
// span that never arrived.
func checkExact(tb testing.TB, s stored, acked, pico int64) {
	tb.Helper()
	want := decimal.New(pico, -12)
	tb.Logf("acknowledged %d spans, cost %s; %s", acked, want, s)
	if s.distinct < acked {
		tb.Errorf("LOST %d acknowledged spans", acked-s.distinct)
	}
	if s.rows > s.distinct {
		tb.Errorf("DUPLICATED %d spans (rows %d for %d distinct spans)", s.rows-s.distinct, s.rows, s.distinct)
	}
	if s.rows != acked || !s.cost.Equal(want) {
		tb.Errorf("api_calls: %d rows costing %s, want %d costing %s", s.rows, s.cost, acked, want)
	}
	if s.dayCalls != acked || !s.dayCost.Equal(want) {
		tb.Errorf("api_calls_1d: %d calls costing %s, want %d costing %s", s.dayCalls, s.dayCost, acked, want)
	}
}

// TestCrashLosesNothingAcknowledged: a client sends 3,000 distinct spans
// in requests of 100, each retried until answered 200, to the built binary
// running configs/local.yaml; the collector is SIGKILLed twice under that
// load and restarted on the same data directory. Every acknowledged span
// must be stored exactly once at its exact cost, in api_calls and in the
// day rollup: a 200 means the spans are in the persistent queue on disk,
// and they leave it only once inserted.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	const (
		perReq   = 100
		requests = 30
	)
	col := newCollector(t, t.TempDir())
	col.start()
	load := newAckedLoad(perReq, col.otlpHTTP)
	ctx := contextTimeout(t, 2*time.Minute)

	// 30 requests over ~12 s from 3 clients; a kill 2.5 s after each start
	// (a restart takes 0.5–2.5 s).
	loadDone := make(chan struct{})
	var err error
	go func() {
		defer close(loadDone)
		err = load.run(ctx, 0, requests, 3, 400*time.Millisecond)
	}()
	kills := crashLoop(t, col, load, 2, 2500*time.Millisecond, loadDone)
	<-loadDone
	if err != nil {
		t.Fatalf("%v (%s)\n%s", err, load.refusals(), col.out)
	}
	if kills < 2 {
		t.Fatalf("only %d kills happened while the load ran", kills)
	}
	t.Logf("%d kills; retried answers: %s", kills, load.refusals())
	// A store still short after a minute has lost spans: say how many.
	s, err := settle(col.query, load.acked.Load(), 60*time.Second, 0)
	if err != nil {
		t.Errorf("%v\n%s", err, col.out)
	}
	checkExact(t, s, load.acked.Load(), load.pico.Load())
}

// BenchmarkCrashRecovery is the long form: a steady 12,000 spans/s offered
// by 8 clients in requests of 500 spans for 150 s, the collector SIGKILLed
// every 20 s and restarted on the same data directory. It reports the
// acknowledged spans/s sustained over the run (downtime included), the
// kills, and what the store holds against what was acknowledged (lost,
// duplicated, cost and day-rollup mismatches: all must be 0).
// make bench runs it once: go test -run '^$' -bench CrashRecovery -benchtime 1x ./test/e2e
func BenchmarkCrashRecovery(b *testing.B) {
	for range b.N {
		crashRecovery(b, newCollector(b, b.TempDir()))
	}
}

// crashRecovery is one run of BenchmarkCrashRecovery against col.
func crashRecovery(b *testing.B, col *collector) {
	const (
		perReq   = 500
		rate     = 12_000 // spans/s offered
		duration = 150 * time.Second
		every    = 20 * time.Second
		requests = int(duration / time.Second * rate / perReq)
	)
	col.start()
	load := newAckedLoad(perReq, col.otlpHTTP)
	ctx := contextTimeout(b, duration+5*time.Minute)
	loadDone := make(chan struct{})
	var err error
	var elapsed time.Duration
	go func() {
		defer close(loadDone)
		began := time.Now()
		err = load.run(ctx, 0, requests, 8, time.Second*perReq/rate)
		elapsed = time.Since(began)
	}()
	kills := crashLoop(b, col, load, 1<<20, every, loadDone)
	<-loadDone
	if err != nil {
		b.Fatalf("%v (%s)\n%s", err, load.refusals(), col.out)
	}
	acked := load.acked.Load()
	s, err := settle(col.query, acked, 5*time.Minute, 0)
	if err != nil {
		b.Errorf("%v\n%s", err, col.out)
	}
	b.ReportMetric(float64(acked)/elapsed.Seconds(), "spans/s")
	b.ReportMetric(elapsed.Seconds(), "s")
	b.ReportMetric(float64(kills), "kills")
	b.ReportMetric(float64(max(acked-s.distinct, 0)), "lost")
	b.ReportMetric(float64(s.rows-s.distinct), "duplicated")
	b.ReportMetric(boolMetric(!s.cost.Equal(decimal.New(load.pico.Load(), -12))), "cost-mismatch")
	b.ReportMetric(boolMetric(s.dayCalls != acked || !s.dayCost.Equal(decimal.New(load.pico.Load(), -12))), "rollup-mismatch")
	b.Logf("%.0f spans/s acknowledged over %s, %d kills; retried answers: %s",
		float64(acked)/elapsed.Seconds(), elapsed.Round(time.Second), kills, load.refusals())
	checkExact(b, s, acked, load.pico.Load())
}

func boolMetric(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// benchRequest is one OTLP export request of n GenAI spans.
func benchRequest(n int, seq int) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "bench")
	rs.Resource().Attributes().PutStr("deployment.environment.name", "prod")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	models := []string{"gpt-4o", "gpt-4o-mini", "o3-mini", "gpt-4.1"}
	for i := range n {
		s := spans.AppendEmpty()
		s.SetName("chat")
		s.SetKind(ptrace.SpanKindClient)
		s.SetTraceID(pcommon.TraceID([16]byte{byte(seq >> 16), byte(seq >> 8), byte(seq), byte(i >> 8), byte(i)}))
		s.SetSpanID(pcommon.SpanID([8]byte{byte(seq >> 8), byte(seq), byte(i >> 8), byte(i)}))
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(200+i%300) * time.Millisecond)))
		a := s.Attributes()
		a.PutStr("gen_ai.provider.name", "openai")
		a.PutStr("gen_ai.operation.name", "chat")
		a.PutStr("gen_ai.request.model", models[i%len(models)])
		a.PutInt("gen_ai.usage.input_tokens", int64(500+i%1000))
		a.PutInt("gen_ai.usage.output_tokens", int64(50+i%200))
		a.PutStr("server.address", "api.openai.com")
		a.PutInt("http.response.status_code", 200)
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

// restamp makes req request number seq: trace ids unique across the run
// (up to 2^32 requests of up to 65,536 spans) and calls that start now, as
// a live sender's do. (Calls all sharing one start time would make every
// look-up of stored calls read every row stored so far.)
func restamp(req ptraceotlp.ExportRequest, seq int) {
	spans := req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	now := time.Now()
	for i := range spans.Len() {
		s := spans.At(i)
		s.SetTraceID(pcommon.TraceID([16]byte{byte(seq >> 24), byte(seq >> 16), byte(seq >> 8), byte(seq), byte(i >> 8), byte(i), 0xbe}))
		took := s.EndTimestamp() - s.StartTimestamp()
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
		s.SetEndTimestamp(s.StartTimestamp() + took)
	}
}

// BenchmarkOTLPToQueryable measures spans/s from OTLP/gRPC in to rows
// queryable in the embedded store, through the built binary running
// configs/local.yaml (memory_limiter → cost → nexus exporter: persistent
// queue, batched as it is read → chDB). Each iteration sends `total` spans from
// `senders` concurrent clients and stops the clock when count() sees them.
//
// Beside spans/s it reports, measured in the same run once the collector is
// idle, the engine's own streaming-insert rate for the same rows in the
// exporter's block size (raw-rows/s, see rawInsertRate) and the ratio of
// the two (of-raw). NEXUS_BENCH_SPANS sets total (to load the collector
// long enough for a profile); NEXUS_BENCH_PPROF=<file> turns on the pprof
// extension and writes a 30 s CPU profile of the collector, taken while
// the first iteration's load runs, to that file.
func BenchmarkOTLPToQueryable(b *testing.B) {
	const (
		perReq  = 1_000
		senders = 4
	)
	total := 300_000
	if v := os.Getenv("NEXUS_BENCH_SPANS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < perReq {
			b.Fatalf("NEXUS_BENCH_SPANS=%q: want a count of at least %d", v, perReq)
		}
		total = n / perReq * perReq
	}
	requests := total / perReq
	col := newCollector(b, b.TempDir())
	profile := os.Getenv("NEXUS_BENCH_PPROF")
	var pprofAddr string
	if profile != "" {
		pprofAddr = withPprof(b, col)
	}
	col.start()
	conn, err := grpc.NewClient(col.otlpGRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	// One request per sender, given new trace ids before each send: the
	// exporter stores a span once, so a request sent again would count once.
	reqs := make([]ptraceotlp.ExportRequest, senders)
	for i := range reqs {
		reqs[i] = benchRequest(perReq, i)
	}
	ctx := context.Background()
	sent := 0
	var elapsed time.Duration
	b.ResetTimer()
	profiled := make(chan error, 1)
	var cpu time.Duration
	for i := range b.N {
		began := time.Now()
		cpuBefore, err := cpuTime(col.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 && profile != "" {
			go func() { profiled <- cpuProfile(pprofAddr, profile, 30) }()
		}
		var wg sync.WaitGroup
		errs := make(chan error, senders)
		for w := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := w; r < requests; r += senders {
					restamp(reqs[w], sent/perReq+r)
					if _, err := client.Export(ctx, reqs[w]); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		sent += total
		if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", fmt.Sprint(sent), 120*time.Second+time.Duration(total/5_000)*time.Second); err != nil {
			b.Fatalf("%v\n%s", err, col.out)
		}
		elapsed += time.Since(began)
		cpuAfter, err := cpuTime(col.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuAfter - cpuBefore
	}
	rate := float64(sent) / elapsed.Seconds()
	b.StopTimer()
	if profile != "" {
		if err := <-profiled; err != nil {
			b.Fatal(err)
		}
	}
	raw := rawInsertRate(b, min(total, 300_000), exporterBatch)
	b.ReportMetric(rate, "spans/s")
	b.ReportMetric(raw, "raw-rows/s")
	b.ReportMetric(rate/raw, "of-raw")
	// The collector's CPU (all threads, the engine's too) per span: what
	// the machine must supply, whatever else runs on it.
	b.ReportMetric(float64(cpu.Microseconds())/float64(sent), "cpu-µs/span")
}

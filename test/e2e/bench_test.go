package e2e

import (
	"context"
	"fmt"
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

// BenchmarkOTLPToQueryable measures spans/s from OTLP/gRPC in to rows
// queryable in the embedded store, through the built binary running
// configs/local.yaml (memory_limiter → cost → nexus exporter: persistent
// queue, batched as it is read → chDB). Each iteration sends `total` spans from
// `senders` concurrent clients and stops the clock when count() sees them.
func BenchmarkOTLPToQueryable(b *testing.B) {
	const (
		total    = 300_000
		perReq   = 1_000
		senders  = 4
		requests = total / perReq
	)
	col := newCollector(b, b.TempDir())
	col.start()
	conn, err := grpc.NewClient(col.otlpGRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	reqs := make([]ptraceotlp.ExportRequest, 8)
	for i := range reqs {
		reqs[i] = benchRequest(perReq, i)
	}
	ctx := context.Background()
	sent := 0
	var elapsed time.Duration
	b.ResetTimer()
	for range b.N {
		began := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, senders)
		for w := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := w; r < requests; r += senders {
					if _, err := client.Export(ctx, reqs[r%len(reqs)]); err != nil {
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
		if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", fmt.Sprint(sent), 120*time.Second); err != nil {
			b.Fatalf("%v\n%s", err, col.out)
		}
		elapsed += time.Since(began)
	}
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "spans/s")
}

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// BenchmarkCollectorMemory offers the built binary (configs/local.yaml, or
// the file under configs/ NEXUS_BENCH_MEMORY_CONFIG names) a
// steady 50,000 spans/s over OTLP/gRPC for NEXUS_BENCH_MEMORY_SECONDS
// (default 300) and reads the collector's resident memory from
// /proc/<pid>/status every second. It reports the highest RSS, the RSS at
// 60 s and at the end, the growth after the first minute (a flat process
// grows by about nothing once its caches and queues are warm), the rate
// the collector accepted, and the spans it refused (retryable refusals
// from the memory limiter or a full queue; the load does not resend them).
// Every 5 s it also logs where the memory is (memorySampler): RSS split
// into anonymous and file pages, the Go runtime's heap and total, and the
// engine's tracked memory and caches, with each one's growth after 60 s.
// The load runs once whatever b.N is: it is a soak, not a loop.
func BenchmarkCollectorMemory(b *testing.B) {
	const (
		offered = 50_000 // spans/s
		perReq  = 1_000
		senders = 8
		tick    = time.Second * perReq / offered
	)
	seconds := 300
	if v := os.Getenv("NEXUS_BENCH_MEMORY_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("NEXUS_BENCH_MEMORY_SECONDS=%q: want a positive number of seconds", v)
		}
		seconds = n
	}
	col := newCollector(b, b.TempDir())
	if f := os.Getenv("NEXUS_BENCH_MEMORY_CONFIG"); f != "" {
		col.file = f // e.g. a sending queue of another size
		col.config = localConfig(b, col)
	}
	col.start()
	pid := col.cmd.Process.Pid
	conn, err := grpc.NewClient(col.otlpGRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second)
	defer cancel()

	b.ResetTimer()
	// Requests are offered on a clock, not as fast as answers come: a
	// request that finds every sender busy is counted as missed, so the
	// collector cannot slow the load down by answering slowly.
	work := make(chan int, senders)
	var accepted, refused, missed atomic.Int64
	var wg sync.WaitGroup
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := benchRequest(perReq, w)
			for seq := range work {
				restamp(req, seq)
				if _, err := client.Export(context.Background(), req); err != nil {
					refused.Add(perReq)
					continue
				}
				accepted.Add(perReq)
			}
		}()
	}
	var samples []int64 // RSS in KiB, one a second
	began := time.Now()
	breakdown := newMemorySampler(b, col)
	stopBreakdown := make(chan struct{})
	breakdownDone := make(chan struct{})
	go func() {
		defer close(breakdownDone)
		breakdown.run(began, 5*time.Second, stopBreakdown)
	}()
	offer := time.NewTicker(tick)
	sample := time.NewTicker(time.Second)
	seq := 1 << 24 // apart from BenchmarkOTLPToQueryable's ids
load:
	for {
		select {
		case <-ctx.Done():
			break load
		case <-offer.C:
			select {
			case work <- seq:
			default:
				missed.Add(perReq)
			}
			seq++
		case <-sample.C:
			kib, err := rssKiB(pid)
			if err != nil {
				b.Fatalf("collector's RSS: %v\n%s", err, col.out)
			}
			samples = append(samples, kib)
		}
	}
	offer.Stop()
	sample.Stop()
	close(stopBreakdown)
	<-breakdownDone
	close(work)
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	if len(samples) == 0 {
		b.Fatal("no RSS sample taken")
	}
	at60 := samples[min(59, len(samples)-1)]
	end := samples[len(samples)-1]
	var peak int64
	for i, s := range samples {
		peak = max(peak, s)
		if (i+1)%30 == 0 {
			b.Logf("RSS at %3d s: %d MiB", i+1, s>>10)
		}
	}
	breakdown.log(b, 60*time.Second)
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	b.ReportMetric(mib(peak), "max-rss-MiB")
	b.ReportMetric(mib(at60), "rss-60s-MiB")
	b.ReportMetric(mib(end), "rss-end-MiB")
	b.ReportMetric(mib(end-at60), "growth-after-60s-MiB")
	b.ReportMetric(float64(accepted.Load())/elapsed.Seconds(), "spans/s")
	b.ReportMetric(float64(refused.Load()+missed.Load()), "not-taken-spans")
	// Also logged: a failed benchmark prints no metrics.
	b.Logf("max RSS %d MiB, at 60 s %d MiB, at the end %d MiB (after 60 s %+d MiB); %.0f spans/s accepted, %d not taken (%d refused, %d missed)",
		peak>>10, at60>>10, end>>10, (end-at60)>>10, float64(accepted.Load())/elapsed.Seconds(), refused.Load()+missed.Load(),
		refused.Load(), missed.Load())
	// After the figures: a failed benchmark prints its logs only.
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", fmt.Sprint(accepted.Load()), 180*time.Second); err != nil {
		b.Errorf("accepted spans not all stored: %v", err)
	}
	// RSS counts the pages of the persistent queue's file that file_storage
	// maps (the kernel's to reclaim, and as large as the queue lets it
	// grow); what the process itself holds is its anonymous memory: the
	// Go heap and the engine's. That is what must stay bounded and flat.
	anonPeak, anon60, anonEnd := breakdown.anon(60 * time.Second)
	b.ReportMetric(float64(anonPeak)/(1<<20), "max-anon-MiB")
	b.ReportMetric(float64(anonEnd-anon60)/(1<<20), "anon-growth-after-60s-MiB")
	b.Logf("anonymous memory: max %d MiB, at 60 s %d MiB, at the end %d MiB; RSS beyond it is mapped files (the queue's, the engine library's code)",
		anonPeak>>20, anon60>>20, anonEnd>>20)
	if anonPeak <= 0 || anonPeak >= 1<<30 {
		b.Errorf("collector's anonymous memory reached %d MiB under %d spans/s, want under 1 GiB", anonPeak>>20, offered)
	}
}

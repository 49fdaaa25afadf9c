package nexusapiextension

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/nexus-otel/nexus/processor/costprocessor"
)

// streamLoadEnv hands the client process of BenchmarkStream10kClients its
// work: "leg base key clients calls path".
const streamLoadEnv = "NEXUS_STREAM_LOAD"

// streamProfileEnv, when set to a path prefix, has each leg of
// BenchmarkStream10kClients write the CPU profile of its delivery (from the
// first event to the clients' result), the server's as prefix-leg-server.pprof
// and the clients' as prefix-leg-clients.pprof: a whole-run -cpuprofile
// mixes the legs and is dominated by the 10,000 connects.
const streamProfileEnv = "NEXUS_STREAM_CPUPROFILE"

// BenchmarkStream10kClients holds 10,000 concurrent /stream connections
// and measures, for every client and call, the time from the call's
// arrival at the collector (the end of its span, handed to the real cost
// processor at that instant) to the client having read and decoded it. The
// clients run in a child process: one process cannot hold both ends of
// 10,000 connections within the open-file limit.
//
// The same client process then reads the same number of events from two
// floors in this binary (bench_stream_floor_test.go), so that every figure
// has a same-run baseline: what plain net/http with write + Flush, and a
// taken-over connection written directly (Nexus's own write path), deliver
// on this machine with nothing of Nexus in between.
func BenchmarkStream10kClients(b *testing.B) {
	const clients, calls = 10_000, 20
	ta := startAPI(b, "bench_stream", func(c *Config) {
		c.RateLimit.RequestsPerSecond, c.RateLimit.Burst = 1e6, 1e6
		// Every simulated client streams with the one admin key.
		c.Stream.MaxPerKey, c.Stream.MaxTotal = 1<<20, 1<<20
	})
	proc := startLiveProcessor(b, ta)
	nexus := streamLeg{
		name: "nexus", base: ta.base, key: ta.admin, path: "/api/v1/stream?kinds=call&provider=openai",
		subscribed: ta.api.feed.Subscribers,
		publish: func() {
			if err := proc.ConsumeTraces(context.Background(), chatSpan("openai", "gpt-4o-mini", 1000, 500)); err != nil {
				b.Fatal(err)
			}
		},
	}
	for range b.N {
		res := nexus.run(b, clients, calls)
		b.ReportMetric(res.P50, "p50-ms")
		b.ReportMetric(res.P95, "p95-ms")
		b.ReportMetric(res.P99, "p99-ms")
		for _, raw := range []bool{false, true} {
			f := startStreamFloor(b, raw)
			res := f.leg(ta.admin).run(b, clients, calls)
			f.stop()
			prefix := "floor"
			if raw {
				prefix = "rawfloor"
			}
			b.ReportMetric(res.P50, prefix+"-p50-ms")
			b.ReportMetric(res.P95, prefix+"-p95-ms")
			b.ReportMetric(res.P99, prefix+"-p99-ms")
		}
		b.ReportMetric(float64(clients), "clients")
	}
}

// streamLeg is one server the client process is run against.
type streamLeg struct {
	name, base, key, path string
	subscribed            func() int
	publish               func() // hands over one call, timed from its start
}

// run connects the clients to the leg's server, publishes calls four a
// second and returns what the clients measured.
func (l streamLeg) run(b *testing.B, clients, calls int) streamLoadResult {
	b.Helper()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s %d %d %s", streamLoadEnv, l.name, l.base, l.key, clients, calls, l.path))
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "READY" {
		b.Fatalf("%s: client process: %q", l.name, lines.Text())
	}
	for deadline := time.Now().Add(time.Minute); l.subscribed() < clients; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%s: %d of %d streams subscribed", l.name, l.subscribed(), clients)
		}
	}
	stopProfile := startLegProfile(b, l.name+"-server")
	// Four calls a second, each handed over the instant its span ends:
	// every call is fanned out to all clients before the next arrives,
	// so the figure is one call's delivery, not a queue's.
	for range calls {
		l.publish()
		time.Sleep(250 * time.Millisecond)
	}
	if !lines.Scan() {
		b.Fatalf("%s: client process ended without a result", l.name)
	}
	stopProfile()
	var res streamLoadResult
	if err := json.Unmarshal(lines.Bytes(), &res); err != nil {
		b.Fatalf("%s: client result %q: %v", l.name, lines.Text(), err)
	}
	_ = child.Wait()
	b.Logf("%s: client process CPU: user %s, system %s; p50 %.1f p95 %.1f p99 %.1f ms",
		l.name, child.ProcessState.UserTime(), child.ProcessState.SystemTime(), res.P50, res.P95, res.P99)
	if res.Received != clients*calls {
		b.Fatalf("%s: clients received %d of %d call events", l.name, res.Received, clients*calls)
	}
	return res
}

// startLegProfile starts a CPU profile named for the leg when
// streamProfileEnv asks for one; the returned func stops it.
func startLegProfile(tb testing.TB, name string) func() {
	prefix := os.Getenv(streamProfileEnv)
	if prefix == "" {
		return func() {}
	}
	f, err := os.Create(prefix + "-" + name + ".pprof")
	if err != nil {
		tb.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		// -cpuprofile holds the profiler: that profile covers the run.
		tb.Logf("%s: no leg profile: %v", name, err)
		_ = f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}

// streamLoadResult is what the client process reports.
type streamLoadResult struct {
	Received      int
	P50, P95, P99 float64 // ms
}

// streamLoadClients is the client process: it connects the clients, says
// READY, reads calls events on each, and prints the latency percentiles.
func streamLoadClients(spec string) int {
	var leg, base, key, path string
	var clients, calls int
	if _, err := fmt.Sscanf(spec, "%s %s %s %d %d %s", &leg, &base, &key, &clients, &calls, &path); err != nil {
		fmt.Fprintln(os.Stderr, "bad", streamLoadEnv, err)
		return 2
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	// Clients speak HTTP/1.1 over plain connections and look for the
	// fields they need in the raw bytes: the ten thousand clients share two
	// cores with the server, so their own cost must stay small.
	u, err := url.Parse(base)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	request := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nAuthorization: Bearer " + key + "\r\nAccept: text/event-stream\r\n\r\n"
	var (
		mu        sync.Mutex
		latencies []float64
		connected sync.WaitGroup
		finished  sync.WaitGroup
		failures  = make(chan error, clients)
		sem       = make(chan struct{}, 200) // connect in waves: the listen backlog is finite
	)
	connected.Add(clients)
	finished.Add(clients)
	for range clients {
		go func() {
			defer finished.Done()
			sem <- struct{}{}
			answered, ready := false, false
			fail := func(err error) {
				if !ready {
					<-sem
					connected.Done()
				}
				failures <- err
			}
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				fail(err)
				return
			}
			defer conn.Close()
			if _, err := conn.Write([]byte(request)); err != nil {
				fail(err)
				return
			}
			buf := make([]byte, 8192)
			mine := make([]float64, 0, calls)
			for len(mine) < calls {
				n, err := conn.Read(buf)
				if err != nil {
					fail(err)
					return
				}
				chunk := string(buf[:n])
				if !ready {
					// The head and the first frame may come in separate reads.
					if !answered && !strings.HasPrefix(chunk, "HTTP/1.1 200") {
						fail(fmt.Errorf("answer %.40q", chunk))
						return
					}
					answered = true
					if strings.Contains(chunk, ": connected") {
						ready = true
						<-sem
						connected.Done()
					}
				}
				// A read may hold several events.
				for {
					i := strings.Index(chunk, "event: call\ndata: ")
					if i < 0 {
						break
					}
					chunk = chunk[i+18:]
					if arrived, ok := callArrival(chunk[:strings.IndexByte(chunk, '\n')]); ok {
						mine = append(mine, float64(time.Since(arrived))/float64(time.Millisecond))
					}
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	connected.Wait()
	select {
	case err := <-failures:
		fmt.Fprintln(os.Stderr, "stream client:", err)
		return 1
	default:
	}
	fmt.Println("READY")
	stopProfile := func() {}
	if prefix := os.Getenv(streamProfileEnv); prefix != "" {
		if f, err := os.Create(prefix + "-" + leg + "-clients.pprof"); err == nil && pprof.StartCPUProfile(f) == nil {
			stopProfile = func() { pprof.StopCPUProfile(); _ = f.Close() }
		}
	}
	done := make(chan struct{})
	go func() { finished.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
	}
	stopProfile()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	res, _ := json.Marshal(streamLoadResult{Received: len(latencies), P50: pct(0.50), P95: pct(0.95), P99: pct(0.99)})
	fmt.Println(string(res))
	return 0
}

// startLiveProcessor starts the real cost processor publishing to ta's feed.
func startLiveProcessor(tb testing.TB, ta *testAPI) processor.Traces {
	tb.Helper()
	id := component.MustNewID("nexusapi")
	f := costprocessor.NewFactory()
	pcfg := f.CreateDefaultConfig().(*costprocessor.Config)
	pcfg.LiveFeed = &id
	proc, err := f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), pcfg, new(consumertest.TracesSink))
	if err != nil {
		tb.Fatal(err)
	}
	host := pipelineHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{id: ta.api}}
	if err := proc.Start(context.Background(), host); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = proc.Shutdown(context.Background()) })
	return proc
}

// callArrival reads when a call summary's span ended (its arrival at the
// collector) without decoding the whole JSON: the ten thousand clients
// share two cores with the server, and the measurement is of delivery.
func callArrival(data string) (time.Time, bool) {
	field := func(name string) string {
		i := strings.Index(data, `"`+name+`":`)
		if i < 0 {
			return ""
		}
		v := data[i+len(name)+3:]
		return strings.Trim(v[:strings.IndexAny(v, ",}")], `"`)
	}
	start, err := time.Parse(time.RFC3339Nano, field("timestamp"))
	if err != nil {
		return time.Time{}, false
	}
	ms, err := strconv.ParseFloat(field("durationMs"), 64)
	if err != nil {
		return time.Time{}, false
	}
	return start.Add(time.Duration(ms * float64(time.Millisecond))), true
}

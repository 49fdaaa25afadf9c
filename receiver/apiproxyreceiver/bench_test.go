package apiproxyreceiver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/nexus-otel/nexus/internal/spend"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// BenchmarkProxyOverhead measures the latency the proxy adds to a call. One
// paced, open-loop load generator sends chat completions at a fixed rate
// straight to a local fake provider, through the proxy (spans through the
// real cost processor), and — for reference — through a bare
// httputil.ReverseProxy with the same transport, the floor any Go proxy hop
// costs; the percentiles are compared:
//
//	go test -run '^$' -bench ProxyOverhead -benchtime 1x ./receiver/apiproxyreceiver/
//
// The load generator and the fake provider run in a process of their own
// (this test binary, re-run as loadGenerator), as apps and providers
// do: the proxy's process — here the benchmark's — holds only the proxies,
// so its garbage collector and scheduler see the proxy's work alone.
// NEXUS_BENCH_RPS (default 2000) and NEXUS_BENCH_SECONDS (default 4, per
// leg) change the load. Both processes share the machine's cores.
func BenchmarkProxyOverhead(b *testing.B) {
	plan := loadPlan{RPS: envInt("NEXUS_BENCH_RPS", 2000), Seconds: envInt("NEXUS_BENCH_SECONDS", 4)}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadGenEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start load generator: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	expect := func(prefix string) string {
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), prefix); ok {
				return rest
			}
		}
		b.Fatalf("load generator ended before %q: %v", prefix, lines.Err())
		return ""
	}
	upstreamURL := expect("UPSTREAM ")

	tp := startProxy(b, func(c *Config) { c.Route("openai").Endpoint = upstreamURL + "/v1" }, withNext(costPipeline(b, consumertest.NewNop())))
	// The same proxy enforcing a blocking budget that every call is in
	// scope of (never reached): each call's body read first, its worst
	// case priced and reserved, then settled.
	s, h := storetest.Start(b, "proxy_bench_budgets_"+strconv.FormatInt(time.Now().UnixNano(), 36))
	name, period, action := "bench cap", "monthly", "block"
	if _, err := spend.New(s, time.UTC, 10*time.Second).CreateBudget(context.Background(), "default",
		spend.BudgetInput{Name: &name, Period: &period, AmountUSD: []byte(`"1000000"`), Action: &action}); err != nil {
		b.Fatal(err)
	}
	enforced := startProxy(b, func(c *Config) {
		c.Route("openai").Endpoint = upstreamURL + "/v1"
		c.Budgets.Enforce = true
	}, withNext(costPipeline(b, consumertest.NewNop())), withHost(h))
	target, _ := url.Parse(upstreamURL)
	bare := httputil.NewSingleHostReverseProxy(target)
	bare.Transport, bare.BufferPool = newTransport(&createDefaultConfig().(*Config).Upstream), bufferPool{}
	floorSrv := httptest.NewServer(bare)
	defer floorSrv.Close()
	plan.Targets = [][2]string{
		{"direct", upstreamURL + "/v1/chat/completions"},
		{"proxy", tp.url + "/openai/v1/chat/completions"},
		{"floor", floorSrv.URL + "/v1/chat/completions"},
		{"enforced", enforced.url + "/openai/v1/chat/completions"},
	}

	b.ResetTimer()
	ticks := readCPUTicks()
	if err := json.NewEncoder(stdin).Encode(plan); err != nil {
		b.Fatal(err)
	}
	var legs map[string]legSummary
	if err := json.Unmarshal([]byte(expect("RESULT ")), &legs); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	stolen := readCPUTicks().stolenSince(ticks)
	d, p, f, e := legs["direct"], legs["proxy"], legs["floor"], legs["enforced"]

	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(p.P50-d.P50), "p50-added-ms")
	b.ReportMetric(ms(p.P99-d.P99), "p99-added-ms")
	b.ReportMetric(ms(d.P50), "direct-p50-ms")
	b.ReportMetric(ms(d.P99), "direct-p99-ms")
	b.ReportMetric(ms(p.P50), "proxy-p50-ms")
	b.ReportMetric(ms(p.P99), "proxy-p99-ms")
	b.ReportMetric(ms(f.P50-d.P50), "floor-p50-added-ms")
	b.ReportMetric(ms(f.P99-d.P99), "floor-p99-added-ms")
	b.ReportMetric(ms(e.P50-d.P50), "enforced-p50-added-ms")
	b.ReportMetric(ms(e.P99-d.P99), "enforced-p99-added-ms")
	// Against the bare reverse proxy's added p99 of the same run, the
	// figure the machine's noise moves least.
	if bare := f.P99 - d.P99; bare > 0 {
		b.ReportMetric(float64(p.P99-d.P99)/float64(bare), "p99-added-x-bare")
		b.ReportMetric(float64(e.P99-d.P99)/float64(bare), "enforced-p99-added-x-bare")
	}
	if stolen >= 0 {
		// The share of the run's CPU time the hypervisor gave to other
		// machines: the tail grows with it, whatever the proxy does.
		b.ReportMetric(stolen, "steal-%")
	}
	b.ReportMetric(p.Rate, "proxy-rps")
	b.ReportMetric(float64(d.Errors+p.Errors+f.Errors+e.Errors), "errors")
	b.Logf("direct: %s", d)
	b.Logf("proxy:  %s", p)
	b.Logf("floor:  %s (bare httputil.ReverseProxy)", f)
	b.Logf("enforced: %s (a blocking budget over every call)", e)
	b.Logf("CPU time stolen by the hypervisor during the run: %.1f %%", stolen)
	if st := enforced.rcv.proxy.enforcer.guard.Statuses("default"); len(st) != 1 || st[0].Spent.IsZero() {
		b.Errorf("the enforcing proxy settled nothing: %+v", st)
	}
	if n := d.Errors + p.Errors + f.Errors + e.Errors; n > 0 {
		b.Errorf("%d failed requests", n)
	}
}

const loadGenEnv = "NEXUS_BENCH_LOADGEN"

// loadPlan is what the benchmark asks of the load generator.
type loadPlan struct {
	Targets [][2]string // name, URL; legs alternate in this order
	RPS     int
	Seconds int
}

type legSummary struct {
	N, Errors          int
	Rate               float64
	P50, P90, P99, Max time.Duration
}

func (r legSummary) String() string {
	return fmt.Sprintf("%d requests at %.0f/s, p50 %s p90 %s p99 %s max %s, %d errors", r.N, r.Rate, r.P50, r.P90, r.P99, r.Max, r.Errors)
}

// TestMain runs the test binary as BenchmarkProxyOverhead's other process
// when it is started as that; else the tests, with a data directory for
// those that need the store (auth_test.go).
func TestMain(m *testing.M) {
	if os.Getenv(loadGenEnv) != "" {
		os.Exit(loadGenerator())
	}
	storetest.Main(m)
}

// loadGenerator is BenchmarkProxyOverhead's other process: the fake
// provider and the load generator. It prints the provider's URL, reads a
// loadPlan, runs it and prints the percentiles of each target.
func loadGenerator() int {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, openAIChat)
	}))
	defer up.Close()
	fmt.Printf("UPSTREAM %s\n", up.URL)

	var plan loadPlan
	if err := json.NewDecoder(os.Stdin).Decode(&plan); err != nil {
		fmt.Fprintln(os.Stderr, "read the load plan:", err)
		return 2
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute, DisableCompression: true,
	}}
	// Warm the connection pools and both runtimes.
	for _, tg := range plan.Targets {
		_ = run(client, tg[1], plan.RPS, time.Second/2)
	}
	// The legs alternate second by second, so that whatever else the
	// machine does in the meantime falls on all alike.
	legs := make(map[string]*legResult, len(plan.Targets))
	for range plan.Seconds {
		for _, tg := range plan.Targets {
			if legs[tg[0]] == nil {
				legs[tg[0]] = &legResult{}
			}
			legs[tg[0]].add(run(client, tg[1], plan.RPS, time.Second))
		}
	}
	out := make(map[string]legSummary, len(legs))
	for name, l := range legs {
		l.summarize()
		out[name] = legSummary{N: l.n, Errors: l.errors, Rate: l.rate, P50: l.p50, P90: l.p90, P99: l.p99, Max: l.max}
	}
	raw, _ := json.Marshal(out)
	fmt.Printf("RESULT %s\n", raw)
	return 0
}

type legResult struct {
	lat           []time.Duration
	n, errors     int
	elapsed       time.Duration
	rate          float64
	p50, p90, p99 time.Duration
	max           time.Duration
}

func (r *legResult) add(o legResult) {
	r.lat = append(r.lat, o.lat...)
	r.n += o.n
	r.errors += o.errors
	r.elapsed += o.elapsed
}

func (r *legResult) summarize() {
	slices.Sort(r.lat)
	pct := func(p float64) time.Duration { return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))] }
	r.p50, r.p90, r.p99, r.max = pct(0.50), pct(0.90), pct(0.99), r.lat[len(r.lat)-1]
	r.rate = float64(r.n) / r.elapsed.Seconds()
}

// run sends requests to url at rps for d, each at its scheduled time
// whether or not earlier ones have answered (open loop: a slow answer never
// delays the next request), and measures each from when it was sent.
func run(client *http.Client, url string, rps int, d time.Duration) legResult {
	interval := time.Second / time.Duration(rps)
	total := int(d / interval)
	lat := make([]time.Duration, total)
	failed := make([]bool, total)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			res, err := client.Post(url, "application/json", strings.NewReader(chatReq))
			if err == nil {
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					err = fmt.Errorf("status %d", res.StatusCode)
				}
			}
			lat[i] = time.Since(sent)
			failed[i] = err != nil
		}()
	}
	elapsed := time.Since(start)
	wg.Wait()
	r := legResult{lat: lat, n: total, elapsed: elapsed}
	for _, f := range failed {
		if f {
			r.errors++
		}
	}
	return r
}

// cpuTicks are the machine's CPU time counters from /proc/stat: all of
// it, and what the hypervisor ran elsewhere (steal).
type cpuTicks struct{ total, steal int64 }

// readCPUTicks reads them; zero where /proc/stat cannot be read.
func readCPUTicks() cpuTicks {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTicks{}
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return cpuTicks{}
	}
	var t cpuTicks
	for i, f := range fields[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		if i < 8 { // guest time is counted in user time already
			t.total += v
		}
		if i == 7 {
			t.steal = v
		}
	}
	return t
}

// stolenSince is the percentage of the CPU time since before that was
// stolen; -1 when it cannot be told.
func (t cpuTicks) stolenSince(before cpuTicks) float64 {
	if t.total <= before.total || before.total == 0 {
		return -1
	}
	return 100 * float64(t.steal-before.steal) / float64(t.total-before.total)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkSpanPath is the work each call costs off the request path:
// reading usage from the bodies, building the span, pricing it.
func BenchmarkSpanPath(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	tp := startProxy(b, func(c *Config) { c.Route("openai").Endpoint = up.URL + "/v1" }, withNext(costPipeline(b, consumertest.NewNop())))
	e := tp.rcv.emitter
	rt := tp.rcv.proxy.routes[0]
	b.ReportAllocs()
	batch := make([]*call, 1)
	for b.Loop() {
		c := &call{rt: rt, start: time.Now(), end: time.Now(), service: "apiproxy", method: "POST",
			scheme: "http", host: "127.0.0.1:1", path: "/v1/chat/completions", status: 200, media: mediaJSON, eof: true,
			req: &reqBody{}}
		c.req.capture.max, c.resp.max = 1<<20, 1<<20
		c.req.capture.write([]byte(chatReq))
		c.resp.write([]byte(openAIChat))
		batch[0] = c
		e.send(batch)
	}
}

package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// memorySampler reads where the collector's memory is, beside its RSS: the
// kernel's split of RSS (anonymous memory, and file pages such as the
// engine library's code), the Go runtime's view (the collector's own
// telemetry) and the engine's (its memory tracker and caches, through the
// ClickHouse HTTP interface). The memory_limiter sees only the Go heap;
// a breakdown over time says which part grows.
type memorySampler struct {
	col     *collector
	metrics string // the collector's Prometheus endpoint
	mu      sync.Mutex
	rows    []memoryRow
	errs    int
}

// memoryRow is one sample; a value the sampler could not read is -1.
type memoryRow struct {
	at                    time.Duration
	rss, rssAnon, rssFile int64 // bytes, /proc/<pid>/status
	// RssFile by file (/proc/<pid>/smaps): the engine library's code,
	// files under the data directory (the persistent queue's database,
	// which file_storage maps whole) and the rest.
	fileLib, fileData, fileOther int64
	goHeap, goSys                int64 // bytes, the collector's telemetry
	queue                        int64 // the exporter's queue, in its sizer's unit (bytes)
	engine                       map[string]int64
}

// engineMemoryColumns are the engine's figures the table shows, in order:
// its memory tracker (every allocation the engine makes, caches, merges
// and queries included), the part of it merges hold, and its caches.
var engineMemoryColumns = []struct{ name, label string }{
	{"MemoryTracking", "tracked"},
	{"MergesMutationsMemoryTracking", "merges"},
	{"MarkCacheBytes", "marks"},
	{"UncompressedCacheBytes", "uncompr"},
	{"PrimaryIndexCacheBytes", "pk-cache"},
	{"PrimaryKeyBytesInMemory", "pk-parts"},
	{"QueryConditionCacheBytes", "qcond"},
	{"IndexMarkCacheBytes", "idxmarks"},
	{"MMapCacheCells", "mmap#"},
	{"ActiveParts", "parts#"},
}

// engineMemorySQL reads engineMemoryColumns in one statement: a metric the
// engine does not have is absent, and shown as -1. The embedded engine has
// no system.asynchronous_metrics; its caches' sizes are current metrics.
const engineMemorySQL = `SELECT metric, toInt64(value) FROM system.metrics
WHERE metric IN ('MemoryTracking', 'MergesMutationsMemoryTracking', 'MarkCacheBytes', 'UncompressedCacheBytes',
  'PrimaryIndexCacheBytes', 'QueryConditionCacheBytes', 'IndexMarkCacheBytes', 'MMapCacheCells')
UNION ALL SELECT 'PrimaryKeyBytesInMemory', toInt64(sum(primary_key_bytes_in_memory)) FROM system.parts WHERE active
UNION ALL SELECT 'ActiveParts', toInt64(count()) FROM system.parts WHERE active
FORMAT TSV`

var metricsPortLine = regexp.MustCompile(`(?m)^\s*port: (\d+)\s*$`)

func newMemorySampler(tb testing.TB, col *collector) *memorySampler {
	tb.Helper()
	raw, err := os.ReadFile(col.config)
	if err != nil {
		tb.Fatal(err)
	}
	m := metricsPortLine.FindSubmatch(raw)
	if m == nil {
		tb.Fatalf("no telemetry port in %s", col.config)
	}
	return &memorySampler{col: col, metrics: "http://127.0.0.1:" + string(m[1]) + "/metrics"}
}

// run samples every interval until stop is closed. It runs beside the
// load, so a slow answer delays a sample, never the load's clock.
func (s *memorySampler) run(began time.Time, interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r := s.sample(time.Since(began).Round(time.Second))
			s.mu.Lock()
			s.rows = append(s.rows, r)
			s.mu.Unlock()
		}
	}
}

func (s *memorySampler) sample(at time.Duration) memoryRow {
	r := memoryRow{at: at, rss: -1, rssAnon: -1, rssFile: -1, fileLib: -1, fileData: -1, fileOther: -1,
		goHeap: -1, goSys: -1, queue: -1, engine: map[string]int64{}}
	if st, err := procStatus(s.col.cmd.Process.Pid, "VmRSS", "RssAnon", "RssFile"); err == nil {
		r.rss, r.rssAnon, r.rssFile = st["VmRSS"], st["RssAnon"], st["RssFile"]
	} else {
		s.failed()
	}
	if lib, data, other, err := fileRSS(s.col.cmd.Process.Pid, s.col.dataDir); err == nil {
		r.fileLib, r.fileData, r.fileOther = lib, data, other
	} else {
		s.failed()
	}
	if g, err := promValues(s.metrics, "otelcol_process_runtime_heap_alloc", "otelcol_process_runtime_total_sys_memory",
		"otelcol_exporter_queue_size"); err == nil {
		r.goHeap, r.goSys = g["otelcol_process_runtime_heap_alloc"], g["otelcol_process_runtime_total_sys_memory"]
		r.queue = g["otelcol_exporter_queue_size"]
	} else {
		s.failed()
	}
	out, err := s.col.query(engineMemorySQL)
	if err != nil {
		s.failed()
		return r
	}
	for _, line := range strings.Split(out, "\n") {
		name, v, ok := strings.Cut(line, "\t")
		if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil {
			r.engine[name] = n
		}
	}
	return r
}

func (s *memorySampler) failed() {
	s.mu.Lock()
	s.errs++
	s.mu.Unlock()
}

// anon is the anonymous memory's peak, its value at the sample nearest
// from, and its last value, in bytes (0 with no sample).
func (s *memorySampler) anon(from time.Duration) (peak, atFrom, end int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rows {
		peak = max(peak, r.rssAnon)
		if r.at <= from || atFrom == 0 {
			atFrom = r.rssAnon
		}
		end = r.rssAnon
	}
	return peak, atFrom, end
}

func (r memoryRow) engineValue(name string) int64 {
	if v, ok := r.engine[name]; ok {
		return v
	}
	return -1
}

// log writes the samples as a table (MiB; counts as they are) and the
// growth of each column from the sample nearest from (the end of warm-up)
// to the last.
func (s *memorySampler) log(tb testing.TB, from time.Duration) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rows) == 0 {
		tb.Logf("memory breakdown: no sample (%d failed reads)", s.errs)
		return
	}
	var b strings.Builder
	header := []string{"t", "rss", "anon", "file", "f:lib", "f:data", "f:other", "go-heap", "go-sys", "queue"}
	for _, c := range engineMemoryColumns {
		header = append(header, c.label)
	}
	fmt.Fprintf(&b, "memory breakdown (MiB; # = count; -1 = not available; %d failed reads). file = f:lib (the engine library) "+
		"+ f:data (files under the data directory, mapped) + f:other; queue = the exporter's queue:\n", s.errs)
	writeRow := func(cells []string) {
		for i, c := range cells {
			if i == 0 {
				fmt.Fprintf(&b, "%6s", c)
				continue
			}
			fmt.Fprintf(&b, " %9s", c)
		}
		b.WriteByte('\n')
	}
	writeRow(header)
	cells := func(label string, r memoryRow, diff *memoryRow) []string {
		out := []string{label}
		add := func(v, base int64, count bool) {
			if v < 0 || (diff != nil && base < 0) {
				out = append(out, "-1")
				return
			}
			v -= base
			if count {
				out = append(out, strconv.FormatInt(v, 10))
				return
			}
			out = append(out, strconv.FormatFloat(float64(v)/(1<<20), 'f', 0, 64))
		}
		base := func(f func(memoryRow) int64) int64 {
			if diff == nil {
				return 0
			}
			return f(*diff)
		}
		add(r.rss, base(func(m memoryRow) int64 { return m.rss }), false)
		add(r.rssAnon, base(func(m memoryRow) int64 { return m.rssAnon }), false)
		add(r.rssFile, base(func(m memoryRow) int64 { return m.rssFile }), false)
		add(r.fileLib, base(func(m memoryRow) int64 { return m.fileLib }), false)
		add(r.fileData, base(func(m memoryRow) int64 { return m.fileData }), false)
		add(r.fileOther, base(func(m memoryRow) int64 { return m.fileOther }), false)
		add(r.goHeap, base(func(m memoryRow) int64 { return m.goHeap }), false)
		add(r.goSys, base(func(m memoryRow) int64 { return m.goSys }), false)
		add(r.queue, base(func(m memoryRow) int64 { return m.queue }), false)
		for _, c := range engineMemoryColumns {
			add(r.engineValue(c.name), base(func(m memoryRow) int64 { return m.engineValue(c.name) }), strings.HasSuffix(c.label, "#"))
		}
		return out
	}
	warm := s.rows[0]
	for _, r := range s.rows {
		writeRow(cells(strconv.Itoa(int(r.at.Seconds())), r, nil))
		if r.at <= from {
			warm = r
		}
	}
	last := s.rows[len(s.rows)-1]
	writeRow(cells("Δ", last, &warm))
	fmt.Fprintf(&b, "(Δ: from %v to %v)", warm.at, last.at)
	tb.Log(b.String())
}

// procStatus reads fields of /proc/<pid>/status given in kB, in bytes.
func procStatus(pid int, fields ...string) (map[string]int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, f := range fields {
			if name != f {
				continue
			}
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kib); err != nil {
				return nil, fmt.Errorf("%s %q: %w", name, v, err)
			}
			out[name] = kib << 10
		}
	}
	if len(out) != len(fields) {
		return nil, fmt.Errorf("/proc/%d/status has %d of the fields %v", pid, len(out), fields)
	}
	return out, nil
}

// fileRSS splits pid's file-backed resident memory (/proc/<pid>/smaps)
// into the engine library's, that of files under dataDir, and the rest.
func fileRSS(pid int, dataDir string) (lib, data, other int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	var into *int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			// A mapping's header: address perms offset dev inode [path].
			path := ""
			if len(fields) >= 6 {
				path = strings.Join(fields[5:], " ")
			}
			switch {
			case !strings.HasPrefix(path, "/"):
				into = nil // anonymous, [heap], [stack]…
			case strings.HasSuffix(path, "libchdb.so"):
				into = &lib
			case strings.HasPrefix(path, dataDir):
				into = &data
			default:
				into = &other
			}
			continue
		}
		if v, ok := strings.CutPrefix(line, "Rss:"); ok && into != nil {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kib); err != nil {
				return 0, 0, 0, fmt.Errorf("smaps Rss %q: %w", v, err)
			}
			*into += kib << 10
		}
	}
	return lib, data, other, sc.Err()
}

// promValues sums the samples of each metric whose name starts with one
// of prefixes (the Prometheus exporter may add a unit suffix) on a
// Prometheus text endpoint.
func promValues(endpoint string, prefixes ...string) (map[string]int64, error) {
	resp, err := http.Get(endpoint)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("%s: HTTP %d", endpoint, resp.StatusCode)
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, p := range prefixes {
			if !strings.HasPrefix(line, p) {
				continue
			}
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
				out[p] += int64(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) != len(prefixes) {
		return nil, fmt.Errorf("%s has %d of the metrics %v", endpoint, len(out), prefixes)
	}
	return out, nil
}

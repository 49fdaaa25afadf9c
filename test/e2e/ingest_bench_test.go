package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/extension/chstoreextension"
	"github.com/nexus-otel/nexus/internal/schema"
	"github.com/nexus-otel/nexus/internal/store"
)

// Helpers of the ingest benchmarks: a same-run baseline of the engine's own
// streaming-insert rate, and an optional CPU profile of the collector taken
// while the load runs.

// exporterBatch is the block size the exporter inserts under
// configs/local.yaml: requests are never split and batched until they hold
// 8,192 items, so with requests of 1,000 spans a block is 9 of them.
const exporterBatch = 9_000

// benchRows builds n api_calls rows with the Go types and values the nexus
// exporter's callRows makes of benchRequest's spans once the cost processor
// has priced them, in the column order of store.APICallColumns.
func benchRows(n int, at time.Time) [][]any {
	models := []string{"gpt-4o", "gpt-4o-mini", "o3-mini", "gpt-4.1"}
	rows := make([][]any, n)
	for i := range rows {
		var tid [16]byte
		var sid [8]byte
		tid[0], tid[1], tid[2], tid[3], tid[4] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i), 0xbe
		sid[0], sid[1], sid[2], sid[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		model := models[i%len(models)]
		in, out := uint64(500+i%1000), uint64(50+i%200)
		rows[i] = []any{
			at.Add(time.Duration(i) * time.Microsecond), uint64(time.Duration(200+i%300) * time.Millisecond),
			"bench", "prod", "openai", "chat", model,
			model, "chat", "api.openai.com", "", uint16(200), "ok",
			"", "", in, out, uint64(0),
			uint64(0), uint64(0), map[string]uint64(nil),
			decimal.New(int64(in*2_500_000+out*10_000_000), -12), "computed", "", "builtin-2026-11", "", "", float32(0.1), false,
			hex.EncodeToString(tid[:]), hex.EncodeToString(sid[:]),
			"", "", "", "", map[string]string(nil),
			schema.DefaultTenant,
		}
	}
	return rows
}

// rawInsertRate starts the embedded engine in this process (its own data
// directory and database) and streams total rows into api_calls in blocks
// of batch rows, the way a batch's Send does, materialized views included:
// no de-duplication token, journal or look-up, only the engine's insert.
// It returns rows per second.
func rawInsertRate(b *testing.B, total, batch int) float64 {
	b.Helper()
	f := chstoreextension.NewFactory()
	cfg := f.CreateDefaultConfig().(*chstoreextension.Config)
	cfg.Database = "bench_raw"
	cfg.Embedded.DataDir = b.TempDir()
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = ext.Shutdown(context.Background()) }()
	s := ext.(store.Provider).Store()
	ctx := context.Background()
	rows := benchRows(total, time.Now().Add(-time.Hour))
	began := time.Now()
	for off := 0; off < total; off += batch {
		bt, err := s.PrepareBatch(ctx, "api_calls", store.APICallColumns)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows[off:min(off+batch, total)] {
			if err := bt.Append(r...); err != nil {
				b.Fatal(err)
			}
		}
		if err := bt.Send(ctx); err != nil {
			b.Fatal(err)
		}
	}
	took := time.Since(began)
	var n uint64
	res, err := s.Query(ctx, "SELECT count() FROM bench_raw.api_calls", nil)
	if err != nil {
		b.Fatal(err)
	}
	if res.Next() {
		_ = res.Scan(&n)
	}
	res.Close()
	if n != uint64(total) {
		b.Fatalf("raw insert stored %d rows, want %d", n, total)
	}
	return float64(total) / took.Seconds()
}

// withPprof turns on the pprof extension in the collector's config (on a
// loopback port) and returns its address.
func withPprof(b *testing.B, c *collector) string {
	b.Helper()
	raw, err := os.ReadFile(c.config)
	if err != nil {
		b.Fatal(err)
	}
	addr := freePort(b)
	cfg := strings.Replace(string(raw), "extensions:\n  health_check:", "extensions:\n  pprof:\n    endpoint: "+addr+"\n  health_check:", 1)
	cfg = strings.Replace(cfg, "extensions: [health_check,", "extensions: [pprof, health_check,", 1)
	if cfg == string(raw) || !strings.Contains(cfg, "[pprof,") {
		b.Fatal("could not add pprof to the collector's config")
	}
	if err := os.WriteFile(c.config, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	return addr
}

// cpuProfile takes a CPU profile of seconds from the pprof endpoint at addr
// and writes it to path; it runs beside the load.
func cpuProfile(addr, path string, seconds int) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds))
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cpu profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	return f.Close()
}

// rssKiB reads VmRSS of pid from /proc.
func rssKiB(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kib); err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			return kib, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// cpuTime is the CPU time pid has used (user and system, all threads, the
// engine's included), from /proc/<pid>/stat. Per span, it is a cost that
// other load on the machine changes far less than it changes wall time.
func cpuTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command (in parentheses, which may hold spaces):
	// utime and stime are the 12th and 13th, in clock ticks (USER_HZ 100).
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

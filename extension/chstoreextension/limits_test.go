package chstoreextension

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/internal/store"
)

// TestReadsNeverHoldUpWrites: with every read connection busy, inserts and
// DDL go on at once, and a read waits only as long as its context allows.
func TestReadsNeverHoldUpWrites(t *testing.T) {
	ext, s := startEmbedded(t, "rw_split", func(c *Config) { c.Embedded.ReadConnections = 1 })
	ctx := context.Background()
	if err := s.Exec(ctx, "CREATE TABLE rw_split.t (a UInt64) ENGINE = MergeTree ORDER BY a", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PrepareBatch(ctx, "t", []string{"a"}); err != nil { // reads the columns while reads are free
		t.Fatal(err)
	}
	busy := <-ext.embedded.readPool // the API's reads hold every read connection
	defer func() { ext.embedded.readPool <- busy }()

	start := time.Now()
	b, err := s.PrepareBatch(ctx, "t", []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if err := b.Append(uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "INSERT INTO rw_split.t SELECT number FROM numbers(10)", nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("writes took %v with the read connections busy", d)
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.Query(wctx, "SELECT 1", nil); err == nil || !strings.Contains(err.Error(), "read connection") {
		t.Fatalf("a read with every read connection busy: %v", err)
	}
}

// TestStoreReadsEndAtMaxQueryTime: the engine ends a store read at
// max_query_time, and reads cannot write.
func TestStoreReadsEndAtMaxQueryTime(t *testing.T) {
	_, s := startEmbedded(t, "read_limit", func(c *Config) { c.MaxQueryTime = time.Second })
	start := time.Now()
	_, err := s.Query(context.Background(), "SELECT sum(number) FROM numbers(10000000000000)", nil)
	if err == nil || !strings.Contains(err.Error(), "TIMEOUT_EXCEEDED") {
		t.Fatalf("numbers(1e13) through Query: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a 1 s read ran %v", d)
	}
	if v := scalar(t, s, "SELECT toString(getSetting('max_execution_time'))"); v != "1" {
		t.Errorf("read connections run with max_execution_time %s", v)
	}
	if _, err := s.Query(context.Background(), "CREATE TABLE read_limit.t (a UInt8) ENGINE = Memory", nil); err == nil ||
		!strings.Contains(err.Error(), "READONLY") {
		t.Errorf("DDL through Query: %v", err)
	}
	// Writes are not bounded by it.
	if err := s.Exec(context.Background(), "SELECT sleep(2)", nil); err != nil {
		t.Errorf("a 2 s write: %v", err)
	}
}

// TestRemoteReadsEndAtMaxQueryTime: in remote mode the server gets
// max_execution_time = max_query_time (or the context's remaining time,
// if sooner), not clickhouse-go's deadline + 5 s. The server here is the
// embedded engine's own HTTP interface.
func TestRemoteReadsEndAtMaxQueryTime(t *testing.T) {
	addr := freeAddr(t)
	startEmbedded(t, "remote_limit_host", func(c *Config) {
		c.HTTP.Enabled, c.HTTP.NetAddr.Endpoint = true, addr
	})
	cfg := createDefaultConfig().(*Config)
	cfg.Mode, cfg.Database, cfg.Migrate, cfg.MaxQueryTime = ModeRemote, "remote_limit", false, 2*time.Second
	cfg.Remote.Endpoints, cfg.Remote.Protocol = []string{addr}, ProtocolHTTP
	cfg.Remote.TLS.Insecure = true // plain HTTP on loopback
	ext := newExtension(cfg, extensiontest.NewNopSettings(componentType))
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer ext.Shutdown(context.Background())
	s := ext.Store()
	if v := scalar(t, s, "SELECT toString(getSetting('max_execution_time'))"); v != "2" {
		t.Errorf("remote reads run with max_execution_time %s", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // clickhouse-go would send 65
	defer cancel()
	rows, err := s.Query(ctx, "SELECT toString(getSetting('max_execution_time'))", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if !rows.Next() || rows.Scan(&got) != nil || got != "2" {
		t.Errorf("with a minute's deadline: max_execution_time %q (%v)", got, rows.Err())
	}
	rows.Close()
	start := time.Now()
	if _, err := s.Query(ctx, "SELECT sum(number) FROM numbers(10000000000000)", nil); err == nil ||
		!strings.Contains(err.Error(), "TIMEOUT_EXCEEDED") && !strings.Contains(err.Error(), "code: 159") {
		t.Fatalf("numbers(1e13) through a remote Query: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("a 2 s remote read ran %v", d)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestHTTPExposure: the extension's interface answers CORS only for the
// listed origins (confighttp adds none of its own) and refuses foreign
// Host headers.
func TestHTTPExposure(t *testing.T) {
	addr := freeAddr(t)
	const origin = "https://grafana.example.com"
	startEmbedded(t, "exposure", func(c *Config) {
		c.HTTP.Enabled, c.HTTP.NetAddr.Endpoint = true, addr
		c.HTTP.CORSAllowedOrigins = []string{origin}
		c.HTTP.AllowedHosts = []string{"nexus.internal"}
	})
	call := func(method, host, from string) (*http.Response, string) {
		req, _ := http.NewRequest(method, "http://"+addr+"/?"+url.Values{"query": {"SELECT 1"}, "add_http_cors_header": {"1"}}.Encode(), nil)
		if host != "" {
			req.Host = host
		}
		req.Header.Set("Origin", from)
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, method := range []string{http.MethodGet, http.MethodOptions} {
		if resp, _ := call(method, "", "http://evil.example"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s from an unlisted origin: Access-Control-Allow-Origin %q", method, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if resp, _ := call(method, "", origin); resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("%s from the listed origin: Access-Control-Allow-Origin %q", method, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	if resp, body := call(http.MethodGet, "rebind.evil.example", origin); resp.StatusCode != http.StatusForbidden ||
		resp.Header.Get("X-ClickHouse-Exception-Code") != "497" {
		t.Errorf("foreign Host: %d %q", resp.StatusCode, body)
	}
	if resp, body := call(http.MethodGet, "nexus.internal:8123", origin); resp.StatusCode != http.StatusOK || body != "1\n" {
		t.Errorf("listed Host: %d %q", resp.StatusCode, body)
	}
}

// TestProfileLoadedFirst: the engine profile is in effect for the store's
// own connections (it is loaded by the process's first connection).
func TestProfileLoadedFirst(t *testing.T) {
	_, s := startEmbedded(t, "profile_first", nil)
	err := s.Exec(context.Background(), "SELECT 1 SETTINGS format_template_row = '/etc/passwd'", store.Params{})
	if err == nil || !strings.Contains(err.Error(), "SETTING_CONSTRAINT_VIOLATION") {
		t.Fatalf("a file-naming setting on a store connection: %v", err)
	}
}

// Package e2e drives the built Nexus distribution as its users do: the
// binary, the shipped config, OTLP from the OpenTelemetry Go SDK, and the
// ClickHouse HTTP interface to read what landed.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/internal/providers/providertest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary returns the distribution binary: $NEXUS_BIN (what `make test`
// builds), else one built here from cmd/otelcol-nexus with the engine
// library linked beside it, the layout `make build` gives bin/.
func binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("NEXUS_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nexus-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "otelcol-nexus")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = filepath.Join("..", "..", "cmd", "otelcol-nexus")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build distribution: %w\n%s", err, out)
			return
		}
		buildErr = linkEngine(dir)
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

// linkEngine links the engine library into dir, beside a binary built
// there: the binary looks for libchdb.so in its own folder (after
// $CHDB_LIB_PATH), as it does in bin/. The engine's loader is internal to
// the store extension, so its search is not reused here; the library is
// $CHDB_LIB_PATH when set, else the repository's engine cache (`make engine`).
func linkEngine(dir string) error {
	lib := os.Getenv("CHDB_LIB_PATH")
	if lib == "" {
		lib = filepath.Join("..", "..", ".engine", "libchdb.so")
	}
	abs, err := filepath.Abs(lib)
	if err != nil {
		return fmt.Errorf("locate the engine library %s: %w", lib, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("engine library for the test binary: %w (run `make engine` or set CHDB_LIB_PATH)", err)
	}
	if err := os.Symlink(abs, filepath.Join(dir, "libchdb.so")); err != nil {
		return fmt.Errorf("link the engine library beside the test binary: %w", err)
	}
	return nil
}

// syncBuffer collects a child's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type collector struct {
	tb       testing.TB
	env      []string // extra environment of the process
	cmd      *exec.Cmd
	out      *syncBuffer
	done     chan error
	dataDir  string
	config   string
	otlpGRPC string
	otlpHTTP string
	health   string
	chHTTP   string
	api      string
	proxy    string
	// file is the config under configs/ the collector runs (local.yaml
	// unless set before start).
	file string
	// user and password, when set, are sent to its ClickHouse interface.
	user, password string
}

func freePort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// localConfig is configs/local.yaml, the config `make run` uses, with its
// ports moved to free ones so tests never collide with a running Nexus.
func localConfig(tb testing.TB, c *collector) string {
	tb.Helper()
	file := c.file
	if file == "" {
		file = "local.yaml"
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "configs", file))
	if err != nil {
		tb.Fatal(err)
	}
	repl := strings.NewReplacer(
		"127.0.0.1:4317", c.otlpGRPC, "127.0.0.1:4318", c.otlpHTTP, "127.0.0.1:13133", c.health,
		"127.0.0.1:8123", c.chHTTP, "127.0.0.1:8080", c.api, "127.0.0.1:8787", c.proxy, "127.0.0.1:55679", freePort(tb), "127.0.0.1:1777", freePort(tb),
	)
	_, metricsPort, _ := net.SplitHostPort(freePort(tb))
	cfg := strings.Replace(repl.Replace(string(raw)), "port: 8888", "port: "+metricsPort, 1)
	path := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func newCollector(tb testing.TB, dataDir string) *collector {
	tb.Helper()
	c := &collector{tb: tb, dataDir: dataDir, otlpGRPC: freePort(tb), otlpHTTP: freePort(tb), health: freePort(tb), chHTTP: freePort(tb), api: freePort(tb), proxy: freePort(tb)}
	c.config = localConfig(tb, c)
	return c
}

// start runs the binary with args (the config by default) and waits until
// the health check says it is ready. Ports are picked free just before the
// start, so another process can take one in between: a start that fails to
// bind is retried on fresh ports.
func (c *collector) start(extraArgs ...string) {
	c.tb.Helper()
	for attempt := 1; ; attempt++ {
		err := c.tryStart(extraArgs...)
		if err == nil {
			return
		}
		if attempt < 4 && strings.Contains(c.out.String(), "address already in use") {
			c.tb.Logf("port taken before the collector bound it; retrying on new ports")
			c.otlpGRPC, c.otlpHTTP, c.health, c.chHTTP, c.api, c.proxy = freePort(c.tb), freePort(c.tb), freePort(c.tb), freePort(c.tb), freePort(c.tb), freePort(c.tb)
			c.config = localConfig(c.tb, c)
			continue
		}
		c.tb.Fatalf("%v\n%s", err, c.out)
	}
}

func (c *collector) tryStart(extraArgs ...string) error {
	c.run(extraArgs...)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("collector exited during start: %w", err)
		default:
		}
		resp, err := http.Get("http://" + c.health + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("collector not healthy after 60s")
}

// run starts the binary without waiting.
func (c *collector) run(extraArgs ...string) {
	c.tb.Helper()
	args := append([]string{"--config", c.config}, extraArgs...)
	c.cmd = exec.Command(binary(c.tb), args...)
	c.cmd.Dir = c.tb.TempDir()
	// OpenRouter's price sync reads a local stand-in unless a test names
	// another: no test reaches the internet (later values win).
	c.cmd.Env = append(append(os.Environ(), "NEXUS_DATA_DIR="+c.dataDir,
		"NEXUS_OPENROUTER_BASE_URL="+providertest.New(c.tb).Base("openrouter")), c.env...)
	c.out = &syncBuffer{}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		c.tb.Fatal(err)
	}
	c.done = make(chan error, 1)
	go func() { c.done <- c.cmd.Wait() }()
	c.tb.Cleanup(func() { c.stop() })
}

// wait returns the exit error once the process ends by itself.
func (c *collector) wait(timeout time.Duration) error {
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-time.After(timeout):
		c.tb.Fatalf("collector still running after %s\n%s", timeout, c.out)
		return nil
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (c *collector) stop() error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	select {
	case err := <-c.done:
		c.done <- err
		return err
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		return fmt.Errorf("collector did not stop within 30s after SIGTERM")
	}
}

// query asks the embedded store through its ClickHouse HTTP interface.
func (c *collector) query(sql string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+c.chHTTP+"/?query="+url.QueryEscape(sql), nil)
	if err != nil {
		return "", err
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return strings.TrimSpace(string(body)), nil
}

// waitForCount polls until sql returns want, returning how long it took.
func (c *collector) waitForCount(sql, want string, timeout time.Duration) (time.Duration, error) {
	began := time.Now()
	var last string
	var lastErr error
	for time.Since(began) < timeout {
		last, lastErr = c.query(sql)
		if lastErr == nil && last == want {
			return time.Since(began), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(began), fmt.Errorf("%s: got %q (err %w) after %s, want %q", sql, last, lastErr, timeout, want)
}

func contextTimeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

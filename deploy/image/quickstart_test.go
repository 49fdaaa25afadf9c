package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestQuickstartInImage builds the real image (make build's binary, the
// pinned engine), writes and reads back its tarball, unpacks it and runs
// the image's own command in it as a container runtime would (a new
// mount and PID namespace, /proc, device nodes, chroot, the image's
// user, environment and working directory), then does the README's
// quickstart: the OTLP/JSON span to OTLP/HTTP, counted through the
// ClickHouse HTTP interface. Only the ports differ (a second --config
// moves them to free ones: this machine is shared).
func TestQuickstartInImage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatalf("this test chroots into the image and needs root (uid %d): run it as root, e.g. in CI's container", os.Geteuid())
	}
	for _, tool := range []string{"unshare", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run the image: %v", tool, err)
		}
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	spec := DefaultSpec(repo)
	spec.Probe = filepath.Join(work, "nexus-healthcheck")
	if out, err := exec.Command("go", "build", "-o", spec.Probe, "./cmd/nexus-healthcheck").CombinedOutput(); err != nil {
		t.Fatalf("building the probe: %v\n%s", err, out)
	}

	start := time.Now()
	img, sum, err := Build(context.Background(), spec, filepath.Join(work, "layers"))
	if err != nil {
		t.Fatalf("%v (the image needs `make build` first)", err)
	}
	tarPath := filepath.Join(work, "nexus-image.tar")
	if err := Write(img, "", tarPath, "otelcol-nexus:test"); err != nil {
		t.Fatal(err)
	}
	built := time.Since(start)
	loaded, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	unpack(t, loaded, root)
	t.Logf("image built and written in %s (%s compressed), unpacked in %s", built.Round(time.Second), mb(sum.Compressed), (time.Since(start) - built).Round(time.Second))
	cf, err := loaded.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	makeDevices(t, root)
	if err := os.Mkdir(filepath.Join(root, "proc"), 0o555); err != nil {
		t.Fatal(err)
	}

	var c *container
	for attempt := 1; ; attempt++ {
		c = startContainer(t, root, cf.Config.User, cf.Config.WorkingDir, cf.Config.Env, append(cf.Config.Entrypoint, cf.Config.Cmd...))
		err := c.waitHealthy(90 * time.Second)
		if err == nil {
			break
		}
		if attempt < 3 && strings.Contains(c.out.tail(), "address already in use") {
			c.kill()
			continue
		}
		t.Fatalf("%v\n%s", err, c.out.tail())
	}
	t.Logf("healthy %s after start", time.Since(c.started).Round(10*time.Millisecond))

	body := readmeSpan(t, filepath.Join(repo, "README.md"))
	resp, err := http.Post("http://"+c.otlpHTTP+"/v1/traces", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("README span: HTTP %d\n%s", resp.StatusCode, c.out.tail())
	}
	posted := time.Now()
	for {
		out, err := c.query("SELECT count() FROM nexus.api_calls")
		if err == nil && out == "1" {
			break
		}
		if time.Since(posted) > 15*time.Second {
			t.Fatalf("span not counted 15 s after the post: %q, %v\n%s", out, err, c.out.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("README span counted %s after the post", time.Since(posted).Round(10*time.Millisecond))
	out, err := c.query("SELECT provider, model, input_tokens, output_tokens, cost_status, cost_usd FROM nexus.api_calls")
	if err != nil || out != "openai\tgpt-4o-mini-2024-07-18\t1200\t80\tcomputed\t0.0001512" {
		t.Fatalf("README span stored as %q (%v)", out, err)
	}

	// The collector ran as the image's user, on the image's volume.
	fi, err := os.Stat(filepath.Join(root, "data", "engine"))
	if err != nil {
		t.Fatalf("no engine data in the volume /data: %v", err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != UID {
		t.Errorf("/data/engine owned by uid %d, want %d", uid, UID)
	}

	// SIGTERM, as `docker stop` sends, ends it cleanly; then the probe
	// reports it unhealthy.
	if err := c.stop(30 * time.Second); err != nil {
		t.Fatalf("stopping: %v\n%s", err, c.out.tail())
	}
	if err := c.probe(); err == nil {
		t.Error("the health probe passes with the collector stopped")
	}
}

type container struct {
	t                        testing.TB
	root                     string
	cmd                      *exec.Cmd
	out                      *syncBuffer
	done                     chan error
	started                  time.Time
	health, otlpHTTP, chHTTP string
}

// startContainer runs argv in root: unshare makes the namespaces and
// mounts /proc, then the test binary itself (TestMain, enter) chroots,
// takes the image's user and execs argv.
func startContainer(t testing.TB, root, user, dir string, env, argv []string) *container {
	t.Helper()
	uid, gid, ok := strings.Cut(user, ":")
	u, err1 := strconv.Atoi(uid)
	g, err2 := strconv.Atoi(gid)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("image user %q is not uid:gid", user)
	}
	c := &container{t: t, root: root, out: &syncBuffer{}, done: make(chan error, 1),
		health: freePort(t), otlpHTTP: freePort(t), chHTTP: freePort(t)}
	overlay := fmt.Sprintf(`extensions:
  health_check: {endpoint: %s}
  chstore: {http: {endpoint: %s}}
  nexusapi: {endpoint: %s}
receivers:
  otlp: {protocols: {grpc: {endpoint: %s}, http: {endpoint: %s}}}
service:
  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: %s}}}}]}}
`, c.health, c.chHTTP, freePort(t), freePort(t), c.otlpHTTP, portOf(freePort(t)))
	if err := os.MkdirAll(filepath.Join(root, "etc", "nexus-test"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "nexus-test", "ports.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := json.Marshal(enterSpec{Root: root, Dir: dir, UID: u, GID: g,
		Argv: append(append([]string(nil), argv...), "--config", "/etc/nexus-test/ports.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command("unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc="+filepath.Join(root, "proc"), "--", os.Args[0])
	// The image's environment only, as a runtime gives it; the price
	// sync is off so that nothing reaches the internet.
	c.cmd.Env = append(append([]string{}, env...), "NEXUS_OPENROUTER_PRICE_SYNC=false", enterEnv+"="+string(spec))
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("unshare: %v", err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(c.kill)
	return c
}

func (c *container) waitHealthy(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("the image's command exited during start: %w", err)
		default:
		}
		if c.probe() == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not healthy after %s", limit)
}

// probe runs the image's HEALTHCHECK command (a static binary) against
// the moved health port.
func (c *container) probe() error {
	cmd := exec.Command(filepath.Join(c.root, strings.TrimPrefix(ProbePath, "/")))
	cmd.Env = []string{"NEXUS_HEALTHCHECK_URL=http://" + c.health + "/"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

func (c *container) query(q string) (string, error) {
	resp, err := http.Get("http://" + c.chHTTP + "/?query=" + url.QueryEscape(q))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return strings.TrimSpace(string(b)), err
}

// stop sends SIGTERM to the collector (PID 1 of its namespace, the only
// child of unshare), which must exit 0 within limit.
func (c *container) stop(limit time.Duration) error {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", c.cmd.Process.Pid, c.cmd.Process.Pid))
	if err != nil {
		return fmt.Errorf("finding the collector's pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return fmt.Errorf("unshare's children %q: %w", raw, err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-time.After(limit):
		return fmt.Errorf("still running %s after SIGTERM", limit)
	}
}

// kill ends the whole process group and waits, so the unpacked root is
// removed only once nothing runs in it.
func (c *container) kill() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	err := <-c.done
	c.done <- err
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// readmeSpan is the README's quickstart OTLP/JSON body, with the
// timestamps the shell would fill in (as test/e2e sends it).
func readmeSpan(t testing.TB, readme string) []byte {
	t.Helper()
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	const begin, end = "<<OTLP\n", "\nOTLP\n"
	i := strings.Index(s, begin)
	if i < 0 {
		t.Fatal("README has no <<OTLP example")
	}
	j := strings.Index(s[i+len(begin):], end)
	if j < 0 {
		t.Fatal("README's <<OTLP example has no end marker")
	}
	body := s[i+len(begin) : i+len(begin)+j]
	now := time.Now().UnixNano()
	body = strings.ReplaceAll(body, "$(($(date +%s%N)+850000000))", strconv.FormatInt(now+850_000_000, 10))
	body = strings.ReplaceAll(body, "$(date +%s%N)", strconv.FormatInt(now, 10))
	if !json.Valid([]byte(body)) {
		t.Fatalf("README OTLP example is not JSON after substitution:\n%s", body)
	}
	return []byte(body)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<20 { // a runaway log must not eat the machine
		return len(p), nil
	}
	return s.b.Write(p)
}

// tail is the end of the log, where a failure's reason is.
func (s *syncBuffer) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.Bytes()
	if len(b) > 16<<10 {
		b = b[len(b)-16<<10:]
	}
	return string(b)
}

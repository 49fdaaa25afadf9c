package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// smallSpec is an image of host stand-ins (a dynamically linked binary
// for the collector, libm for the engine): every step of a real build in
// well under a second.
func smallSpec(t *testing.T) Spec {
	t.Helper()
	dir := t.TempDir()
	configs := filepath.Join(dir, "configs")
	if err := os.MkdirAll(configs, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"local.yaml": "a: 1\n", "proxy.yaml": "b: 2\n", "notes.txt": "not a config\n"} {
		if err := os.WriteFile(filepath.Join(configs, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, []byte("#!probe\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := DefaultSpec(dir)
	s.Binary, s.Engine, s.Probe, s.Configs = "/usr/bin/true", "/lib/x86_64-linux-gnu/libm.so.6", probe, configs
	overlay := filepath.Join(dir, "published.yaml")
	if err := os.WriteFile(overlay, []byte("c: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Overlays = []string{overlay}
	s.ZoneInfo = ""
	s.Version = "test"
	return s
}

func TestImageConfigFilesAndReproducibility(t *testing.T) {
	ctx := context.Background()
	s := smallSpec(t)
	img, sum, err := Build(ctx, s, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s, want OCI", mt)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" || c.WorkingDir != "/data" || c.StopSignal != "SIGTERM" {
		t.Errorf("user %q workdir %q stop %q", c.User, c.WorkingDir, c.StopSignal)
	}
	if !slices.Equal(c.Entrypoint, []string{BinaryPath}) || !slices.Equal(c.Cmd, []string{"--config", "/etc/nexus/local.yaml"}) {
		t.Errorf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
	}
	if !slices.Contains(c.Env, "NEXUS_DATA_DIR=/data") || slices.ContainsFunc(c.Env, func(e string) bool { return strings.HasPrefix(e, "CHDB_LIB_PATH=") }) {
		t.Errorf("env %q: want NEXUS_DATA_DIR=/data and no CHDB_LIB_PATH (the engine is beside the binary)", c.Env)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("volumes %v lack /data", c.Volumes)
	}
	for _, p := range []string{"4317/tcp", "4318/tcp", "8080/tcp", "8123/tcp", "13133/tcp"} {
		if _, ok := c.ExposedPorts[p]; !ok {
			t.Errorf("port %s not exposed", p)
		}
	}
	if hc := c.Healthcheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD", ProbePath}) || hc.StartPeriod < 30*time.Second {
		t.Errorf("healthcheck %+v", hc)
	}
	if len(sum.Layers) != 3 || sum.Layers[1].Name != "engine" || sum.Layers[1].Files != 1 {
		t.Errorf("layers %+v", sum.Layers)
	}
	if !strings.Contains(sum.String(), "/etc/nexus") || !strings.Contains(sum.String(), "libc.so.6") {
		t.Errorf("summary lacks the configs or libc:\n%s", sum)
	}

	root := t.TempDir()
	unpack(t, img, root)
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if !strings.Contains(read("etc/passwd"), "nexus:x:65532:65532:") || !strings.Contains(read("etc/group"), "nexus:x:65532:") {
		t.Errorf("passwd/group lack the nexus user")
	}
	if read("etc/nexus/local.yaml") != "a: 1\n" || read("etc/nexus/published.yaml") != "c: 3\n" {
		t.Error("local.yaml or the overlay not baked in")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/nexus/notes.txt")); err == nil {
		t.Error("a non-YAML file of configs/ was baked in")
	}
	for p, want := range map[string]struct {
		uid  uint32
		mode os.FileMode
	}{
		"data":                 {65532, os.ModeDir | 0o750},
		"tmp":                  {0, os.ModeDir | os.ModeSticky | 0o777},
		"etc/nexus/local.yaml": {0, 0o644}, // readable by the user though 0600 on the host
		"opt/nexus/libchdb.so": {0, 0o644},
	} {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != want.uid || fi.Mode() != want.mode {
			t.Errorf("%s: uid %d mode %v, want %d %v", p, uid, fi.Mode(), want.uid, want.mode)
		}
	}
	// The loader's path in the binary resolves inside the image, through
	// the same symlinks as on this Debian host.
	interp := resolveIn(t, root, "/lib64/ld-linux-x86-64.so.2")
	if fi, err := os.Stat(interp); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the ELF interpreter does not resolve to a file in the image: %v", err)
	}
	if _, err := os.Stat(resolveIn(t, root, "/lib/x86_64-linux-gnu/libc.so.6")); err != nil {
		t.Errorf("libc: %v", err)
	}

	// Same inputs, same digest: builds can be compared and cached.
	img2, _, err := Build(ctx, s, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := img2.Digest()
	if d1 != d2 {
		t.Errorf("two builds of the same inputs: %s and %s", d1, d2)
	}

	// Both outputs read back as the same image.
	out := t.TempDir()
	tarPath, layoutDir := filepath.Join(out, "img.tar"), filepath.Join(out, "oci")
	if err := Write(img, layoutDir, tarPath, "otelcol-nexus:test"); err != nil {
		t.Fatal(err)
	}
	fromTar, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A docker-save tarball keeps no manifest (a reader makes one up):
	// the config and the layers are what must match.
	c1, _ := img.ConfigName()
	if c, _ := fromTar.ConfigName(); c != c1 {
		t.Errorf("tarball holds config %s, want %s", c, c1)
	}
	want, _ := img.Layers()
	got, err := fromTar.Layers()
	if err != nil || len(got) != len(want) {
		t.Fatalf("tarball layers: %d, %v", len(got), err)
	}
	for i := range want {
		dw, _ := want[i].Digest()
		if dg, _ := got[i].Digest(); dg != dw {
			t.Errorf("tarball layer %d is %s, want %s", i, dg, dw)
		}
	}
	idx, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != d1 || im.Manifests[0].Annotations[LayoutName] != "otelcol-nexus:test" {
		t.Errorf("layout index %+v", im.Manifests)
	}
}

func TestBuildRefusesMissingInputs(t *testing.T) {
	s := smallSpec(t)
	s.Engine = filepath.Join(t.TempDir(), "absent.so")
	s.Config = "../local.yaml"
	_, _, err := Build(context.Background(), s, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "make engine") || !strings.Contains(err.Error(), "must be a file name") {
		t.Fatalf("Build with no engine and a path as config: %v", err)
	}
}

func TestBuildRefusesOverlayShadowingAConfig(t *testing.T) {
	s := smallSpec(t)
	s.Overlays = []string{filepath.Join(s.Configs, "local.yaml")}
	_, _, err := Build(context.Background(), s, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "two configs would be /etc/nexus/local.yaml") {
		t.Fatalf("Build with an overlay named like a config: %v", err)
	}
}

// TestPublishedOverlayNeedsItsSecrets validates the overlay for published
// ports on local.yaml with the release binary: valid with its secrets,
// refused without them, naming each.
func TestPublishedOverlayNeedsItsSecrets(t *testing.T) {
	bin := filepath.Join("..", "..", "bin", "otelcol-nexus")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the release binary is needed (run make build): %v", err)
	}
	validate := func(env ...string) (string, error) {
		cmd := exec.Command(bin, "validate", "--config", filepath.Join("..", "..", "configs", "local.yaml"),
			"--config", filepath.Join("..", "docker", "published.yaml"))
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := validate()
	if err == nil || !strings.Contains(out, "bearertokenauth: no bearer token") || !strings.Contains(out, "http.password") {
		t.Fatalf("overlay without secrets: %v\n%s", err, out)
	}
	if out, err := validate("NEXUS_OTLP_TOKEN=t0ken", "NEXUS_CH_PASSWORD=secret"); err != nil {
		t.Fatalf("overlay with its secrets: %v\n%s", err, out)
	}
}

// resolveIn follows p's symlinks as they resolve inside root.
func resolveIn(t *testing.T, root, p string) string {
	t.Helper()
	for range maxSymlinks {
		link := ""
		cur := "/"
		rest := ""
		parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
		for i, part := range parts {
			cur = filepath.Join(cur, part)
			fi, err := os.Lstat(filepath.Join(root, cur))
			if err != nil {
				t.Fatalf("%s in the image: %v", p, err)
			}
			if fi.Mode()&os.ModeSymlink != 0 {
				link, rest = cur, strings.Join(parts[i+1:], "/")
				break
			}
		}
		if link == "" {
			return filepath.Join(root, p)
		}
		target, err := os.Readlink(filepath.Join(root, link))
		if err != nil {
			t.Fatal(err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(link), target)
		}
		p = filepath.Join(target, rest)
	}
	t.Fatalf("%s: too many symlinks", p)
	return ""
}

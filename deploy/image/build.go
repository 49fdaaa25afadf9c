package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// layerSpec is one layer: what it holds and why it is apart. The engine
// has a layer of its own because it is nine tenths of the image and
// changes only with its pinned version, so a registry keeps it across
// releases of the binary.
type layerSpec struct {
	name string
	tree *tree
}

func (s Spec) layers() ([]layerSpec, error) {
	rt := newTree()
	rt.dir("/tmp", 0o777|fs.ModeSticky, 0, 0)
	rt.dir(DataDir, 0o750, UID, GID)
	rt.dir(HomeDir, 0o750, UID, GID)
	rt.bytes("/etc/passwd", 0o644, []byte(fmt.Sprintf(
		"root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:nexus:%s:/sbin/nologin\n", UserName, UID, GID, HomeDir)))
	rt.bytes("/etc/group", 0o644, []byte(fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, GID)))
	// glibc reads it for user and host look-ups from the engine; without
	// it some versions try NIS modules that are not in the image.
	rt.bytes("/etc/nsswitch.conf", 0o644, []byte("passwd: files\ngroup: files\nhosts: files dns\n"))
	if err := rt.file("/etc/ssl/certs/ca-certificates.crt", s.CACerts); err != nil {
		return nil, err
	}
	if err := rt.zoneinfo(s.ZoneInfo); err != nil {
		return nil, fmt.Errorf("adding time zones: %w", err)
	}
	libs, err := sharedLibs(s.LibDirs, s.ExtraLibs, s.Binary, s.Engine)
	if err != nil {
		return nil, fmt.Errorf("finding the shared libraries: %w", err)
	}
	for _, l := range libs {
		if err := rt.host(l); err != nil {
			return nil, err
		}
	}

	eng := newTree()
	if err := eng.file(EnginePath, s.Engine); err != nil {
		return nil, err
	}

	app := newTree()
	if err := app.file(BinaryPath, s.Binary); err != nil {
		return nil, err
	}
	if err := app.file(ProbePath, s.Probe); err != nil {
		return nil, err
	}
	configs, err := filepath.Glob(filepath.Join(s.Configs, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", s.Configs, err)
	}
	if len(configs) == 0 {
		return nil, fmt.Errorf("no *.yaml in %s", s.Configs)
	}
	for _, c := range append(configs, s.Overlays...) {
		dst := ConfigDir + "/" + filepath.Base(c)
		if _, dup := app.entries[dst]; dup {
			return nil, fmt.Errorf("two configs would be %s: %s is one", dst, c)
		}
		if err := app.file(dst, c); err != nil {
			return nil, err
		}
	}
	// Configs are read by the collector's user, never written.
	for p, e := range app.entries {
		if strings.HasPrefix(p, ConfigDir+"/") {
			e.mode = 0o644
		}
	}
	return []layerSpec{{"runtime", rt}, {"engine", eng}, {"nexus", app}}, nil
}

// Build assembles the image. Its layers are gzipped into workDir (each
// compressed once, in parallel), which must outlive the image's use.
func Build(ctx context.Context, s Spec, workDir string) (v1.Image, Summary, error) {
	if err := s.Validate(); err != nil {
		return nil, Summary{}, fmt.Errorf("image inputs: %w", err)
	}
	specs, err := s.layers()
	if err != nil {
		return nil, Summary{}, err
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, Summary{}, fmt.Errorf("creating %s: %w", workDir, err)
	}
	files := make([]string, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, ls := range specs {
		files[i] = filepath.Join(workDir, ls.name+".tar.gz")
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = writeLayer(ctx, ls.tree, files[i], s.Created)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, Summary{}, err
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, s.configFile())
	if err != nil {
		return nil, Summary{}, fmt.Errorf("setting the image config: %w", err)
	}
	adds := make([]mutate.Addendum, len(specs))
	for i, ls := range specs {
		l, err := tarball.LayerFromFile(files[i], tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, Summary{}, fmt.Errorf("reading layer %s: %w", ls.name, err)
		}
		adds[i] = mutate.Addendum{Layer: l, History: v1.History{
			Created: v1.Time{Time: s.Created}, CreatedBy: "nexus-image: " + ls.name, Comment: ls.name,
		}}
	}
	if img, err = mutate.Append(img, adds...); err != nil {
		return nil, Summary{}, fmt.Errorf("adding the layers: %w", err)
	}
	sum, err := summarize(img, specs)
	return img, sum, err
}

func writeLayer(ctx context.Context, t *tree, dst string, mtime time.Time) (err error) {
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("writing layer: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing layer %s: %w", dst, cerr)
		}
	}()
	zw, err := gzip.NewWriterLevel(f, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	if err := t.writeTar(ctxWriter{ctx, zw}, mtime); err != nil {
		return fmt.Errorf("writing layer %s: %w", dst, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("writing layer %s: %w", dst, err)
	}
	return nil
}

// ctxWriter stops a layer being written once ctx is done (a layer takes
// tens of seconds).
type ctxWriter struct {
	ctx context.Context
	w   interface{ Write([]byte) (int, error) }
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

func (s Spec) configFile() *v1.ConfigFile {
	entry, cmd := s.Command()
	ports := map[string]struct{}{}
	for _, p := range Ports {
		ports[p] = struct{}{}
	}
	return &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      v1.Time{Time: s.Created},
		Config: v1.Config{
			User:         strconv.Itoa(UID) + ":" + strconv.Itoa(GID),
			Env:          Env(),
			Entrypoint:   entry,
			Cmd:          cmd,
			WorkingDir:   DataDir,
			ExposedPorts: ports,
			Volumes:      map[string]struct{}{DataDir: {}},
			StopSignal:   "SIGTERM",
			// The engine loads in ~0.5 s cold but migrations on a large
			// store take longer: 60 s before failures count.
			Healthcheck: &v1.HealthConfig{
				Test:        []string{"CMD", ProbePath},
				Interval:    10 * time.Second,
				Timeout:     5 * time.Second,
				StartPeriod: 60 * time.Second,
				Retries:     3,
			},
			Labels: map[string]string{
				"org.opencontainers.image.title":       "Nexus",
				"org.opencontainers.image.description": "OpenTelemetry Collector distribution: spend and health of external APIs",
				"org.opencontainers.image.source":      "https://github.com/nexus-otel/nexus",
				"org.opencontainers.image.version":     s.Version,
			},
		},
	}
}

// Write stores img as an OCI layout directory and as a tarball that
// `docker load` and `podman load` take; either path may be empty.
func Write(img v1.Image, layoutDir, tarPath, tag string) error {
	if tarPath != "" {
		ref, err := name.ParseReference(tag)
		if err != nil {
			return fmt.Errorf("image tag %q: %w", tag, err)
		}
		tmp := tarPath + ".tmp"
		if err := tarball.WriteToFile(tmp, ref, img); err != nil {
			return fmt.Errorf("writing %s: %w", tarPath, err)
		}
		if err := os.Rename(tmp, tarPath); err != nil {
			return fmt.Errorf("writing %s: %w", tarPath, err)
		}
	}
	if layoutDir != "" {
		// A layout keeps every image appended to it: start afresh so the
		// directory holds this build only.
		if err := os.RemoveAll(layoutDir); err != nil {
			return fmt.Errorf("clearing %s: %w", layoutDir, err)
		}
		p, err := layout.Write(layoutDir, empty.Index)
		if err != nil {
			return fmt.Errorf("writing %s: %w", layoutDir, err)
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{LayoutName: tag})); err != nil {
			return fmt.Errorf("writing %s: %w", layoutDir, err)
		}
	}
	return nil
}

// Summary is what `make image` prints: sizes and the files by directory.
type Summary struct {
	Digest       string
	Compressed   int64 // layers as stored and pulled
	Uncompressed int64 // the root filesystem's files
	Layers       []LayerSummary
	Dirs         []DirSummary
}

// LayerSummary is one layer's size.
type LayerSummary struct {
	Name                     string
	Files                    int
	Compressed, Uncompressed int64
}

// DirSummary groups files by their directory, cut to three levels.
type DirSummary struct {
	Dir   string
	Size  int64
	Files []string // base names, when few
	Count int
}

func summarize(img v1.Image, specs []layerSpec) (Summary, error) {
	d, err := img.Digest()
	if err != nil {
		return Summary{}, fmt.Errorf("image digest: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return Summary{}, fmt.Errorf("image layers: %w", err)
	}
	sum := Summary{Digest: d.String()}
	dirs := map[string]*DirSummary{}
	for i, l := range layers {
		size, err := l.Size()
		if err != nil {
			return Summary{}, fmt.Errorf("layer size: %w", err)
		}
		ls := LayerSummary{Name: specs[i].name, Compressed: size}
		for p, e := range specs[i].tree.entries {
			if !e.mode.IsRegular() {
				continue
			}
			ls.Files++
			ls.Uncompressed += e.size
			key := filepath.Dir(p)
			if parts := strings.SplitN(key, "/", 5); len(parts) == 5 {
				key = strings.Join(parts[:4], "/")
			}
			ds := dirs[key]
			if ds == nil {
				ds = &DirSummary{Dir: key}
				dirs[key] = ds
			}
			ds.Count++
			ds.Size += e.size
			ds.Files = append(ds.Files, strings.TrimPrefix(p, key+"/"))
		}
		sum.Compressed += ls.Compressed
		sum.Uncompressed += ls.Uncompressed
		sum.Layers = append(sum.Layers, ls)
	}
	for _, ds := range dirs {
		sort.Strings(ds.Files)
		if ds.Count > 8 {
			ds.Files = nil
		}
		sum.Dirs = append(sum.Dirs, *ds)
	}
	sort.Slice(sum.Dirs, func(i, j int) bool { return sum.Dirs[i].Dir < sum.Dirs[j].Dir })
	return sum, nil
}

func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "image %s: %s compressed, %s unpacked\n", s.Digest, mb(s.Compressed), mb(s.Uncompressed))
	for _, l := range s.Layers {
		fmt.Fprintf(&b, "  layer %-8s %5d files  %9s unpacked  %9s compressed\n", l.Name, l.Files, mb(l.Uncompressed), mb(l.Compressed))
	}
	for _, d := range s.Dirs {
		fmt.Fprintf(&b, "  %-32s %4d files %9s", d.Dir, d.Count, mb(d.Size))
		if len(d.Files) > 0 {
			fmt.Fprintf(&b, "  %s", strings.Join(d.Files, " "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

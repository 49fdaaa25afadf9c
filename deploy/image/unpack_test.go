package image

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// unpack writes img's flattened root filesystem into dir, with owners and
// modes, as a container runtime would. os.Root keeps every write inside
// dir whatever the layers' names and symlinks say.
func unpack(t testing.TB, img v1.Image, dir string) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("reading the image's files: %v", err)
		}
		if err := unpackOne(root, tr, h); err != nil {
			t.Fatalf("unpacking %s: %v", h.Name, err)
		}
	}
}

func unpackOne(root *os.Root, r io.Reader, h *tar.Header) error {
	name := path.Clean(strings.TrimPrefix(h.Name, "/"))
	if name == "." {
		return nil
	}
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	mode := fs.FileMode(h.Mode).Perm()
	if h.Mode&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if err := root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case tar.TypeReg:
		f, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, io.LimitReader(r, h.Size)); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	case tar.TypeSymlink:
		return errors.Join(root.Symlink(h.Linkname, name), root.Lchown(name, h.Uid, h.Gid))
	case tar.TypeLink:
		return root.Link(path.Clean(strings.TrimPrefix(h.Linkname, "/")), name)
	default:
		return fmt.Errorf("unexpected entry type %q", h.Typeflag)
	}
	return errors.Join(root.Lchown(name, h.Uid, h.Gid), root.Chmod(name, mode))
}

// enterEnv carries an enterSpec to the test binary re-run inside new
// mount and PID namespaces (see TestMain): it mounts what a container
// runtime would, enters the root as the image's user and execs the
// image's command.
const enterEnv = "NEXUS_IMAGE_TEST_ENTER"

type enterSpec struct {
	Root string   `json:"root"`
	Dir  string   `json:"dir"`
	UID  int      `json:"uid"`
	GID  int      `json:"gid"`
	Argv []string `json:"argv"`
}

func TestMain(m *testing.M) {
	if s := os.Getenv(enterEnv); s != "" {
		err := enter(s)
		fmt.Fprintln(os.Stderr, "entering the image:", err)
		os.Exit(127)
	}
	os.Exit(m.Run())
}

// enter runs in the namespaces unshare made (its /proc is already
// mounted in the root); it returns only on failure.
func enter(raw string) error {
	var s enterSpec
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return err
	}
	if len(s.Argv) == 0 {
		return errors.New("no command")
	}
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, enterEnv+"=") {
			env = append(env, kv)
		}
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"chroot", func() error { return syscall.Chroot(s.Root) }},
		{"chdir", func() error { return syscall.Chdir(s.Dir) }},
		{"setgroups", func() error { return syscall.Setgroups(nil) }},
		{"setgid", func() error { return syscall.Setgid(s.GID) }},
		{"setuid", func() error { return syscall.Setuid(s.UID) }},
		{"exec", func() error { return syscall.Exec(s.Argv[0], s.Argv, env) }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return nil
}

// makeDevices creates the device nodes a container runtime gives every
// container. Nodes, not a bind mount of the host's /dev: removing the
// unpacked root afterwards then cannot touch the host's devices.
func makeDevices(t testing.TB, root string) {
	t.Helper()
	if err := os.MkdirAll(root+"/dev", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}} {
		dev := int((d.major << 8) | d.minor)
		if err := syscall.Mknod(root+"/dev/"+d.name, syscall.S_IFCHR|0o666, dev); err != nil {
			t.Fatalf("creating /dev/%s in the image's root (a container runtime would): %v", d.name, err)
		}
		if err := os.Chmod(root+"/dev/"+d.name, 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

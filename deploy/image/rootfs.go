package image

import (
	"archive/tar"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// entry is one file of a layer: a directory, a symlink, bytes, or a host
// file copied when the layer is written.
type entry struct {
	mode     fs.FileMode // type bits and permissions
	uid, gid int
	target   string // symlink target
	data     []byte // generated content
	src      string // host file
	size     int64
}

// tree is the content of one layer, by absolute image path.
type tree struct {
	entries map[string]*entry
}

func newTree() *tree { return &tree{entries: map[string]*entry{}} }

func (t *tree) dir(p string, perm fs.FileMode, uid, gid int) {
	t.parents(p)
	t.entries[path.Clean(p)] = &entry{mode: fs.ModeDir | perm, uid: uid, gid: gid}
}

func (t *tree) bytes(p string, perm fs.FileMode, data []byte) {
	t.parents(p)
	t.entries[path.Clean(p)] = &entry{mode: perm, data: data, size: int64(len(data))}
}

func (t *tree) symlink(p, target string) {
	t.parents(p)
	t.entries[path.Clean(p)] = &entry{mode: fs.ModeSymlink | 0o777, target: target}
}

// file adds a host file at image path p, with the host file's permissions.
func (t *tree) file(p, src string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("adding %s: %w", src, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("adding %s: not a regular file", src)
	}
	t.parents(p)
	t.entries[path.Clean(p)] = &entry{mode: fi.Mode().Perm(), src: src, size: fi.Size()}
	return nil
}

// parents adds p's missing parent directories, root-owned 0755.
func (t *tree) parents(p string) {
	for d := path.Dir(path.Clean(p)); d != "/" && d != "."; d = path.Dir(d) {
		if _, ok := t.entries[d]; ok {
			return
		}
		t.entries[d] = &entry{mode: fs.ModeDir | 0o755}
	}
}

// host adds the host path p as the image has it at the same path, with
// every symlink met on the way (Debian's /lib -> usr/lib, the loader's
// /lib64 chain) so that the paths the binaries name resolve in the image.
func (t *tree) host(p string) error {
	p = filepath.Clean(p)
	for hops := 0; ; hops++ {
		if hops > maxSymlinks {
			return fmt.Errorf("adding %s: too many symlinks", p)
		}
		link, target, err := firstSymlink(p)
		if err != nil {
			return fmt.Errorf("adding %s: %w", p, err)
		}
		if link == "" {
			return t.file(p, p)
		}
		t.symlink(link, target)
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(link), target)
		}
		p = filepath.Join(target, strings.TrimPrefix(p, link))
	}
}

// firstSymlink returns the first component of p that is a symlink.
func firstSymlink(p string) (link, target string, err error) {
	cur := "/"
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return "", "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(cur)
			return cur, target, err
		}
	}
	return "", "", nil
}

// sharedLibs returns the host paths of the libraries the ELF files load
// (their interpreter and DT_NEEDED entries, recursively) and of extra.
func sharedLibs(libDirs, extra []string, elfFiles ...string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	queue := append([]string(nil), elfFiles...)
	for _, name := range extra {
		p, err := findLib(libDirs, name)
		if err != nil {
			return nil, err
		}
		queue = append(queue, p)
		seen[p], out = true, append(out, p)
	}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		needed, interp, err := elfNeeds(f)
		if err != nil {
			return nil, err
		}
		var paths []string
		if interp != "" {
			paths = append(paths, interp)
		}
		for _, name := range needed {
			p, err := findLib(libDirs, name)
			if err != nil {
				return nil, fmt.Errorf("%s needs %s: %w", f, name, err)
			}
			paths = append(paths, p)
		}
		for _, p := range paths {
			if !seen[p] {
				seen[p], out = true, append(out, p)
				queue = append(queue, p)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func elfNeeds(f string) (needed []string, interp string, err error) {
	ef, err := elf.Open(f)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s as ELF: %w", f, err)
	}
	defer ef.Close()
	needed, err = ef.ImportedLibraries()
	if err != nil {
		return nil, "", fmt.Errorf("reading %s's libraries: %w", f, err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(io.LimitReader(p.Open(), 4096))
			if err != nil {
				return nil, "", fmt.Errorf("reading %s's interpreter: %w", f, err)
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	return needed, interp, nil
}

func findLib(dirs []string, name string) (string, error) {
	if strings.Contains(name, "/") {
		return "", fmt.Errorf("library name %q has a path", name)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", name, strings.Join(dirs, ", "))
}

// zoneinfo adds the time zone database, without the leap-second copy
// (right/) that nothing here reads, and the host's localtime.
func (t *tree) zoneinfo(root string) error {
	if root == "" {
		return nil
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "right" || rel == "localtime" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			t.dir(p, 0o755, 0, 0)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			t.symlink(p, target)
		case d.Type().IsRegular():
			return t.file(p, p)
		}
		return nil
	})
}

// writeTar writes the tree sorted by path (parents first), with fixed
// times and no host user names, so that equal inputs give equal bytes.
func (t *tree) writeTar(w io.Writer, mtime time.Time) error {
	paths := make([]string, 0, len(t.entries))
	for p := range t.entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	tw := tar.NewWriter(w)
	for _, p := range paths {
		e := t.entries[p]
		h := &tar.Header{
			Name:    strings.TrimPrefix(p, "/"),
			Mode:    int64(e.mode.Perm()),
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		switch {
		case e.mode.IsDir():
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
			if e.mode&fs.ModeSticky != 0 {
				h.Mode |= 0o1000
			}
		case e.mode&fs.ModeSymlink != 0:
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.target
		default:
			h.Typeflag, h.Size = tar.TypeReg, e.size
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := e.copyTo(tw); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	return tw.Close()
}

func (e *entry) copyTo(w io.Writer) error {
	if e.src == "" {
		_, err := w.Write(e.data)
		return err
	}
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	// The size was taken when the file was added: a file that changed
	// since would corrupt the tar stream, so it fails the build instead.
	n, err := io.Copy(w, io.LimitReader(f, e.size))
	if err == nil && n != e.size {
		err = errors.New("file shrank while the image was written")
	}
	return err
}

package secretfile

import (
	"os"
	"path/filepath"
	"testing"
)

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// A secret is written to a file of mode 0600, in a directory created
// 0700 when missing, with nothing else left behind.
func TestWriteNew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	path := filepath.Join(dir, "admin-key")
	if err := Write(path, []byte("s3cret\n")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "s3cret\n" {
		t.Fatalf("read back %q, %v", got, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm()&0o077 != 0 {
		t.Errorf("directory mode %v, readable by others", di.Mode().Perm())
	}
	if n := names(t, dir); len(n) != 1 || n[0] != "admin-key" {
		t.Errorf("directory holds %v, want only admin-key", n)
	}
}

// A file readable by others already at path is replaced, not rewritten in
// place; a symlink at path is replaced, not followed.
func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte("old and longer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "new\n" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("after replacing: %q, mode %v", got, fi.Mode().Perm())
	}

	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "untouched" {
		t.Errorf("symlink followed: target now %q", got)
	}
	li, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if !li.Mode().IsRegular() || li.Mode().Perm() != 0o600 {
		t.Errorf("path is %v, want a regular file of mode 0600", li.Mode())
	}
	if n := names(t, dir); len(n) != 3 {
		t.Errorf("directory holds %v, want secret, elsewhere and link only", n)
	}
}

// A write that fails (here: a directory stands at path, so the rename
// fails) leaves no temporary file behind, and what stood at path stays.
func TestWriteFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("s3cret\n")); err == nil {
		t.Fatal("wrote over a directory")
	}
	if n := names(t, dir); len(n) != 1 || n[0] != "secret" {
		t.Errorf("directory holds %v after a failed write, want only secret", n)
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Errorf("what stood at path changed: %v, %v", fi, err)
	}

	// A directory that cannot be made fails before any file is written.
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(file, "secret"), []byte("x")); err == nil {
		t.Fatal("wrote below a plain file")
	}
}

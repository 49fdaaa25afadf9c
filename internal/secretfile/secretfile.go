// Package secretfile writes secrets (a generated admin key or password) to
// files only their owner can read.
package secretfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write puts data at path readable by the owner only (0600). It is written
// to a new file created exclusively in the same directory and renamed over
// path: the secret is never in a file another user could open, a crash
// leaves the old file or the new one, never half of one, and a symlink or
// loose file already at path is replaced rather than followed or reused.
// Its directory is created (0700) when missing.
func Write(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	// CreateTemp opens with O_EXCL and mode 0600.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create a file in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("restrict %s: %w", f.Name(), err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("move the secret to %s: %w", path, err)
	}
	return nil
}

package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// checkNotLocked tells whether another process holds dataDir. The engine
// takes an exclusive flock on <dataDir>/status while it runs and, when it
// cannot, prints why to stderr and returns a bare NULL. Probing the same lock
// first turns that into an error that says what is wrong.
//
// flock locks belong to open file descriptions, so a probe from a process
// that already has the engine running on dataDir would fail too: callers
// probe only before their first connection (see Library.Connect).
func checkNotLocked(dataDir string) error {
	statusPath := filepath.Join(dataDir, "status")
	f, err := os.Open(statusPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", statusPath, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			owner, _ := os.ReadFile(statusPath)
			return &LockedError{Dir: dataDir, Owner: strings.TrimSpace(string(owner))}
		}
		return fmt.Errorf("probe lock on %s: %w", statusPath, err)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// LockedError reports a data directory held by another process.
type LockedError struct {
	Dir   string
	Owner string // contents of the engine's status file (PID, start time)
}

func (e *LockedError) Error() string {
	owner := strings.ReplaceAll(e.Owner, "\n", ", ")
	if owner == "" {
		owner = "unknown"
	}
	return fmt.Sprintf("data directory %q is in use by another process (%s): "+
		"the embedded engine allows one process per data directory; stop the other "+
		"process or set a different data_dir (NEXUS_DATA_DIR)", e.Dir, owner)
}

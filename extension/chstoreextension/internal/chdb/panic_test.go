package chdb

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestGoPanicStillPanics proves the signal-handler fix: with the engine
// loaded and connected, a nil-pointer dereference in Go code must crash the
// process with Go's panic report. With the engine's own SIGSEGV handler in
// place the process hangs instead.
func TestGoPanicStillPanics(t *testing.T) {
	if os.Getenv("NEXUS_CHDB_PANIC_CHILD") == "1" {
		lib := testLib(t)
		conn, err := lib.Connect(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Query("SELECT 1", "", nil); err != nil {
			t.Fatal(err)
		}
		var p *struct{ x int }
		println(p.x) // nil dereference: SIGSEGV turned into a Go panic
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestGoPanicStillPanics$")
	cmd.Env = append(os.Environ(), "NEXUS_CHDB_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("child hung after a Go panic (engine signal handlers still installed?)\n%s", out)
	}
	if err == nil {
		t.Fatalf("child exited cleanly; it should have panicked\n%s", out)
	}
	if !strings.Contains(string(out), "invalid memory address or nil pointer dereference") {
		t.Fatalf("child did not report the Go panic:\n%s", out)
	}
}

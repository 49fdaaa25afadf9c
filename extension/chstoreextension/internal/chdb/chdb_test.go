package chdb

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func testLib(t *testing.T) *Library {
	t.Helper()
	lib, err := Load("")
	if err != nil {
		t.Fatalf("load engine (run `make engine`): %v", err)
	}
	return lib
}

func TestQueryWithParams(t *testing.T) {
	lib := testLib(t)
	conn, err := lib.Connect(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	hostile := "it's \"quoted\"\n\nwith a blank line, a tab\t, a back\\slash, a NUL \x00; DROP TABLE x --"
	res, err := conn.Query("SELECT {s:String} AS s, {n:UInt64} + 1 AS n", "TabSeparatedRaw",
		map[string]string{"s": hostile, "n": "41"})
	if err != nil {
		t.Fatal(err)
	}
	want := hostile + "\t42\n"
	if string(res.Data) != want {
		t.Fatalf("got %q, want %q", res.Data, want)
	}
}

func TestEngineErrorCarriesCode(t *testing.T) {
	lib := testLib(t)
	conn, err := lib.Connect(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.Query("SELEC 1", "", nil)
	var ee *EngineError
	if !errors.As(err, &ee) {
		t.Fatalf("want EngineError, got %v", err)
	}
	if ee.Code() != 62 || !strings.Contains(ee.Error(), "Syntax error") {
		t.Fatalf("want syntax error code 62, got %d: %v", ee.Code(), ee)
	}
}

func TestStreamInsertKeepsBlankLinesAndBinary(t *testing.T) {
	lib := testLib(t)
	conn, err := lib.Connect(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Query("CREATE TABLE t (s String) ENGINE = MergeTree ORDER BY tuple()", "", nil); err != nil {
		t.Fatal(err)
	}
	// RowBinary: varint length + bytes. The values hold "\n\n" and NUL bytes,
	// which inline VALUES data would cut.
	vals := []string{"a\n\nb", "\x00\x01\n\n", strings.Repeat("x", 300)}
	var body []byte
	for _, v := range vals {
		body = appendUvarint(body, uint64(len(v)))
		body = append(body, v...)
	}
	n, err := conn.Insert("INSERT INTO t (s)", "RowBinary", body)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("rows written = %d, want 3", n)
	}
	res, err := conn.Query("SELECT sum(length(s)) FROM t", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(res.Data)); got != "308" {
		t.Fatalf("total length %s, want 308", got)
	}
	// A malformed body is refused with the engine's reason, nothing half-written.
	if _, err := conn.Insert("INSERT INTO t (s)", "RowBinary", []byte{0xff}); err == nil {
		t.Fatal("truncated RowBinary accepted")
	}
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func TestMissingLibraryNamesPaths(t *testing.T) {
	c := Candidates("/nonexistent/libchdb.so")
	if len(c) != 1 {
		t.Fatalf("explicit path must be the only candidate, got %v", c)
	}
	err := (&NotFoundError{Tried: []string{"/a/libchdb.so (not found)"}}).Error()
	for _, want := range []string{"/a/libchdb.so", "make engine", LibraryEnv} {
		if !strings.Contains(err, want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestLockedDirectory starts a second process on a data directory this
// process holds: it must fail with an error saying the directory is in use.
func TestLockedDirectory(t *testing.T) {
	if dir := os.Getenv("NEXUS_CHDB_LOCK_CHILD"); dir != "" {
		lib := testLib(t)
		_, err := lib.Connect(dir)
		var le *LockedError
		if !errors.As(err, &le) {
			t.Fatalf("child: want LockedError, got %v", err)
		}
		return
	}
	lib := testLib(t)
	dir := t.TempDir()
	conn, err := lib.Connect(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A second connection from the same process on the same directory works.
	conn2, err := lib.Connect(dir)
	if err != nil {
		t.Fatalf("second connection in-process: %v", err)
	}
	conn2.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestLockedDirectory$", "-test.v")
	cmd.Env = append(os.Environ(), "NEXUS_CHDB_LOCK_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("child did not pass:\n%s", out)
	}
}

// TestQueryFuncHandsTheEngineBuffer: QueryFunc gives fn the engine's own
// output, and the connection is free for another statement inside fn.
func TestQueryFuncHandsTheEngineBuffer(t *testing.T) {
	lib := testLib(t)
	conn, err := lib.Connect(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var outer, inner string
	err = conn.QueryFunc("SELECT number FROM numbers(3)", "CSV", nil, func(res *Result) error {
		nested, err := conn.Query("SELECT 'nested'", "TabSeparatedRaw", nil)
		if err != nil {
			return err
		}
		outer, inner = string(res.Data), string(nested.Data)
		return nil
	})
	if err != nil || outer != "0\n1\n2\n" || inner != "nested\n" {
		t.Fatalf("outer %q inner %q: %v", outer, inner, err)
	}
	err = conn.QueryFunc("SELEC 1", "", nil, func(*Result) error { t.Fatal("fn called on an error"); return nil })
	var ee *EngineError
	if !errors.As(err, &ee) || ee.Code() != 62 {
		t.Fatalf("syntax error: %v", err)
	}
}

package chhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
)

// TestQueuedRequestGivesUp: a caller waiting for a busy engine leaves when
// its context ends, and the engine is usable afterwards.
func TestQueuedRequestGivesUp(t *testing.T) {
	e := testEngine
	fill(e)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := e.Do(ctx, Request{ReadOnly: true}, func(Conn) error { return nil })
	drain(e)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
	if qe := toQueryError(err); qe.code != codeTimeoutExceeded || qe.httpStatus() != 408 {
		t.Fatalf("mapped to %+v", qe)
	}

	// Through HTTP: a client that gives up does not wedge the server.
	srv := newServer(t, Config{})
	fill(e)
	cctx, ccancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, srv.URL+"/?query=SELECT+1", nil)
	if _, err := rawClient.Do(req); err == nil {
		t.Fatal("request finished while the engine was busy")
	}
	ccancel()
	drain(e)
	wantOKBody(t, get(t, srv, q("query", "SELECT 2")), "2\n")
}

func fill(e *ConnEngine) {
	for range cap(e.slots) {
		e.slots <- struct{}{}
	}
}

func drain(e *ConnEngine) {
	for range cap(e.slots) {
		<-e.slots
	}
}

// TestTooManySimultaneousQueries: a request that waits longer than the
// queue timeout is answered 503 with ClickHouse's code 202.
func TestTooManySimultaneousQueries(t *testing.T) {
	e, err := NewEngine(testLib, testDataDir, EngineConfig{MaxConcurrent: 1, QueueTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := newServerWith(t, Config{}, e)
	fill(e)
	start := time.Now()
	r := get(t, srv, q("query", "SELECT 1"))
	drain(e)
	wantError(t, r, 503, 202, "(TOO_MANY_SIMULTANEOUS_QUERIES)")
	if d := time.Since(start); d < 100*time.Millisecond || d > 3*time.Second {
		t.Errorf("answered after %v, want about the queue timeout", d)
	}
	wantOKBody(t, get(t, srv, q("query", "SELECT 1")), "1\n")
}

// TestErrorCodeNames checks the status table's names against the engine.
func TestErrorCodeNames(t *testing.T) {
	for code, cs := range httpStatusByCode {
		res, err := testSetup.Query("SELECT errorCodeToName({c:UInt32})", "TabSeparatedRaw", map[string]string{"c": fmt.Sprint(code)})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(res.Data)); got != cs.name {
			t.Errorf("code %d is %s in the engine, table says %s", code, got, cs.name)
		}
	}
}

// engineCode runs sql on c and returns the engine's error code (0: it ran).
func engineCode(t *testing.T, c *chdb.Conn, sql string) (int, string) {
	t.Helper()
	res, err := c.Query(sql, "TabSeparatedRaw", nil)
	if err == nil {
		return 0, string(res.Data)
	}
	var ee *chdb.EngineError
	if !errors.As(err, &ee) {
		t.Fatalf("%s: %v", sql, err)
	}
	return ee.Code(), ee.Message
}

// TestEngineFacts pins down, on chDB itself, what the README's "engine
// under attack" section and this package rely on. Each fact was measured
// by hand first; a new engine version that changes one fails here.
func TestEngineFacts(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(secret, []byte("top secret\n"), 0o600)
	c, err := testLib.Connect(testDataDir, "--max_execution_time=7", "--max_result_bytes=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Connection arguments are not checked against the profile's
	// constraints (format_template_row is constant there) …
	c2, err := testLib.Connect(testDataDir, "--format_template_row="+secret)
	if err != nil {
		t.Fatal(err)
	}
	if code, out := engineCode(t, c2, "SELECT getSetting('format_template_row')"); code != 0 || out != secret+"\n" {
		t.Errorf("a connection argument naming a constant setting: %d %q", code, out)
	}
	c2.Close()
	// … but SET and SETTINGS are, at any readonly level.
	for _, sql := range []string{"SET format_template_row = 'x'", "SELECT 1 SETTINGS output_format_schema = 'x'",
		"SELECT 1 SETTINGS max_execution_time = 31", "SELECT 1 SETTINGS max_execution_time = 0",
		"SELECT 1 SETTINGS max_http_get_redirects = 3"} {
		if code, msg := engineCode(t, c, sql); code != codeSettingConstraintViolation {
			t.Errorf("%s: %d %s, want 452 from the engine profile", sql, code, msg)
		}
	}
	// Settings set before readonly=1 stick; restating one is no change.
	for _, sql := range []string{"SET max_threads = 1", "SET readonly = 1"} {
		if code, msg := engineCode(t, c, sql); code != 0 {
			t.Fatalf("%s: %d %s", sql, code, msg)
		}
	}
	facts := []struct {
		sql  string
		code int
	}{
		{"SELECT getSetting('readonly'), getSetting('max_execution_time'), getSetting('max_threads')", 0},
		{"SELECT 1 SETTINGS max_threads = 1", 0},
		{"SELECT (SELECT 1 SETTINGS max_threads = 1)", 0},
		{"SELECT 1 SETTINGS max_threads = 2", codeReadonly},
		{"SELECT 1 SETTINGS max_execution_time = 1", codeReadonly},
		{"CREATE TEMPORARY TABLE tt (a UInt8)", codeReadonly},
		{"SELECT * FROM url('http://127.0.0.1:1/x', 'LineAsString')", codeReadonly},
		{"SELECT * FROM s3('http://127.0.0.1:1/bucket/x.csv', 'CSV', 'a UInt8')", codeReadonly},
		{"SELECT * FROM remote('127.0.0.1:1', system.one)", codeReadonly},
		{"SELECT * FROM mysql('127.0.0.1:1', 'd', 't', 'u', 'p')", codeReadonly},
		{"SELECT * FROM postgresql('127.0.0.1:1', 'd', 't', 'u', 'p')", codeReadonly},
		{"SELECT * FROM file('" + secret + "', 'LineAsString')", codeReadonly},
		{"SELECT * FROM default.`" + secret + "`", codeReadonly},
		{"SELECT * FROM format(CSV, '1')", codeReadonly},
		{"SELECT * FROM zeros(1)", codeReadonly},
		{"SELECT * FROM numbers(2)", 0},
		{"SELECT * FROM generateRandom('a UInt8') LIMIT 1", 0},
	}
	for _, f := range facts {
		if code, msg := engineCode(t, c, f.sql); code != f.code {
			t.Errorf("readonly=1: %s: %d %s, want code %d", f.sql, code, msg, f.code)
		}
	}
	// The engine cannot guard these: the policy does.
	if code, out := engineCode(t, c, "SELECT file('"+secret+"')"); code != 0 || !strings.Contains(out, "top secret") {
		t.Errorf("file() at readonly=1: %d %q (the policy's deniedFunctions relies on it being the policy's job)", code, out)
	}
	if code, out := engineCode(t, c, "SELECT getSetting('readonly'), getSetting('max_execution_time') SETTINGS readonly = DEFAULT, max_execution_time = DEFAULT"); code != 0 || out != "0\t0\n" {
		t.Errorf("DEFAULT at readonly=1: %d %q", code, out)
	}
	// The limits given at connection hold: a result over max_result_bytes.
	if code, msg := engineCode(t, c, "SELECT number FROM numbers(100000)"); code != 396 {
		t.Errorf("max_result_bytes: %d %s", code, msg)
	}
}

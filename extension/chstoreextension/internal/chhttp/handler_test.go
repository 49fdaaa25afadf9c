package chhttp

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
)

// One engine per test binary: the engine allows one data directory per
// process. Tests use distinct table names.
var (
	testLib     *chdb.Library
	testSetup   *chdb.Conn // for test setup, in database "default"; the process's first connection
	testEngine  *ConnEngine
	testDataDir string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	lib, err := chdb.Load("")
	if err != nil {
		fmt.Fprintf(os.Stderr, "load engine (run `make engine`): %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "chhttp-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	testLib, testDataDir = lib, filepath.Join(dir, "data")
	profile, err := WriteEngineProfile(testDataDir, Limits{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if testSetup, err = lib.Connect(testDataDir, profile); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer testSetup.Close()
	if testEngine, err = NewEngine(lib, testDataDir, EngineConfig{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer testEngine.Close()
	return m.Run()
}

func newServer(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	return newServerWith(t, cfg, testEngine)
}

func newServerWith(t *testing.T, cfg Config, eng Engine) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(cfg, eng, zap.NewNop()))
	t.Cleanup(srv.Close)
	return srv
}

// exec runs SQL directly on the setup connection.
func exec(t *testing.T, sql string) {
	t.Helper()
	if _, err := testSetup.Query(sql, "", nil); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// fresh drops what a test is about to create, so that -count=N reruns
// start clean ("db:" marks a database).
func fresh(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if db, ok := strings.CutPrefix(n, "db:"); ok {
			exec(t, "DROP DATABASE IF EXISTS "+db)
		} else {
			exec(t, "DROP TABLE IF EXISTS "+n)
		}
	}
}

type reply struct {
	status int
	header http.Header
	body   string
}

// rawClient does not decompress responses, so tests see Content-Encoding.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func do(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, srv *httptest.Server, params url.Values) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?"+params.Encode(), nil)
	return do(t, req)
}

func post(t *testing.T, srv *httptest.Server, params url.Values, body string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/?"+params.Encode(), strings.NewReader(body))
	return do(t, req)
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func wantOK(t *testing.T, r reply) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %q", r.status, r.body)
	}
}

// wantError checks an error reply: status, code header, ClickHouse text.
func wantError(t *testing.T, r reply, status, code int, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (body %q)", r.status, status, r.body)
	}
	if got := r.header.Get("X-ClickHouse-Exception-Code"); got != fmt.Sprint(code) {
		t.Errorf("X-ClickHouse-Exception-Code %q, want %d (body %q)", got, code, r.body)
	}
	if !strings.HasPrefix(r.body, fmt.Sprintf("Code: %d. DB::Exception: ", code)) || !strings.HasSuffix(r.body, ")\n") {
		t.Errorf("body is not ClickHouse exception text: %q", r.body)
	}
	for _, c := range contains {
		if !strings.Contains(r.body, c) {
			t.Errorf("body %q lacks %q", r.body, c)
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCountTabSeparated(t *testing.T) {
	fresh(t, "t_count")
	exec(t, "CREATE TABLE t_count (a UInt64, s String) ENGINE = MergeTree ORDER BY a")
	exec(t, "INSERT INTO t_count VALUES (1, 'x'), (2, 'y'), (3, 'z')")
	srv := newServer(t, Config{DisplayName: "nexus-test"})

	r := get(t, srv, q("query", "SELECT count() FROM t_count"))
	wantOK(t, r)
	if r.body != "3\n" {
		t.Fatalf("body %q", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/tab-separated-values; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if f := r.header.Get("X-ClickHouse-Format"); f != "TabSeparated" {
		t.Errorf("X-ClickHouse-Format %q", f)
	}
	if id := r.header.Get("X-ClickHouse-Query-Id"); !uuidRE.MatchString(id) {
		t.Errorf("X-ClickHouse-Query-Id %q is not a UUID", id)
	}
	if n := r.header.Get("X-ClickHouse-Server-Display-Name"); n != "nexus-test" {
		t.Errorf("display name %q", n)
	}
	var summary map[string]string
	if err := json.Unmarshal([]byte(r.header.Get("X-ClickHouse-Summary")), &summary); err != nil {
		t.Fatalf("X-ClickHouse-Summary %q: %v", r.header.Get("X-ClickHouse-Summary"), err)
	}
	for _, k := range []string{"read_rows", "written_rows", "result_bytes", "elapsed_ns"} {
		if _, ok := summary[k]; !ok {
			t.Errorf("summary lacks %s: %v", k, summary)
		}
	}
	if summary["result_bytes"] != "2" {
		t.Errorf("result_bytes %q", summary["result_bytes"])
	}

	// A given query_id is echoed.
	r = get(t, srv, q("query", "SELECT 1", "query_id", "my-query-1"))
	if id := r.header.Get("X-ClickHouse-Query-Id"); id != "my-query-1" {
		t.Errorf("query id %q", id)
	}
	// The same query in a POST body; and the ?query= start continued by the body.
	wantOKBody(t, post(t, srv, nil, "SELECT count() FROM t_count"), "3\n")
	wantOKBody(t, post(t, srv, q("query", "SELECT count()"), "FROM t_count WHERE a > 1"), "2\n")
	wantOKBody(t, post(t, srv, q("query", "SELECT"), "1"), "1\n")
}

func wantOKBody(t *testing.T, r reply, body string) {
	t.Helper()
	wantOK(t, r)
	if r.body != body {
		t.Fatalf("body %q, want %q", r.body, body)
	}
}

func TestFormats(t *testing.T) {
	fresh(t, "t_formats")
	exec(t, "CREATE TABLE t_formats (id UInt64, name String) ENGINE = MergeTree ORDER BY id")
	exec(t, `INSERT INTO t_formats VALUES (1, 'a "quoted" name'), (2, 'tab	and
newline')`)
	srv := newServer(t, Config{})

	r := get(t, srv, q("query", "SELECT id, name FROM t_formats ORDER BY id FORMAT JSONEachRow"))
	wantOK(t, r)
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson; charset=UTF-8" {
		t.Errorf("JSONEachRow Content-Type %q", ct)
	}
	if f := r.header.Get("X-ClickHouse-Format"); f != "JSONEachRow" {
		t.Errorf("X-ClickHouse-Format %q", f)
	}
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), r.body)
	}
	var row struct {
		ID   json.Number `json:"id"`
		Name string      `json:"name"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &row); err != nil || row.Name != "tab\tand\nnewline" {
		t.Fatalf("row %q: %v %+v", lines[1], err, row)
	}

	r = get(t, srv, q("query", "SELECT id, name FROM t_formats ORDER BY id FORMAT JSON"))
	wantOK(t, r)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		t.Errorf("JSON Content-Type %q", ct)
	}
	var doc struct {
		Meta []struct{ Name, Type string }
		Data []map[string]any
		Rows int
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("FORMAT JSON is not JSON: %v\n%s", err, r.body)
	}
	if doc.Rows != 2 || len(doc.Meta) != 2 || doc.Data[0]["name"] != `a "quoted" name` {
		t.Fatalf("JSON document %+v", doc)
	}

	// default_format applies when the query has no FORMAT clause ...
	r = get(t, srv, q("query", "SELECT id FROM t_formats ORDER BY id", "default_format", "CSVWithNames"))
	wantOKBody(t, r, "\"id\"\n1\n2\n")
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=UTF-8; header=present" {
		t.Errorf("CSVWithNames Content-Type %q", ct)
	}
	if f := r.header.Get("X-ClickHouse-Format"); f != "CSVWithNames" {
		t.Errorf("X-ClickHouse-Format %q", f)
	}
	// ... and the FORMAT clause wins over it.
	r = get(t, srv, q("query", "SELECT id FROM t_formats ORDER BY id FORMAT CSV", "default_format", "JSON"))
	wantOKBody(t, r, "1\n2\n")
	if f := r.header.Get("X-ClickHouse-Format"); f != "CSV" {
		t.Errorf("X-ClickHouse-Format %q", f)
	}
	// The X-ClickHouse-Format request header works like default_format.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?"+q("query", "SELECT 7 AS x").Encode(), nil)
	req.Header.Set("X-ClickHouse-Format", "JSONEachRow")
	wantOKBody(t, do(t, req), "{\"x\":7}\n")
	// Case-insensitive names and aliases, as in the engine.
	r = get(t, srv, q("query", "SELECT 1 format tsv"))
	wantOKBody(t, r, "1\n")
	if ct := r.header.Get("Content-Type"); ct != "text/tab-separated-values; charset=UTF-8" {
		t.Errorf("tsv Content-Type %q", ct)
	}
	// Bad format names.
	wantError(t, get(t, srv, q("query", "SELECT 1 FORMAT NoSuchFormat")), 404, 73, "UNKNOWN_FORMAT")
	wantError(t, get(t, srv, q("query", "SELECT 1", "default_format", "JSON; DROP")), 404, 73)
}

func TestInsertJSONEachRow(t *testing.T) {
	fresh(t, "t_insert")
	exec(t, "CREATE TABLE t_insert (id UInt64, msg String) ENGINE = MergeTree ORDER BY id")
	srv := newServer(t, Config{})

	body := `{"id":1,"msg":"plain"}
{"id":2,"msg":"it's \"quoted\"\n\nwith blank lines; DROP TABLE t_insert --"}

{"id":3,"msg":"FORMAT CSV VALUES ('x')"}
`
	r := post(t, srv, q("query", "INSERT INTO t_insert FORMAT JSONEachRow"), body)
	wantOK(t, r)
	var summary map[string]string
	json.Unmarshal([]byte(r.header.Get("X-ClickHouse-Summary")), &summary)
	if summary["written_rows"] != "3" {
		t.Errorf("written_rows %q", summary["written_rows"])
	}
	// The whole statement in the body, data inline after the FORMAT line.
	wantOK(t, post(t, srv, nil, "INSERT INTO t_insert FORMAT JSONEachRow\n{\"id\":4,\"msg\":\"inline\"}\n"))
	// VALUES in the body.
	wantOK(t, post(t, srv, nil, "INSERT INTO t_insert (id, msg) VALUES (5, 'values; SELECT 1')"))
	// No FORMAT clause: the body is TabSeparated.
	wantOK(t, post(t, srv, q("query", "INSERT INTO t_insert"), "6\ttsv\\ttab\n7\tseven\n"))
	// INSERT … SELECT is an ordinary query.
	wantOK(t, post(t, srv, nil, "INSERT INTO t_insert SELECT 8, 'selected'"))
	// gzip-compressed body.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, `{"id":9,"msg":"gzipped"}`+"\n")
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/?"+q("query", "INSERT INTO t_insert FORMAT JSONEachRow").Encode(), &gz)
	req.Header.Set("Content-Encoding", "gzip")
	wantOK(t, do(t, req))

	r = get(t, srv, q("query", "SELECT id, msg FROM t_insert ORDER BY id FORMAT JSONEachRow"))
	wantOK(t, r)
	want := []string{
		"plain", "it's \"quoted\"\n\nwith blank lines; DROP TABLE t_insert --", "FORMAT CSV VALUES ('x')",
		"inline", "values; SELECT 1", "tsv\ttab", "seven", "selected", "gzipped",
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(r.body), "\n") {
		var row struct{ Msg string }
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, row.Msg)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("rows:\n%q\nwant\n%q", got, want)
	}

	// Malformed data: the engine's parse error, 400, nothing written.
	wantError(t, post(t, srv, q("query", "INSERT INTO t_insert FORMAT JSONEachRow"), `{"id":10,"msg":`), 400, 26, "CANNOT_PARSE_QUOTED_STRING")
	wantOKBody(t, get(t, srv, q("query", "SELECT count() FROM t_insert")), "9\n")
}

func TestParamBinding(t *testing.T) {
	fresh(t, "t_param")
	srv := newServer(t, Config{})
	hostile := "it's \"quoted\" `back`\nsecond line\twith tab, back\\slash, {braces}; DROP TABLE x; --"
	// As clients send it: TabSeparated-escaped.
	escaped := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`).Replace(hostile)
	r := get(t, srv, q("query", "SELECT {s:String} AS s, {n:UInt64} + 1 AS n FORMAT JSONEachRow", "param_s", escaped, "param_n", "41"))
	wantOK(t, r)
	var row struct {
		S string
		N json.Number
	}
	if err := json.Unmarshal([]byte(r.body), &row); err != nil {
		t.Fatalf("%q: %v", r.body, err)
	}
	if row.S != hostile || row.N.String() != "42" {
		t.Fatalf("got %q %s, want %q 42", row.S, row.N, hostile)
	}
	// Raw (unescaped) quotes and newlines arrive intact too.
	raw := "raw 'quote' and\nnewline"
	r = get(t, srv, q("query", "SELECT {s:String} FORMAT TSVRaw", "param_s", raw))
	wantOKBody(t, r, raw+"\n")
	// A parameter used as an identifier.
	exec(t, "CREATE TABLE t_param (a UInt8) ENGINE = Memory")
	exec(t, "INSERT INTO t_param VALUES (5)")
	wantOKBody(t, get(t, srv, q("query", "SELECT a FROM {tbl:Identifier}", "param_tbl", "t_param")), "5\n")
	// Missing parameter: the engine's error, 400.
	wantError(t, get(t, srv, q("query", "SELECT {missing:String}")), 400, 456)
}

func TestReadonly(t *testing.T) {
	fresh(t, "t_ro")
	exec(t, "CREATE TABLE t_ro (a UInt64) ENGINE = MergeTree ORDER BY a")
	srv := newServer(t, Config{})
	roSrv := newServer(t, Config{ReadOnly: true})

	// GET is read-only whatever the statement.
	for _, sql := range []string{
		"INSERT INTO t_ro VALUES (1)",
		"CREATE TABLE t_ro_new (a UInt8) ENGINE = Memory",
		"DROP TABLE t_ro",
		"ALTER TABLE t_ro DELETE WHERE 1",
		"TRUNCATE TABLE t_ro",
	} {
		r := get(t, srv, q("query", sql))
		wantError(t, r, 403, 164, "(READONLY)", "method GET implies readonly")
	}
	// GET with readonly=0 is still read-only.
	wantError(t, get(t, srv, q("query", "INSERT INTO t_ro VALUES (1)", "readonly", "0")), 403, 164)
	// Attempts to lift readonly are refused.
	wantError(t, get(t, srv, q("query", "INSERT INTO t_ro SETTINGS readonly = DEFAULT VALUES (1)")), 403, 164)
	wantError(t, get(t, srv, q("query", "SELECT 1 SETTINGS readonly = 0")), 403, 497, "Setting 'readonly' is not allowed")
	wantError(t, get(t, srv, q("query", "SELECT 1 SETTINGS max_threads = DEFAULT")), 403, 497, "DEFAULT")
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('readonly')", "readonly", "0")), "1\n")
	// SET is refused: a request has a connection of its own, so it would
	// change nothing, and it could change what the allow-list guards.
	wantError(t, get(t, srv, q("query", "SET readonly = DEFAULT")), 403, 497, "SET is not allowed")
	wantError(t, get(t, srv, q("query", "SET readonly = 0")), 403, 497, "SET is not allowed")
	wantError(t, post(t, srv, nil, "SET readonly = 0"), 403, 497, "SET is not allowed")
	wantError(t, get(t, srv, q("query", "INSERT INTO t_ro VALUES (1)")), 403, 164)
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('readonly')")), "1\n")
	// SETTINGS still work on the read-only path.
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_block_size') SETTINGS max_block_size = 77")), "77\n")

	// POST writes, unless the interface is read-only or readonly=1/2 is asked for.
	wantOK(t, post(t, srv, q("query", "INSERT INTO t_ro FORMAT JSONEachRow"), `{"a":1}`))
	wantError(t, post(t, roSrv, q("query", "INSERT INTO t_ro FORMAT JSONEachRow"), `{"a":2}`), 403, 164, "Cannot execute query in readonly mode")
	wantError(t, post(t, roSrv, nil, "INSERT INTO t_ro VALUES (3)"), 403, 164)
	wantError(t, post(t, roSrv, nil, "DROP TABLE t_ro"), 403, 164)
	wantError(t, post(t, srv, q("query", "INSERT INTO t_ro VALUES (4)", "readonly", "1"), ""), 403, 164)
	wantOKBody(t, post(t, roSrv, nil, "SELECT count() FROM t_ro"), "1\n")
	wantOKBody(t, get(t, srv, q("query", "SELECT count() FROM t_ro")), "1\n")
}

func TestErrors(t *testing.T) {
	srv := newServer(t, Config{})
	r := get(t, srv, q("query", "SELEC 1"))
	wantError(t, r, 400, 62, "Syntax error", "(SYNTAX_ERROR)")
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("error Content-Type %q", ct)
	}
	if r.header.Get("X-ClickHouse-Format") != "" {
		t.Errorf("error carries X-ClickHouse-Format")
	}
	wantError(t, get(t, srv, q("query", "SELECT * FROM no_such_table")), 404, 60, "(UNKNOWN_TABLE)")
	wantError(t, get(t, srv, q("query", "SELECT * FROM no_such_db.t")), 404, 81, "(UNKNOWN_DATABASE)")
	wantError(t, get(t, srv, q("query", "SELECT no_such_function(1)")), 404, 46)
	wantError(t, get(t, srv, q("query", "SELECT 1; SELECT 2")), 400, 62, "Multi-statements are not allowed")
	wantError(t, get(t, srv, q("query", "SELECT 'unclosed")), 400, 62, "is not closed")
	wantError(t, post(t, srv, nil, ""), 400, 62, "Empty query")
	wantError(t, get(t, srv, q("query", "")), 400, 62, "Empty query")
	wantError(t, get(t, srv, q("query", "SELECT throwIf(1, 'boom')")), 500, 395, "boom")
	wantError(t, get(t, srv, q("query", "SELECT 1", "compress", "1")), 501, 48)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/?query=SELECT+1", nil)
	wantError(t, do(t, req), 405, 1)
	// A trailing semicolon and comments are fine.
	wantOKBody(t, get(t, srv, q("query", "SELECT 1; -- done")), "1\n")
}

func TestAuth(t *testing.T) {
	srv := newServer(t, Config{Username: "alice", Password: "s3cret!"})
	sql := q("query", "SELECT 1")

	// No credentials: 401 with a challenge.
	r := get(t, srv, sql)
	wantError(t, r, 401, 516, "default: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)")
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("no WWW-Authenticate challenge: %v", r.header)
	}

	type method func(req *http.Request, user, pass string)
	methods := map[string]method{
		"basic": func(req *http.Request, user, pass string) { req.SetBasicAuth(user, pass) },
		"headers": func(req *http.Request, user, pass string) {
			req.Header.Set("X-ClickHouse-User", user)
			req.Header.Set("X-ClickHouse-Key", pass)
		},
		"params": func(req *http.Request, user, pass string) {
			v := req.URL.Query()
			v.Set("user", user)
			v.Set("password", pass)
			req.URL.RawQuery = v.Encode()
		},
	}
	for name, set := range methods {
		for _, c := range []struct {
			user, pass string
			ok         bool
		}{
			{"alice", "s3cret!", true},
			{"alice", "wrong", false},
			{"bob", "s3cret!", false},
			{"alice", "", false},
		} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?"+sql.Encode(), nil)
			set(req, c.user, c.pass)
			r := do(t, req)
			if c.ok {
				if r.status != 200 || r.body != "1\n" {
					t.Errorf("%s %s/%s: %d %q", name, c.user, c.pass, r.status, r.body)
				}
				continue
			}
			if r.status != 403 || r.header.Get("X-ClickHouse-Exception-Code") != "516" ||
				!strings.Contains(r.body, c.user+": Authentication failed") {
				t.Errorf("%s %s/%s: %d %q", name, c.user, c.pass, r.status, r.body)
			}
			if strings.Contains(r.body, "s3cret") {
				t.Errorf("%s: password echoed: %q", name, r.body)
			}
		}
	}
	// Two methods at once are refused, as by ClickHouse.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?"+q("query", "SELECT 1", "user", "alice", "password", "s3cret!").Encode(), nil)
	req.SetBasicAuth("alice", "s3cret!")
	wantError(t, do(t, req), 403, 516, "simultaneously")

	// Health checks need no credentials.
	resp, err := http.Get(srv.URL + "/ping")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/ping: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestPing(t *testing.T) {
	srv := newServer(t, Config{})
	for _, path := range []string{"/ping", "/replicas_status", "/"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		wantOKBody(t, do(t, req), "Ok.\n")
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/nope", nil)
	if r := do(t, req); r.status != 404 || !strings.Contains(r.body, "There is no handle /nope") {
		t.Fatalf("/nope: %d %q", r.status, r.body)
	}
}

func TestDatabase(t *testing.T) {
	fresh(t, "db:db_http_a", "db:db_http_b", "db:`db-http ``odd`")
	exec(t, "CREATE DATABASE db_http_a")
	exec(t, "CREATE DATABASE db_http_b")
	exec(t, "CREATE TABLE db_http_a.t (v String) ENGINE = Memory")
	exec(t, "CREATE TABLE db_http_b.t (v String) ENGINE = Memory")
	exec(t, "INSERT INTO db_http_a.t VALUES ('a')")
	exec(t, "INSERT INTO db_http_b.t VALUES ('b')")
	srv := newServer(t, Config{})

	wantOKBody(t, get(t, srv, q("query", "SELECT v FROM t", "database", "db_http_a")), "a\n")
	wantOKBody(t, get(t, srv, q("query", "SELECT currentDatabase()")), "default\n")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?"+q("query", "SELECT v FROM t").Encode(), nil)
	req.Header.Set("X-ClickHouse-Database", "db_http_b")
	wantOKBody(t, do(t, req), "b\n")
	wantError(t, get(t, srv, q("query", "SELECT 1", "database", "no_such_db")), 404, 81, "(UNKNOWN_DATABASE)")
	// Writes go to the named database too.
	wantOK(t, post(t, srv, q("query", "INSERT INTO t FORMAT JSONEachRow", "database", "db_http_b"), `{"v":"b2"}`))
	wantOKBody(t, get(t, srv, q("query", "SELECT count() FROM db_http_b.t")), "2\n")
	// A database name that needs quoting.
	exec(t, "CREATE DATABASE `db-http ``odd`")
	exec(t, "CREATE TABLE `db-http ``odd`.t (v String) ENGINE = Memory")
	exec(t, "INSERT INTO `db-http ``odd`.t VALUES ('odd')")
	wantOKBody(t, get(t, srv, q("query", "SELECT v FROM t", "database", "db-http `odd")), "odd\n")

	// A USE statement lasts for its own request only.
	wantOK(t, get(t, srv, q("query", "USE db_http_a")))
	wantOKBody(t, get(t, srv, q("query", "SELECT currentDatabase()")), "default\n")

	// DefaultDatabase applies when a request names none.
	srvA := newServer(t, Config{DefaultDatabase: "db_http_a"})
	wantOKBody(t, get(t, srvA, q("query", "SELECT v FROM t")), "a\n")
	wantOKBody(t, get(t, srvA, q("query", "SELECT v FROM t ORDER BY v", "database", "db_http_b")), "b\nb2\n")

	// Concurrent requests for different databases each see their own.
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := []string{"db_http_a", "db_http_b", "default"}[i%3]
			resp, err := http.Get(srv.URL + "/?" + q("query", "SELECT currentDatabase()", "database", db).Encode())
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != db+"\n" {
				errs <- fmt.Sprintf("asked %s, got %q", db, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestSettings(t *testing.T) {
	fresh(t, "t_settings")
	srv := newServer(t, Config{})
	many := "SELECT number FROM numbers(10)"

	// max_result_rows with the default overflow mode (throw): the engine's error.
	wantError(t, get(t, srv, q("query", many, "max_result_rows", "1")), 500, 396, "TOO_MANY_ROWS_OR_BYTES")
	// A setting really reaches the query, with or without a FORMAT clause.
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_block_size')", "max_block_size", "1234")), "1234\n")
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_block_size') FORMAT CSV", "max_block_size", "1234")), "1234\n")
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_block_size') FORMAT CSV SETTINGS max_threads = 1", "max_block_size", "1234")), "1234\n")
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_block_size') SETTINGS max_threads = 1", "max_block_size", "1234")), "1234\n")
	// The query's own SETTINGS win over the URL's.
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_block_size') FORMAT CSV SETTINGS max_block_size = 7", "max_block_size", "1234")), "7\n")
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_block_size') SETTINGS max_block_size = 7", "max_block_size", "1234")), "7\n")
	// An output format setting.
	r := get(t, srv, q("query", "SELECT toUInt64(5) AS n FORMAT JSONEachRow", "output_format_json_quote_64bit_integers", "1"))
	wantOKBody(t, r, "{\"n\":\"5\"}\n")
	r = get(t, srv, q("query", "SELECT toUInt64(5) AS n FORMAT JSONEachRow", "output_format_json_quote_64bit_integers", "0"))
	wantOKBody(t, r, "{\"n\":5}\n")
	// A value that would break out of its quotes stays a value.
	r = get(t, srv, q("query", "SELECT getSetting('format_csv_delimiter') FORMAT TSVRaw", "format_csv_delimiter", "'"))
	wantOKBody(t, r, "'\n")
	r = get(t, srv, q("query", "SELECT 1", "max_threads", "1'; DROP TABLE x; --"))
	if r.status == 200 || r.header.Get("X-ClickHouse-Exception-Code") == "62" || !strings.Contains(r.body, "DROP TABLE x") {
		t.Errorf("hostile setting value: %d %q", r.status, r.body)
	}

	// Setting names off the allow-list, and malformed ones.
	wantError(t, get(t, srv, q("query", "SELECT 1", "no_such_setting", "1")), 403, 497, "'no_such_setting' is not allowed")
	wantError(t, get(t, srv, q("query", "SELECT 1", "bad-name", "1")), 404, 115)
	// HTTP-only parameters are not settings.
	wantOKBody(t, get(t, srv, q("query", "SELECT 1", "wait_end_of_query", "1", "session_id", "s1",
		"buffer_size", "100", "send_progress_in_http_headers", "1", "decompress", "0")), "1\n")

	// Settings with an INSERT (header merge), INSERT … SELECT and DDL.
	wantOK(t, post(t, srv, q("query", "CREATE TABLE t_settings (a UInt64) ENGINE = MergeTree ORDER BY a", "max_threads", "1"), ""))
	wantOK(t, post(t, srv, q("query", "INSERT INTO t_settings FORMAT JSONEachRow", "max_insert_block_size", "1000"), `{"a":1}`))
	wantOK(t, post(t, srv, q("query", "INSERT INTO t_settings SETTINGS max_threads = 1 FORMAT JSONEachRow", "max_insert_block_size", "1000"), `{"a":2}`))
	wantOK(t, post(t, srv, q("query", "INSERT INTO t_settings SELECT 3", "max_threads", "1"), ""))
	wantOK(t, post(t, srv, q("query", "INSERT INTO t_settings (a) SETTINGS max_threads = 2 SELECT 4", "max_threads", "1"), ""))
	wantOK(t, post(t, srv, q("query", "INSERT INTO t_settings (SELECT 5)", "max_threads", "1"), ""))
	// An INSERT with no data is the engine's error, settings or not.
	if r := post(t, srv, q("query", "INSERT INTO t_settings", "max_threads", "1"), ""); r.status == 200 {
		t.Errorf("INSERT without data: %d %q", r.status, r.body)
	}
	// The settings reach the SELECT part too.
	wantError(t, post(t, srv, q("query", "INSERT INTO t_settings SELECT number FROM numbers(10)", "max_rows_to_read", "2"), ""), 500, 158)
	wantOKBody(t, get(t, srv, q("query", "SELECT sum(a) FROM t_settings", "max_threads", "1")), "15\n")
	// A SET statement is refused; nothing sticks to a connection anyway.
	wantError(t, post(t, srv, nil, "SET max_result_rows = 1"), 403, 497)
	wantOK(t, get(t, srv, q("query", many)))
}

func TestLocalFilesRefused(t *testing.T) {
	fresh(t, "t_infile")
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.txt")
	os.WriteFile(secret, []byte("top secret\n"), 0o600)
	outfile := filepath.Join(dir, "out.tsv")
	srv := newServer(t, Config{})

	for _, sql := range []string{
		"SELECT * FROM file('" + secret + "', 'LineAsString')",
		"SELECT file('" + secret + "')",
		"SELECT * FROM `\\x66ile`('" + secret + "', 'LineAsString')",
		"SELECT * FROM url('file://" + secret + "', 'LineAsString')",
		"SELECT * FROM url(concat('fi', 'le://" + secret + "'), 'LineAsString')",
		"SELECT * FROM filesystem('" + dir + "')",
	} {
		r := get(t, srv, q("query", sql))
		wantError(t, r, 403, 497, "ACCESS_DENIED")
		if strings.Contains(r.body, "top secret") {
			t.Fatalf("%s leaked the file", sql)
		}
	}
	wantError(t, get(t, srv, q("query", "SELECT 1 INTO OUTFILE '"+outfile+"'")), 403, 358, "INTO OUTFILE is not allowed")
	if _, err := os.Stat(outfile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("INTO OUTFILE wrote %s", outfile)
	}
	exec(t, "CREATE TABLE t_infile (s String) ENGINE = Memory")
	wantError(t, post(t, srv, nil, "INSERT INTO t_infile FROM INFILE '"+secret+"' FORMAT LineAsString"), 403, 497)
	wantError(t, post(t, srv, nil, "INSERT INTO FUNCTION file('"+outfile+"', 'CSV', 'a UInt8') VALUES (1)"), 403, 497)
	// Names in strings and comments are not calls.
	wantOKBody(t, get(t, srv, q("query", "SELECT 'file(x)' -- url('file:///')")), "file(x)\n")

}

func TestCompression(t *testing.T) {
	srv := newServer(t, Config{})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?"+q("query", "SELECT number FROM numbers(1000)", "enable_http_compression", "1").Encode(), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	r := do(t, req)
	wantOK(t, r)
	if r.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", r.header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if lines := strings.Count(string(plain), "\n"); lines != 1000 {
		t.Fatalf("%d lines after gunzip", lines)
	}
	// Without enable_http_compression the response is plain.
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/?"+q("query", "SELECT 1").Encode(), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if r := do(t, req); r.header.Get("Content-Encoding") != "" || r.body != "1\n" {
		t.Fatalf("uncompressed: %v %q", r.header, r.body)
	}
	// A bad compressed body.
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("not gzip"))
	req.Header.Set("Content-Encoding", "gzip")
	wantError(t, do(t, req), 400, 271)
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("SELECT 1"))
	req.Header.Set("Content-Encoding", "br")
	wantError(t, do(t, req), 400, 89)
}

func TestMaxBody(t *testing.T) {
	srv := newServer(t, Config{MaxBodyBytes: 100})
	wantOKBody(t, post(t, srv, nil, "SELECT 1"), "1\n")
	wantError(t, post(t, srv, nil, "SELECT '"+strings.Repeat("x", 200)+"'"), 413, 229, "too large")
	// Decompressed size counts too.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, "SELECT '"+strings.Repeat("x", 10000)+"'")
	zw.Close()
	if gz.Len() > 100 {
		t.Fatalf("test body compresses to %d bytes", gz.Len())
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", &gz)
	req.Header.Set("Content-Encoding", "gzip")
	wantError(t, do(t, req), 413, 229)
}

package chhttp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The attacks of the security issue, each through real HTTP against the
// real engine. Every one of them succeeded before the allow-list and the
// per-request readonly=1 connection.

// canaryFile is a file outside the data directory that no request may
// read or change.
type canaryFile struct{ path, content string }

func newCanaryFile(t *testing.T, name string) canaryFile {
	t.Helper()
	c := canaryFile{filepath.Join(t.TempDir(), name), "canary " + name + " 5e1d\nsecond line\n"}
	if err := os.WriteFile(c.path, []byte(c.content), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c canaryFile) intact(t *testing.T) {
	t.Helper()
	if b, err := os.ReadFile(c.path); err != nil || string(b) != c.content {
		t.Errorf("canary %s changed: %q %v", c.path, b, err)
	}
}

// wantRefused checks a ClickHouse-style refusal that names what and leaks
// none of secrets.
func wantRefused(t *testing.T, label string, r reply, what string, secrets ...string) {
	t.Helper()
	if r.status == http.StatusOK || r.header.Get("X-ClickHouse-Exception-Code") == "" ||
		!strings.HasPrefix(r.body, "Code: ") || !strings.Contains(r.body, "DB::Exception") {
		t.Errorf("%s: not refused ClickHouse-style: %d %q", label, r.status, r.body)
		return
	}
	if what != "" && !strings.Contains(strings.ToLower(r.body), strings.ToLower(what)) {
		t.Errorf("%s: refusal does not name %q: %q", label, what, r.body)
	}
	for _, s := range secrets {
		if strings.Contains(r.body, s) {
			t.Errorf("%s: answer leaks %q: %q", label, s, r.body)
		}
	}
}

func TestAttackFileRead(t *testing.T) {
	secret := newCanaryFile(t, "secret.txt")
	srv := newServer(t, Config{})
	rw := newServer(t, Config{}) // POST: the write path
	cases := []struct {
		label, sql, what string
		extra            url.Values
	}{
		{"Template row from the URL", "SELECT 1 FORMAT Template", "format_template_row", q("format_template_row", secret.path)},
		{"Template resultset from the URL", "SELECT 1 FORMAT Template", "format_template_resultset", q("format_template_resultset", secret.path)},
		{"Template in SETTINGS", "SELECT 1 FORMAT Template SETTINGS format_template_row = '" + secret.path + "'", "Template", nil},
		{"format(Template)", "SELECT * FROM format(Template, 'x') SETTINGS format_template_row = '" + secret.path + "'", "format", nil},
		{"format_template_row in a subquery", "SELECT * FROM (SELECT 1 SETTINGS format_template_row = '" + secret.path + "')", "format_template_row", nil},
		{"file()", "SELECT * FROM file('" + secret.path + "', 'LineAsString')", "file", nil},
		{"file() as a function", "SELECT file('" + secret.path + "')", "file", nil},
		{"url('file://')", "SELECT * FROM url('file://" + secret.path + "', 'LineAsString')", "url", nil},
		{"a table named by its path", "SELECT * FROM `" + secret.path + "`", "path", nil},
		{"a table parameter naming a path", "SELECT * FROM {t:Identifier}", "path", q("param_t", secret.path)},
	}
	for _, c := range cases {
		params := q("query", c.sql)
		for k, v := range c.extra {
			params[k] = v
		}
		wantRefused(t, c.label, get(t, srv, params), c.what, "canary", "second line")
		wantRefused(t, c.label+" (POST)", post(t, rw, params, ""), c.what, "canary", "second line")
	}
	secret.intact(t)
}

func TestAttackFileWrite(t *testing.T) {
	existing := newCanaryFile(t, "existing.proto")
	fresh := filepath.Join(t.TempDir(), "created.proto")
	errorsLog := filepath.Join(t.TempDir(), "errors.log")
	srv := newServer(t, Config{})
	cases := []struct {
		label, sql, what string
		extra            url.Values
	}{
		{"Protobuf schema truncating a file", "SELECT 1 AS `x\nany-line\n` FORMAT Protobuf", "output_format_schema", q("output_format_schema", existing.path)},
		{"Protobuf schema creating a file", "SELECT 1 AS `x\nany-line\n` FORMAT Protobuf", "output_format_schema", q("output_format_schema", fresh)},
		{"schema in SETTINGS", "SELECT 1 AS `x` FORMAT Protobuf SETTINGS output_format_schema = '" + fresh + "'", "Protobuf", nil},
		{"record-errors file", "SELECT * FROM format(CSV, 'a\nb')", "input_format_record_errors_file_path",
			q("input_format_record_errors_file_path", errorsLog, "input_format_allow_errors_num", "10")},
		{"INTO OUTFILE", "SELECT 1 INTO OUTFILE '" + fresh + "'", "OUTFILE", nil},
	}
	for _, c := range cases {
		params := q("query", c.sql)
		for k, v := range c.extra {
			params[k] = v
		}
		wantRefused(t, c.label, get(t, srv, params), c.what)
		wantRefused(t, c.label+" (POST)", post(t, srv, params, ""), c.what)
	}
	// An INSERT's VALUES are expressions the engine evaluates.
	fresh2 := filepath.Join(t.TempDir(), "via-values")
	wantRefused(t, "file() in VALUES", post(t, srv, q("query", "INSERT INTO FUNCTION null('s String') VALUES"), "(file('"+fresh2+"'))"), "file")
	existing.intact(t)
	for _, p := range []string{fresh, errorsLog, fresh2} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s was created (%v)", p, err)
		}
	}
}

func TestAttackSSRF(t *testing.T) {
	var hits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "internal secret\n")
	}))
	defer internal.Close()
	host := strings.TrimPrefix(internal.URL, "http://")
	fresh(t, "t_ssrf")
	exec(t, "CREATE TABLE t_ssrf (s String) ENGINE = Memory")
	srv := newServer(t, Config{})
	for _, c := range []struct{ sql, what string }{
		{"SELECT * FROM url('" + internal.URL + "/x', 'LineAsString')", "url"},
		{"SELECT * FROM urlCluster('default', '" + internal.URL + "/x', 'LineAsString')", "urlCluster"},
		{"SELECT * FROM s3('" + internal.URL + "/bucket/key', 'LineAsString')", "s3"},
		{"SELECT * FROM remote('" + host + "', system.one)", "remote"},
		{"SELECT * FROM remoteSecure('" + host + "', system.one)", "remoteSecure"},
		{"SELECT * FROM mysql('" + host + "', 'db', 't', 'u', 'p')", "mysql"},
		{"SELECT * FROM postgresql('" + host + "', 'db', 't', 'u', 'p')", "postgresql"},
		{"SELECT * FROM mongodb('" + host + "', 'db', 'c', 'u', 'p', 'x String')", "mongodb"},
		{"SELECT * FROM redis('" + host + "', 'k', 'k String')", "redis"},
		{"SELECT * FROM azureBlobStorage('" + internal.URL + "', 'c', 'b')", "azureBlobStorage"},
		{"SELECT * FROM hdfs('hdfs://" + host + "/x', 'LineAsString')", "hdfs"},
		{"SELECT * FROM cluster('default', system.one)", "cluster"},
		{"SELECT (SELECT count() FROM url('" + internal.URL + "/y', 'LineAsString'))", "url"},
		{"SELECT * FROM `url`('" + internal.URL + "/z', 'LineAsString')", "url"},
		{"INSERT INTO t_ssrf SELECT * FROM url('" + internal.URL + "/w', 'LineAsString')", "url"},
		{"CREATE TABLE t_ssrf2 (s String) ENGINE = URL('" + internal.URL + "/v', LineAsString)", "URL"},
	} {
		what := c.what
		if kind := strings.Fields(c.sql)[0]; kind != "SELECT" {
			what = kind // refused on GET for writing, before its url
		}
		wantRefused(t, c.sql, get(t, srv, q("query", c.sql)), what, "internal secret")
		wantRefused(t, c.sql+" (POST)", post(t, srv, nil, c.sql), c.what, "internal secret")
	}
	wantRefused(t, "max_http_get_redirects", get(t, srv, q("query", "SELECT 1", "max_http_get_redirects", "10")), "max_http_get_redirects")
	if n := hits.Load(); n != 0 {
		t.Fatalf("the internal listener received %d requests", n)
	}
}

func TestAttackCrossOrigin(t *testing.T) {
	const listed = "https://grafana.example.com"
	srv := newServer(t, Config{CORSAllowedOrigins: []string{listed}, AllowedHosts: []string{"nexus.internal"}})
	query := q("query", "SELECT 1", "add_http_cors_header", "1")
	send := func(method, host, origin string, hdr ...string) reply {
		req, _ := http.NewRequest(method, srv.URL+"/?"+query.Encode(), nil)
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return do(t, req)
	}
	// An unlisted origin: no CORS header, add_http_cors_header or not, and
	// its preflight gets none either.
	for _, method := range []string{http.MethodGet, http.MethodOptions} {
		r := send(method, "", "http://evil.example", "Access-Control-Request-Method", "POST")
		if v := r.header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s from an unlisted origin: Access-Control-Allow-Origin %q", method, v)
		}
	}
	// The listed one gets them, preflight included.
	r := send(http.MethodGet, "", listed)
	if r.header.Get("Access-Control-Allow-Origin") != listed || r.body != "1\n" {
		t.Errorf("listed origin: %q %q", r.header.Get("Access-Control-Allow-Origin"), r.body)
	}
	r = send(http.MethodOptions, "", listed, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization")
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != listed ||
		!strings.Contains(strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("listed origin preflight: %d %v", r.status, r.header)
	}
	// DNS rebinding: a foreign name in Host is refused, on every path.
	for _, path := range []string{"/?" + query.Encode(), "/ping"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Host = "rebind.evil.example:8123"
		wantRefused(t, "foreign Host "+path, do(t, req), "rebind.evil.example")
	}
	for _, host := range []string{"localhost:8123", "127.0.0.1", "[::1]:8123", "10.1.2.3:8123", "NEXUS.internal:8123", "localhost."} {
		if r := send(http.MethodGet, host, ""); r.status != http.StatusOK {
			t.Errorf("Host %s refused: %d %q", host, r.status, r.body)
		}
	}
}

func TestAttackExhaustionAndState(t *testing.T) {
	limits := Limits{MaxExecutionTime: 2 * time.Second, MaxResultBytes: 1 << 20}
	eng, err := NewEngine(testLib, testDataDir, EngineConfig{Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	srv := newServerWith(t, Config{Limits: limits}, eng)

	// Limits from the URL or SETTINGS may not be lifted or raised.
	for _, s := range []string{"max_execution_time", "max_memory_usage", "max_result_rows", "max_result_bytes"} {
		wantRefused(t, s+"=0 (URL)", get(t, srv, q("query", "SELECT 1", s, "0")), s)
		wantRefused(t, s+" = 0 (SETTINGS)", get(t, srv, q("query", "SELECT 1 SETTINGS "+s+" = 0")), s)
	}
	wantRefused(t, "raised (URL)", get(t, srv, q("query", "SELECT 1", "max_execution_time", "100000")), "max_execution_time")
	wantRefused(t, "DEFAULT", get(t, srv, q("query", "SELECT 1 SETTINGS max_execution_time = DEFAULT")), "DEFAULT")
	// clickhouse-go puts its deadline + 5 s there: lowered to the limit.
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_execution_time')", "max_execution_time", "65",
		"client_protocol_version", "54460")), "2\n")
	// Lowering works, in the URL and in SETTINGS.
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_execution_time') SETTINGS max_execution_time = 1")), "1\n")

	// A statement that would run for hours ends at the engine's limit.
	start := time.Now()
	r := get(t, srv, q("query", "SELECT sum(number) FROM numbers(10000000000000)"))
	wantError(t, r, 408, 159, "Timeout exceeded")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("numbers(1e13) ran %v with a 2 s limit", d)
	}
	// A result cannot grow past max_result_bytes, so nothing large is buffered.
	wantError(t, get(t, srv, q("query", "SELECT number FROM numbers(10000000)")), 500, 396, "Limit for result exceeded")

	// Nothing outlives its request: temporary tables and SET are refused,
	// and a table created on the write path's connection… is a real table,
	// while a temporary one cannot be made at all.
	for _, s := range []*httptest.Server{srv} {
		wantRefused(t, "CREATE TEMPORARY TABLE", get(t, s, q("query", "CREATE TEMPORARY TABLE leak AS SELECT 1 AS x")), "CREATE")
		wantRefused(t, "CREATE TEMPORARY TABLE (POST)", post(t, s, nil, "CREATE TEMPORARY TABLE leak AS SELECT 1 AS x"), "TEMPORARY")
		if r := get(t, s, q("query", "SELECT * FROM leak")); r.status == http.StatusOK {
			t.Errorf("a temporary table outlived its request: %q", r.body)
		}
		wantRefused(t, "SET", get(t, s, q("query", "SET max_execution_time = 0")), "SET")
		wantRefused(t, "SYSTEM", get(t, s, q("query", "SYSTEM DROP DNS CACHE")), "SYSTEM")
	}
	// Settings of one request do not reach the next.
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_block_size')", "max_block_size", "77")), "77\n")
	wantOKBody(t, get(t, srv, q("query", "SELECT getSetting('max_block_size') != 77")), "1\n")
}

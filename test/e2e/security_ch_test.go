package e2e

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

// The attacks of the security issue against the ClickHouse HTTP interface
// of the built binary with configs/local.yaml, each as a hostile local
// process or web page would send it. Every refusal must cost nothing else:
// canary files stay untouched, a local listener receives no request, and
// the collector keeps answering.

// chAnswer is one raw answer of the ClickHouse HTTP interface.
type chAnswer struct {
	status int
	body   string
	header http.Header
}

// chRequest sends method to the interface with the raw query string q and
// the given headers (a "Host" entry sets the request's Host).
func chRequest(t *testing.T, col *collector, method, q string, hdr map[string]string) chAnswer {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+col.chHTTP+"/?"+q, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 90 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s /?%s: %v", method, q, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return chAnswer{status: resp.StatusCode, body: string(body), header: resp.Header}
}

// chGet runs sql with extra URL parameters as a GET.
func chGet(t *testing.T, col *collector, sql string, extra url.Values) chAnswer {
	t.Helper()
	v := url.Values{"query": {sql}}
	for k, vs := range extra {
		v[k] = vs
	}
	return chRequest(t, col, http.MethodGet, v.Encode(), nil)
}

// refused asserts that an answer is a ClickHouse-style refusal that
// mentions want (the statement, function or setting), and that it leaks
// none of the secrets.
func refused(t *testing.T, what string, a chAnswer, want string, secrets ...string) {
	t.Helper()
	if a.status == http.StatusOK {
		t.Errorf("%s: answered 200: %.300s", what, a.body)
		return
	}
	if !strings.Contains(a.body, "DB::Exception") || a.header.Get("X-ClickHouse-Exception-Code") == "" {
		t.Errorf("%s: HTTP %d is not a ClickHouse-style error: %.300s", what, a.status, a.body)
	}
	if want != "" && !strings.Contains(strings.ToLower(a.body), strings.ToLower(want)) {
		t.Errorf("%s: the refusal does not name %q: %.300s", what, want, a.body)
	}
	for _, s := range secrets {
		if strings.Contains(a.body, s) {
			t.Errorf("%s: the answer leaks %q: %.300s", what, s, a.body)
		}
	}
}

// canary is a file outside the data directory that no request may read,
// create, truncate or change.
type canary struct {
	path, content string
}

func newCanary(t *testing.T, name string) canary {
	t.Helper()
	c := canary{path: filepath.Join(t.TempDir(), name), content: "canary-" + name + "-7f3a9c\nsecond line\n"}
	if err := os.WriteFile(c.path, []byte(c.content), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c canary) intact(t *testing.T) {
	t.Helper()
	got, err := os.ReadFile(c.path)
	if err != nil || string(got) != c.content {
		t.Errorf("canary %s changed: %q, %v", c.path, got, err)
	}
}

// absent asserts that no request created path.
func absent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s was created (stat: %v)", path, err)
	}
}

// stillServes asserts that the interface still answers a plain query.
func stillServes(t *testing.T, col *collector) {
	t.Helper()
	if out, err := col.query("SELECT 1"); err != nil || out != "1" {
		t.Fatalf("the interface no longer answers: %q, %v", out, err)
	}
}

// Attack 1: reading any file through format settings and format().
func TestSecurityCHFileRead(t *testing.T) {
	col := newCollector(t, t.TempDir())
	col.start()
	secret := newCanary(t, "secret.txt")

	for _, c := range []struct {
		name, sql, want string
		extra           url.Values
	}{
		{"Template row from the URL", "SELECT 1 FORMAT Template", "format_template_row",
			url.Values{"format_template_row": {secret.path}}},
		{"Template resultset from the URL", "SELECT 1 FORMAT Template", "format_template_resultset",
			url.Values{"format_template_resultset": {secret.path}}},
		{"Template in a SETTINGS clause", "SELECT 1 FORMAT Template SETTINGS format_template_row = '" + secret.path + "'", "", nil},
		{"format() reading a template file", "SELECT * FROM format(Template, 'x') SETTINGS format_template_row = '" + secret.path + "'", "", nil},
		{"file()", "SELECT * FROM file('" + secret.path + "', 'LineAsString')", "file", nil},
		{"url('file://')", "SELECT * FROM url('file://" + secret.path + "', 'LineAsString')", "url", nil},
	} {
		a := chGet(t, col, c.sql, c.extra)
		refused(t, c.name, a, c.want, "canary-secret", "second line")
	}
	secret.intact(t)
	stillServes(t, col)
}

// Attack 2: creating or truncating files through schema and error-log
// settings, with a GET (an <img src> on any page).
func TestSecurityCHFileWrite(t *testing.T) {
	col := newCollector(t, t.TempDir())
	col.start()
	existing := newCanary(t, "existing.proto")
	fresh := filepath.Join(t.TempDir(), "created.proto")
	errorsLog := filepath.Join(t.TempDir(), "errors.log")

	for _, c := range []struct {
		name, sql, want string
		extra           url.Values
	}{
		{"Protobuf schema truncating a file", "SELECT 1 AS `x\nany-line\n` FORMAT Protobuf", "output_format_schema",
			url.Values{"output_format_schema": {existing.path}}},
		{"Protobuf schema creating a file", "SELECT 1 AS `x\nany-line\n` FORMAT Protobuf", "output_format_schema",
			url.Values{"output_format_schema": {fresh}}},
		{"schema in a SETTINGS clause", "SELECT 1 AS `x\nany-line\n` FORMAT Protobuf SETTINGS output_format_schema = '" + fresh + "'", "", nil},
		{"record-errors file", "SELECT * FROM format(CSV, 'a\nb')", "input_format_record_errors_file_path",
			url.Values{"input_format_record_errors_file_path": {errorsLog}, "input_format_allow_errors_num": {"10"}}},
		{"INTO OUTFILE", "SELECT 1 INTO OUTFILE '" + fresh + "'", "OUTFILE", nil},
	} {
		refused(t, c.name, chGet(t, col, c.sql, c.extra), c.want)
	}
	existing.intact(t)
	absent(t, fresh)
	absent(t, errorsLog)
	stillServes(t, col)
}

// Attack 3: requests to other hosts (SSRF) through network table functions
// and redirects. A local listener stands for the internal service.
func TestSecurityCHNoRequestLeaves(t *testing.T) {
	col := newCollector(t, t.TempDir())
	col.start()
	var hits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "internal-secret\n")
	}))
	defer internal.Close()
	host := strings.TrimPrefix(internal.URL, "http://")

	for _, c := range []struct{ name, sql, want string }{
		{"url()", "SELECT * FROM url('" + internal.URL + "/x', 'LineAsString')", "url"},
		{"urlCluster()", "SELECT * FROM urlCluster('default', '" + internal.URL + "/x', 'LineAsString')", "urlCluster"},
		{"s3()", "SELECT * FROM s3('" + internal.URL + "/bucket/key', 'LineAsString')", "s3"},
		{"remote()", "SELECT * FROM remote('" + host + "', system.one)", "remote"},
		{"remoteSecure()", "SELECT * FROM remoteSecure('" + host + "', system.one)", "remoteSecure"},
		{"mysql()", "SELECT * FROM mysql('" + host + "', 'db', 't', 'u', 'p')", "mysql"},
		{"postgresql()", "SELECT * FROM postgresql('" + host + "', 'db', 't', 'u', 'p')", "postgresql"},
		{"mongodb()", "SELECT * FROM mongodb('" + host + "', 'db', 'c', 'u', 'p', 'x String')", "mongodb"},
		{"redis()", "SELECT * FROM redis('" + host + "', 'k', 'k String')", "redis"},
		{"azureBlobStorage()", "SELECT * FROM azureBlobStorage('" + internal.URL + "', 'c', 'b')", "azureBlobStorage"},
		{"hdfs()", "SELECT * FROM hdfs('hdfs://" + host + "/x', 'LineAsString')", "hdfs"},
		{"cluster()", "SELECT * FROM cluster('default', system.one)", "cluster"},
		{"url() in a subquery", "SELECT (SELECT count() FROM url('" + internal.URL + "/y', 'LineAsString'))", "url"},
		{"url() as a quoted name", "SELECT * FROM `url`('" + internal.URL + "/z', 'LineAsString')", "url"},
	} {
		refused(t, c.name, chGet(t, col, c.sql, nil), c.want, "internal-secret")
	}
	refused(t, "max_http_get_redirects from the URL", chGet(t, col, "SELECT 1",
		url.Values{"max_http_get_redirects": {"10"}}), "max_http_get_redirects")
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal listener received %d requests", n)
	}
	stillServes(t, col)
}

// Attack 4: answers readable by any web page, DNS rebinding, and an
// interface exposed beyond loopback without credentials.
func TestSecurityCHCrossOrigin(t *testing.T) {
	col := newCollector(t, t.TempDir())
	col.start()
	q := url.Values{"query": {"SELECT name FROM system.tables LIMIT 1"}, "add_http_cors_header": {"1"}}.Encode()

	a := chRequest(t, col, http.MethodGet, q, map[string]string{"Origin": "http://evil.example"})
	if v := a.header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("GET from an unlisted origin got Access-Control-Allow-Origin %q", v)
	}
	pre := chRequest(t, col, http.MethodOptions, q, map[string]string{
		"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
	if v := pre.header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("pre-flight from an unlisted origin got Access-Control-Allow-Origin %q", v)
	}
	// DNS rebinding: the page's own name resolves to 127.0.0.1, so the
	// browser sends that name as Host.
	reb := chRequest(t, col, http.MethodGet, url.Values{"query": {"SELECT 1"}}.Encode(),
		map[string]string{"Host": "rebind.evil.example:8123"})
	if reb.status == http.StatusOK {
		t.Errorf("a foreign Host header was answered: %q", reb.body)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]"} {
		ok := chRequest(t, col, http.MethodGet, url.Values{"query": {"SELECT 1"}}.Encode(),
			map[string]string{"Host": host + ":8123"})
		if ok.status != http.StatusOK {
			t.Errorf("Host %s refused: HTTP %d %s", host, ok.status, ok.body)
		}
	}

	// A listed origin is allowed, and only that one.
	const origin = "https://grafana.example.com"
	listed := newCollector(t, t.TempDir())
	listed.start("--set=extensions::chstore::http::cors_allowed_origins=[" + origin + "]")
	a = chRequest(t, listed, http.MethodGet, q, map[string]string{"Origin": origin})
	if v := a.header.Get("Access-Control-Allow-Origin"); v != origin {
		t.Errorf("listed origin: Access-Control-Allow-Origin %q, want %q", v, origin)
	}

	// Off loopback without credentials: refused at start, naming the key.
	open := newCollector(t, t.TempDir())
	open.run("--set=extensions::chstore::http::endpoint=0.0.0.0:" + strings.Split(freePort(t), ":")[1])
	if err := open.wait(60 * time.Second); err == nil {
		t.Fatalf("started with the ClickHouse interface on 0.0.0.0 and no credentials\n%s", open.out)
	}
	if !strings.Contains(open.out.String(), "http.username") {
		t.Errorf("the refusal does not name http.username:\n%s", open.out)
	}
}

// Attack 5: limits raised from the request, statements that hold the
// connection for hours, and state that outlives its request.
func TestSecurityCHExhaustionAndState(t *testing.T) {
	col := newCollector(t, t.TempDir())
	// The engine-enforced time limit, lowered so the test is quick.
	col.start("--set=extensions::chstore::http::max_execution_time=4s")

	for _, s := range []string{"max_execution_time", "max_memory_usage", "max_result_rows", "max_result_bytes"} {
		refused(t, s+"=0 from the URL", chGet(t, col, "SELECT 1", url.Values{s: {"0"}}), s)
		refused(t, s+" = 0 in SETTINGS", chGet(t, col, "SELECT 1 SETTINGS "+s+" = 0", nil), s)
	}
	refused(t, "max_execution_time raised", chGet(t, col, "SELECT 1", url.Values{"max_execution_time": {"100000"}}), "max_execution_time")

	// A statement that would run for hours: the engine ends it at the
	// limit, and ingestion and other readers go on meanwhile.
	type answer struct {
		status int
		body   string
		took   time.Duration
	}
	long := make(chan answer, 1)
	began := time.Now()
	go func() {
		resp, err := http.Get("http://" + col.chHTTP + "/?query=" + url.QueryEscape("SELECT sum(number) FROM numbers(10000000000000)"))
		if err != nil {
			long <- answer{body: err.Error(), took: time.Since(began)}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		long <- answer{status: resp.StatusCode, body: string(body), took: time.Since(began)}
	}()
	time.Sleep(200 * time.Millisecond)
	if code := postJSON(t, col, readmeSpan(t)); code != http.StatusOK {
		t.Fatalf("OTLP during the long query: HTTP %d", code)
	}
	if _, err := col.waitForCount("SELECT count() FROM nexus.api_calls", "1", 10*time.Second); err != nil {
		t.Errorf("ingestion during the long query: %v", err)
	}
	a := <-long
	if a.status == http.StatusOK {
		t.Errorf("numbers(1e13) answered: %.200s", a.body)
	}
	if a.took > 20*time.Second {
		t.Errorf("numbers(1e13) held the connection for %s", a.took)
	}
	t.Logf("numbers(1e13): HTTP %d after %s: %.200s", a.status, a.took, a.body)
	stillServes(t, col)

	refused(t, "CREATE TEMPORARY TABLE", chGet(t, col, "CREATE TEMPORARY TABLE leak AS SELECT 1 AS x", nil), "CREATE")
	if a := chGet(t, col, "SELECT * FROM leak", nil); a.status == http.StatusOK {
		t.Errorf("a temporary table outlived its request: %q", a.body)
	}
	refused(t, "SET", chGet(t, col, "SET max_execution_time = 0", nil), "SET")
	refused(t, "system.* mutation", chGet(t, col, "SYSTEM DROP DNS CACHE", nil), "SYSTEM")
}

// Package chhttp serves ClickHouse's HTTP interface over the embedded engine,
// so that people and tools can query the embedded store as they would a
// ClickHouse server:
//
//	curl 'http://127.0.0.1:8123/?query=SELECT+count()+FROM+nexus.api_calls'
//	echo 'SELECT 1 FORMAT JSON' | curl --data-binary @- http://127.0.0.1:8123/
//	curl --data-binary @rows.ndjson 'http://127.0.0.1:8123/?query=INSERT+INTO+t+FORMAT+JSONEachRow'
//
// What it does as ClickHouse does (https://clickhouse.com/docs/interfaces/http):
//
//   - GET /?query=… runs read-only; POST runs the body as the query, or, with
//     ?query=…, appends the body to it — for an INSERT the body is its data,
//     streamed to the engine, never spliced into SQL.
//   - The result format is the query's FORMAT clause, else the default_format
//     parameter (or X-ClickHouse-Format request header), else TabSeparated;
//     Content-Type follows the format. X-ClickHouse-Query-Id,
//     X-ClickHouse-Format, X-ClickHouse-Summary and
//     X-ClickHouse-Server-Display-Name are set.
//   - database=… (or X-ClickHouse-Database) sets the current database,
//     param_<name>=… binds {name:Type} placeholders (values in TSV-escaped
//     form, as ClickHouse takes them), any other parameter is a query-level
//     setting.
//   - Credentials by HTTP basic auth, X-ClickHouse-User/X-ClickHouse-Key, or
//     user/password parameters.
//   - Errors answer with the engine's own "Code: N. DB::Exception: …" text,
//     X-ClickHouse-Exception-Code, and the HTTP status ClickHouse maps the
//     code to. /ping and /replicas_status answer "Ok.".
//
// How it differs:
//
//   - The result is complete before anything is sent (as with
//     wait_end_of_query=1), so the status code is always truthful.
//   - No sessions: session_id is ignored and a SET statement is accepted and
//     has no effect beyond itself — exactly what a session-less ClickHouse
//     request does, but without the engine connection keeping the setting.
//   - Multi-statements are refused (as ClickHouse's HTTP interface does; the
//     engine would run them all).
//   - Settings from the URL are applied as a query-level SETTINGS clause
//     added after the statement's FORMAT clause (one is added when the query
//     has none); a SETTINGS clause already there is extended, with the
//     query's own values winning. Setting names must be plain identifiers and
//     values are quoted string literals, so nothing from the URL is spliced
//     unquoted. Parameters only the HTTP interface knows (compress, user,
//     session_id, wait_end_of_query…) are not passed as settings; compress=1
//     and decompress=1 (ClickHouse's own block compression) are refused as
//     not implemented — use enable_http_compression=1 with
//     Accept-Encoding: gzip, and Content-Encoding: gzip/deflate for bodies.
//   - Local files: the engine, unlike a server, lets any query read and write
//     any file the process can (file(), url('file://…'), INTO OUTFILE, FROM
//     INFILE…). Those are refused unless Config.AllowLocalFiles; INTO OUTFILE
//     always is, as on a server.
//   - Read-only requests run on a connection opened with readonly=2, so the
//     engine refuses writes itself; the one way around that the engine leaves
//     open, "SETTINGS readonly = DEFAULT", is refused before it gets there.
//   - X-ClickHouse-Summary has ClickHouse's keys, but the engine reports only
//     rows read and written: read_bytes, written_bytes and total_rows_to_read
//     are "0", result_bytes is the size of the answer.
//   - Native is the engine's, as ClickHouse writes it for protocol revision
//     0. clickhouse-go's HTTP handshake (the query of displayName(),
//     version(), revision(), timezone()) is answered here in the client's
//     revision, reporting revision 0, so that clickhouse-go — and the
//     Grafana data source built on it — then reads the engine's blocks as
//     they are (see native.go). A SELECT without rows answers Native with
//     a header-only block, as a server does, where the engine sends nothing.
//   - At most 4 MiB of SQL is parsed per request (an INSERT's data is not
//     SQL); the engine's own max_query_size (256 KiB unless raised) applies
//     first.
//
// Wiring:
//
//	rw, ro, err := chhttp.OpenConns(lib, dataDir) // dedicated connections
//	h := chhttp.NewHandler(cfg, chhttp.NewConnEngine(rw, ro), logger)
package chhttp

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/internal/chdb"
)

// DefaultMaxBodyBytes limits a request body when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 20

// Config configures the HTTP interface.
type Config struct {
	// Endpoint is where the interface listens ("127.0.0.1:8123"); the
	// handler itself does not use it.
	Endpoint string
	// ReadOnly refuses writes on every request (POST included).
	ReadOnly bool
	// Username and Password, when either is set, are required on every
	// query (an empty Username then means "default"). When both are empty
	// any credentials are accepted.
	Username string
	Password string
	// DefaultDatabase is the current database when a request names none
	// ("" = the engine's "default").
	DefaultDatabase string
	// MaxBodyBytes limits a request body, after decompression
	// (0 = DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// AllowLocalFiles lets queries use the engine's local-file access
	// (file(), url('file://…'), FROM INFILE, …), which is unrestricted in
	// the embedded engine. Off by default.
	AllowLocalFiles bool
	// DisplayName is sent as X-ClickHouse-Server-Display-Name
	// ("" = the host name).
	DisplayName string
}

// NewHandler returns the HTTP interface over eng.
func NewHandler(cfg Config, eng Engine, logger *zap.Logger) http.Handler {
	if logger == nil {
		logger = zap.NewNop()
	}
	h := &handler{cfg: cfg, eng: eng, log: logger, maxBody: cfg.MaxBodyBytes}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	h.displayName = cfg.DisplayName
	if h.displayName == "" {
		h.displayName, _ = os.Hostname()
	}
	if cfg.Username != "" || cfg.Password != "" {
		h.authOn = true
		user := cfg.Username
		if user == "" {
			user = "default"
		}
		h.userHash = sha256.Sum256([]byte(user))
		h.passHash = sha256.Sum256([]byte(cfg.Password))
	}
	return h
}

type handler struct {
	cfg                Config
	eng                Engine
	log                *zap.Logger
	maxBody            int64
	displayName        string
	authOn             bool
	userHash, passHash [32]byte
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		h.serveRoot(w, r)
	case "/ping", "/replicas_status":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		writeOK(w)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "There is no handle %s\n\nUse / or /ping for health checks.\n"+
			"Or /replicas_status for more sophisticated health checks.\n\n"+
			"Send queries from your program with POST method or GET /?query=...\n", r.URL.Path)
	}
}

func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.Header().Set("Content-Length", "4")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "Ok.\n")
}

// outcome is a successful statement's answer.
type outcome struct {
	data        []byte
	contentType string
	format      string // X-ClickHouse-Format; "" to leave out
	readRows    uint64
	writtenRows uint64
	kind        string
}

func (h *handler) serveRoot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	params := r.URL.Query()
	hdr := w.Header()
	queryID := params.Get("query_id")
	if queryID == "" {
		queryID = newUUID()
	}
	setCH(hdr, "X-ClickHouse-Server-Display-Name", h.displayName)
	setCH(hdr, "X-ClickHouse-Query-Id", queryID)
	if params.Get("add_http_cors_header") == "1" {
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Access-Control-Allow-Headers", "origin, x-requested-with, x-clickhouse-format, x-clickhouse-user, x-clickhouse-key, Authorization")
		hdr.Set("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if !params.Has("query") {
			writeOK(w)
			return
		}
	case http.MethodPost:
	case http.MethodOptions:
		hdr.Set("Allow", "GET, HEAD, POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		hdr.Set("Allow", "GET, HEAD, POST, OPTIONS")
		h.writeError(w, r, params, queryID, start, "", newError(codeUnsupportedMethod, "UNSUPPORTED_METHOD",
			"HTTP method %s is not supported: use GET for read-only queries or POST", r.Method))
		return
	}

	out, qe := h.execute(r, params)
	if qe != nil {
		kind := ""
		if out != nil {
			kind = out.kind
		}
		h.writeError(w, r, params, queryID, start, kind, qe)
		return
	}
	elapsed := time.Since(start)
	hdr.Set("Content-Type", out.contentType)
	if out.format != "" {
		setCH(hdr, "X-ClickHouse-Format", out.format)
	}
	setCH(hdr, "X-ClickHouse-Summary", fmt.Sprintf(
		`{"read_rows":"%d","read_bytes":"0","written_rows":"%d","written_bytes":"0","total_rows_to_read":"0","result_bytes":"%d","elapsed_ns":"%d"}`,
		out.readRows, out.writtenRows, len(out.data), elapsed.Nanoseconds()))
	writeBody(w, r, params, http.StatusOK, out.data)
	h.log.Debug("ClickHouse HTTP query",
		zap.String("query_id", queryID), zap.String("method", r.Method), zap.String("statement", out.kind),
		zap.Int("status", http.StatusOK), zap.Uint64("read_rows", out.readRows),
		zap.Uint64("written_rows", out.writtenRows), zap.Int("result_bytes", len(out.data)),
		zap.Duration("elapsed", elapsed))
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, params url.Values, queryID string, start time.Time, kind string, qe *queryError) {
	msg := qe.msg
	if qe.wwwAuthenticate {
		w.Header().Set("WWW-Authenticate", `Basic realm="ClickHouse server HTTP API", charset="UTF-8"`)
	}
	if qe.code == codeReadonly && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		// ClickHouse's own hint for this case.
		const sentence = "Cannot execute query in readonly mode."
		msg = strings.Replace(msg, sentence, sentence+
			" For queries over HTTP, method GET implies readonly. You should use method POST for modifying queries.", 1)
	}
	status := qe.httpStatus()
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=UTF-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	setCH(hdr, "X-ClickHouse-Exception-Code", strconv.Itoa(qe.code))
	writeBody(w, r, params, status, []byte(msg+"\n"))
	fields := []zap.Field{
		zap.String("query_id", queryID), zap.String("method", r.Method), zap.String("statement", kind),
		zap.Int("status", status), zap.Int("code", qe.code), zap.Duration("elapsed", time.Since(start)),
	}
	if status >= 500 && qe.code != codeQueryWasCancelled {
		h.log.Warn("ClickHouse HTTP query failed", append(fields, zap.String("error", msg))...)
	} else {
		h.log.Debug("ClickHouse HTTP query refused", append(fields, zap.String("error", msg))...)
	}
}

// execute authenticates, reads and runs one request's statement.
func (h *handler) execute(r *http.Request, params url.Values) (*outcome, *queryError) {
	if qe := h.authenticate(r, params); qe != nil {
		return nil, qe
	}
	for _, p := range []string{"compress", "decompress"} {
		if v := params.Get(p); v != "" && v != "0" {
			return nil, newError(codeNotImplemented, "NOT_IMPLEMENTED",
				"%s=%s (ClickHouse block compression) is not supported by this server: "+
					"use enable_http_compression=1 with Accept-Encoding, or Content-Encoding: gzip", p, v)
		}
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "multipart/form-data") {
		return nil, newError(codeNotImplemented, "NOT_IMPLEMENTED", "External data (multipart/form-data) is not supported by this server")
	}
	body, qe := h.readBody(r)
	if qe != nil {
		return nil, qe
	}

	st, data, perr := statementAndData(params.Get("query"), body)
	if perr != nil {
		return nil, toQueryError(perr)
	}
	out := &outcome{kind: st.kind}
	if perr := st.checkPolicy(h.cfg.AllowLocalFiles); perr != nil {
		return out, toQueryError(perr)
	}

	readOnly := r.Method != http.MethodPost || h.cfg.ReadOnly
	switch v := params.Get("readonly"); v {
	case "", "0":
	case "1", "2":
		readOnly = true
	default:
		return out, newError(codeBadArguments, "BAD_ARGUMENTS", "Invalid value %q for setting readonly: expected 0, 1 or 2", v)
	}
	database := params.Get("database")
	if database == "" {
		database = r.Header.Get("X-ClickHouse-Database")
	}
	if database == "" {
		database = h.cfg.DefaultDatabase
	}
	settings, qe := querySettings(params)
	if qe != nil {
		return out, qe
	}
	qparams := map[string]string{}
	for k, vs := range params {
		if name, ok := strings.CutPrefix(k, "param_"); ok && name != "" {
			qparams[name] = unescapeTSV(vs[len(vs)-1])
		}
	}

	format := st.format
	if format == "" {
		format = params.Get("default_format")
		if format == "" {
			format = r.Header.Get("X-ClickHouse-Format")
		}
		if format == "" {
			format = defaultFormat
		}
		if !isIdentifier(format) {
			return out, newError(codeUnknownFormat, "UNKNOWN_FORMAT", "Unknown format %s", format)
		}
	}

	ctx := r.Context()
	switch {
	case st.kind == "SET":
		// Without a session a SET lasts for its own request only, i.e. has
		// no effect; running it would change the shared engine connection.
		out.contentType, out.format = contentType(format), format
		return out, nil

	case st.insert != nil && strings.EqualFold(st.insert.format, "Values") && len(qparams) > 0:
		// VALUES with {name:Type} parameters is parsed by the engine as one
		// query, as ClickHouse does: streamed as data, the placeholders
		// would be values. The tuples are the statement's own SQL text.
		ins := st.insert
		sql := withSettings(ins.header, ins.settingsAt, settings) + "\nVALUES " + string(data)
		res, err := h.eng.Query(ctx, Statement{SQL: sql, Format: defaultFormat, Params: qparams, Database: database, ReadOnly: readOnly})
		if err != nil {
			return out, toQueryError(err)
		}
		if res != nil {
			out.writtenRows = res.RowsWritten
		}
		out.contentType = "text/plain; charset=UTF-8"
		return out, nil

	case st.insert != nil && (st.insert.format != "" || len(data) > 0):
		ins := st.insert
		if ins.format == "" { // INSERT INTO t, with the data in the body
			ins.format = defaultFormat
		}
		if !isIdentifier(ins.format) {
			return out, newError(codeUnknownFormat, "UNKNOWN_FORMAT", "Unknown format %s", ins.format)
		}
		sql := withSettings(ins.header, ins.settingsAt, settings)
		res, err := h.eng.Insert(ctx, Statement{SQL: sql, Format: ins.format, Database: database, ReadOnly: readOnly}, data)
		if err != nil {
			return out, toQueryError(err)
		}
		if res == nil {
			res = &chdb.Result{}
		}
		out.writtenRows = res.RowsWritten
		out.contentType = "text/plain; charset=UTF-8"
		return out, nil
	}

	sql := st.text
	// Settings are not added to a USE (it ignores them) or to an INSERT with
	// neither data nor SELECT, which is an error anyway: a FORMAT clause
	// appended there would turn what follows into data.
	if len(settings) > 0 && st.kind != "USE" && (st.kind != "INSERT" || st.selectAt >= 0) {
		switch {
		case st.selectAt >= 0:
			// INSERT … SELECT takes no FORMAT/SETTINGS after the SELECT:
			// the settings go in the INSERT part.
			if st.insertSettingsAt >= 0 {
				sql = withSettings(sql, st.insertSettingsAt, settings)
			} else {
				sql = sql[:st.selectAt] + "SETTINGS " + settingsList(settings) + "\n" + sql[st.selectAt:]
			}
		case st.format == "":
			sql += "\nFORMAT " + format + "\nSETTINGS " + settingsList(settings)
		default:
			sql = withSettings(sql, st.outSettingsAt, settings)
		}
	}
	if format == "Native" && isHello(st.text) {
		data, err := h.helloAnswer(ctx, database, clientRevision(params.Get("client_protocol_version")))
		if err != nil {
			return out, toQueryError(err)
		}
		out.data, out.readRows = data, 1
		out.contentType, out.format = contentType(format), format
		return out, nil
	}
	res, err := h.eng.Query(ctx, Statement{SQL: sql, Format: format, Params: qparams, Database: database, ReadOnly: readOnly})
	if err != nil {
		return out, toQueryError(err)
	}
	if res == nil {
		res = &chdb.Result{}
	}
	out.data, out.readRows, out.writtenRows = res.Data, res.RowsRead, res.RowsWritten
	if len(out.data) == 0 && format == "Native" && (st.kind == "SELECT" || st.kind == "WITH") && st.format == "" {
		out.data = h.emptyNativeBlock(ctx, st.text, qparams, database)
	}
	out.contentType, out.format = contentType(format), format
	return out, nil
}

// httpOnlyParams are URL parameters of ClickHouse's HTTP interface that are
// not settings to pass to the engine (handled here, or without meaning here).
var httpOnlyParams = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`
		query database default_format user password quota_key query_id
		session_id session_timeout session_check compress decompress readonly
		buffer_size wait_end_of_query enable_http_compression http_zlib_compression_level
		http_native_compression_disable_checksumming_on_decompress
		send_progress_in_http_headers http_headers_progress_interval_ms
		add_http_cors_header cancel_http_readonly_queries_on_client_close
		http_response_buffer_size http_wait_end_of_query http_write_exception_in_output_format
		stacktrace role client_protocol_version`) {
		m[p] = true
	}
	return m
}()

type setting struct{ name, value string }

// querySettings collects the URL parameters that are settings.
func querySettings(params url.Values) ([]setting, *queryError) {
	var out []setting
	for k, vs := range params {
		if httpOnlyParams[k] || strings.HasPrefix(k, "param_") {
			continue
		}
		if !isIdentifier(k) {
			return nil, newError(codeUnknownSetting, "UNKNOWN_SETTING", "Unknown setting '%s'", k)
		}
		out = append(out, setting{k, vs[len(vs)-1]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func settingsList(s []setting) string {
	parts := make([]string, len(s))
	for i, kv := range s {
		parts[i] = kv.name + " = " + quoteString(kv.value)
	}
	return strings.Join(parts, ", ")
}

// withSettings adds settings to sql: into the SETTINGS clause whose keyword
// ends at offset at (ahead of the clause's own, which therefore win), or as
// a new clause at the end when at < 0.
func withSettings(sql string, at int, s []setting) string {
	if len(s) == 0 {
		return sql
	}
	if at < 0 {
		return sql + "\nSETTINGS " + settingsList(s)
	}
	return sql[:at] + " " + settingsList(s) + "," + sql[at:]
}

func (h *handler) authenticate(r *http.Request, params url.Values) *queryError {
	hUser, hKey := r.Header.Get("X-ClickHouse-User"), r.Header.Get("X-ClickHouse-Key")
	bUser, bPass, hasBasic := r.BasicAuth()
	inParams := params.Has("user") || params.Has("password")
	conflict := func(a, b string) *queryError {
		return newError(codeAuthenticationFailed, "AUTHENTICATION_FAILED",
			"Invalid authentication: it is not allowed to use %s and %s simultaneously", a, b)
	}
	var user, pass string
	supplied := true
	switch {
	case hUser != "" || hKey != "":
		if hasBasic {
			return conflict("Authorization HTTP header", "X-ClickHouse HTTP headers")
		}
		if inParams {
			return conflict("X-ClickHouse HTTP headers", "authentication via parameters")
		}
		user, pass = hUser, hKey
	case hasBasic:
		if inParams {
			return conflict("Authorization HTTP header", "authentication via parameters")
		}
		user, pass = bUser, bPass
	case inParams:
		user, pass = params.Get("user"), params.Get("password")
	default:
		supplied = false
	}
	if user == "" {
		user = "default"
	}
	if !h.authOn {
		return nil
	}
	uh, ph := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	if subtle.ConstantTimeCompare(uh[:], h.userHash[:])&subtle.ConstantTimeCompare(ph[:], h.passHash[:]) == 1 {
		return nil
	}
	qe := newError(codeAuthenticationFailed, "AUTHENTICATION_FAILED",
		"%s: Authentication failed: password is incorrect, or there is no user with such name", user)
	if !supplied {
		qe.status = http.StatusUnauthorized
		qe.wwwAuthenticate = true
	}
	return qe
}

// errBodyTooLarge marks a body over the limit, compressed or not.
var errBodyTooLarge = errors.New("request body too large")

type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, errBodyTooLarge
		}
		return c.r.Read(p) // EOF (or the error) from the underlying reader
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (h *handler) readBody(r *http.Request) ([]byte, *queryError) {
	if r.Method != http.MethodPost || r.Body == nil {
		return nil, nil
	}
	tooLarge := func() *queryError {
		return newError(codeQueryIsTooLarge, "QUERY_IS_TOO_LARGE",
			"Request body is too large: the limit is %d bytes", h.maxBody)
	}
	if r.ContentLength > h.maxBody {
		return nil, tooLarge()
	}
	var rd io.Reader = &capReader{r: r.Body, left: h.maxBody}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity", "none":
	case "gzip", "x-gzip", "deflate":
		var dec io.ReadCloser
		var err error
		if enc == "deflate" {
			dec, err = zlib.NewReader(rd)
		} else {
			dec, err = gzip.NewReader(rd)
		}
		if err != nil {
			if errors.Is(err, errBodyTooLarge) {
				return nil, tooLarge()
			}
			return nil, newError(codeCannotDecompress, "CANNOT_DECOMPRESS", "Cannot decompress %s request body: %v", enc, err)
		}
		defer dec.Close()
		rd = &capReader{r: dec, left: h.maxBody}
	default:
		return nil, newError(codeUnknownCompression, "UNKNOWN_COMPRESSION_METHOD", "Unknown compression method: %s", enc)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 && enc == "" {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(rd); err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return nil, tooLarge()
		}
		if enc != "" && enc != "identity" && enc != "none" {
			return nil, newError(codeCannotDecompress, "CANNOT_DECOMPRESS", "Cannot decompress %s request body: %v", enc, err)
		}
		return nil, newError(codeCannotReadAllData, "CANNOT_READ_ALL_DATA", "Cannot read the request body: %v", err)
	}
	return buf.Bytes(), nil
}

// writeBody writes the response, gzip- or deflate-compressed when the client
// asked with enable_http_compression=1 and Accept-Encoding.
func writeBody(w http.ResponseWriter, r *http.Request, params url.Values, status int, data []byte) {
	hdr := w.Header()
	if enc := responseEncoding(r, params); enc != "" {
		level := 3 // ClickHouse's default http_zlib_compression_level
		if l, err := strconv.Atoi(params.Get("http_zlib_compression_level")); err == nil && l >= 1 && l <= 9 {
			level = l
		}
		hdr.Set("Content-Encoding", enc)
		hdr.Add("Vary", "Accept-Encoding")
		hdr.Del("Content-Length")
		w.WriteHeader(status)
		var zw io.WriteCloser
		if enc == "gzip" {
			zw, _ = gzip.NewWriterLevel(w, level)
		} else {
			zw, _ = zlib.NewWriterLevel(w, level)
		}
		zw.Write(data)
		zw.Close()
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}

func responseEncoding(r *http.Request, params url.Values) string {
	if params.Get("enable_http_compression") != "1" {
		return ""
	}
	var deflate bool
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.ReplaceAll(strings.TrimSpace(q), " ", "") == "q=0" {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip", "x-gzip":
			return "gzip"
		case "deflate":
			deflate = true
		}
	}
	if deflate {
		return "deflate"
	}
	return ""
}

// setCH sets a header under ClickHouse's spelling of its name (net/http
// would send "X-Clickhouse-…"; names are case-insensitive, but some clients
// look them up as spelled).
func setCH(h http.Header, name, value string) { h[name] = []string{value} }

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// statementAndData finds the statement and, for an INSERT, its data: the
// query parameter, the body, or both (the body continuing the query, as in
// ClickHouse). An INSERT's data is never copied into SQL text: it is what
// follows VALUES or the FORMAT name, plus the body when the query parameter
// holds the INSERT.
func statementAndData(qp string, body []byte) (*statement, []byte, *sqlError) {
	switch {
	case qp == "":
		// The body is not modified after this: viewing it as a string
		// spares copying what may be a large INSERT.
		src := unsafe.String(unsafe.SliceData(body), len(body))
		st, err := parseStatement(src)
		if err != nil || st.insert == nil || st.insert.format == "" {
			return st, nil, err
		}
		return st, body[st.insert.dataAt:], nil
	case len(body) == 0:
		st, err := parseStatement(qp)
		if err != nil || st.insert == nil || st.insert.format == "" {
			return st, nil, err
		}
		return st, []byte(qp[st.insert.dataAt:]), nil
	}
	st, err := parseStatement(qp)
	if err != nil || st.insert == nil {
		st, err = parseStatement(qp + "\n" + string(body))
		if err != nil || st.insert == nil || st.insert.format == "" {
			return st, nil, err
		}
		return st, []byte(st.src[st.insert.dataAt:]), nil
	}
	inline := ""
	if st.insert.format != "" {
		inline = qp[st.insert.dataAt:]
	}
	if strings.TrimSpace(inline) == "" {
		return st, body, nil
	}
	return st, append([]byte(inline+"\n"), body...), nil
}

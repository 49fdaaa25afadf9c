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
//   - An allow-list (policy.go), checked before the engine, of statement
//     kinds, table functions and other calls, engines, formats and
//     settings; a refusal names what was refused. The read path (GET, a
//     read-only interface, readonly=1/2) runs queries only (SELECT, WITH,
//     SHOW, DESCRIBE, EXISTS, EXPLAIN); a POST to an interface that is not
//     read-only may also insert and run the DDL a schema migration needs.
//   - Each request runs on an engine connection of its own, opened with the
//     interface's Limits (max_execution_time, max_result_bytes,
//     max_memory_usage) and closed after it; the read path runs it at
//     readonly=1 (engine.go, engineprofile.go). Settings a request gives
//     may lower a limit, never raise it or lift it. Nothing a request does
//     reaches the next one: no sessions (session_id is ignored), SET is
//     refused, temporary tables cannot be created.
//   - At most EngineConfig.MaxConcurrent statements run at once; a request
//     that waits longer than its QueueTimeout is answered 503
//     TOO_MANY_SIMULTANEOUS_QUERIES.
//   - The result is complete before anything is sent (as with
//     wait_end_of_query=1), so the status code is always truthful; it is
//     written from the engine's own buffer, not a copy.
//   - Tenant users (Config.Users): a request authenticated as one reads its
//     tenant's rows only, through the engine setting additional_table_filters
//     set below the statement and before readonly=1, and never writes
//     (tenant.go).
//   - Multi-statements are refused (as ClickHouse's HTTP interface does; the
//     engine would run them all).
//   - Settings from the URL and from the statement's SETTINGS clauses are
//     set on the request's connection before the statement runs, the
//     statement's own winning. Parameters only the HTTP interface knows
//     (compress, user, session_id, wait_end_of_query…) are not settings;
//     compress=1 and decompress=1 (ClickHouse's own block compression) are
//     refused as not implemented — use enable_http_compression=1 with
//     Accept-Encoding: gzip, and Content-Encoding: gzip/deflate for bodies.
//   - Local files and the network: the engine, unlike a server, lets a query
//     read and write any file the process can and reach any host. None of
//     it is on the allow-list (file(), url(), s3(), remote()…, FROM INFILE,
//     INTO OUTFILE, formats and settings that take file paths, tables named
//     by a path).
//   - Exposure: CORS headers go only to the origins in
//     Config.CORSAllowedOrigins (add_http_cors_header is ignored), and the
//     Host header must be a loopback name, an IP address or one of
//     Config.AllowedHosts, which defeats DNS rebinding (exposure.go).
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
//     SQL); the engine's own max_query_size (256 KiB, which a request may
//     set up to those 4 MiB) applies first.
//
// Wiring:
//
//	arg, err := chhttp.WriteEngineProfile(dataDir, limits) // before the process's first connection
//	eng, err := chhttp.NewEngine(lib, dataDir, chhttp.EngineConfig{Limits: limits})
//	h := chhttp.NewHandler(cfg, eng, logger)
package chhttp

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
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
	// Username and Password, when either is set, are the installation's
	// credentials: their requests see every tenant (an empty Username then
	// means "default"). When both are empty and there are no Users, any
	// credentials are accepted, as the installation's.
	Username string
	Password string
	// Users are tenant users: each request authenticated as one reads only
	// its tenant's rows and never writes (tenant.go). With Users, every
	// request must authenticate, as one of them or as Username.
	Users []User
	// DefaultDatabase is the current database when a request names none
	// ("" = the engine's "default").
	DefaultDatabase string
	// MaxBodyBytes limits a request body, after decompression
	// (0 = DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// DisplayName is sent as X-ClickHouse-Server-Display-Name
	// ("" = the host name).
	DisplayName string
	// Limits are the ceilings a request's settings may lower; they should
	// be the engine's (EngineConfig.Limits), which enforces them.
	Limits Limits
	// CORSAllowedOrigins are the origins ("https://grafana.example.com")
	// whose web pages may read answers; no other origin gets CORS headers.
	CORSAllowedOrigins []string
	// AllowedHosts are the host names the Host header may carry besides
	// localhost and IP addresses.
	AllowedHosts []string
}

// NewHandler returns the HTTP interface over eng.
func NewHandler(cfg Config, eng Engine, logger *zap.Logger) http.Handler {
	if logger == nil {
		logger = zap.NewNop()
	}
	h := &handler{cfg: cfg, eng: eng, log: logger, maxBody: cfg.MaxBodyBytes,
		limits: cfg.Limits.WithDefaults(), exposure: newExposure(cfg)}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	h.displayName = cfg.DisplayName
	if h.displayName == "" {
		h.displayName, _ = os.Hostname()
	}
	if cfg.Username != "" || cfg.Password != "" {
		user := cfg.Username
		if user == "" {
			user = "default"
		}
		h.creds = append(h.creds, credential{sha256.Sum256([]byte(user)), sha256.Sum256([]byte(cfg.Password)), ""})
	}
	for _, u := range cfg.Users {
		h.creds = append(h.creds, credential{sha256.Sum256([]byte(u.Name)), sha256.Sum256([]byte(u.Password)), u.Tenant})
	}
	h.authOn = len(h.creds) > 0
	return h
}

type handler struct {
	cfg         Config
	eng         Engine
	log         *zap.Logger
	maxBody     int64
	limits      Limits
	exposure    exposure
	displayName string
	authOn      bool
	creds       []credential
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if qe := h.exposure.checkHost(r); qe != nil {
		h.writeError(w, r, r.URL.Query(), "", time.Now(), "", qe)
		return
	}
	h.exposure.cors(w, r)
	switch r.URL.Path {
	case "/":
		h.serveRoot(w, r)
	case "/ping", "/replicas_status":
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET, HEAD, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		}
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
	_, _ = io.WriteString(w, "Ok.\n") // the client hung up: nothing to do
}

// outcome is a successful statement's answer, for the log.
type outcome struct {
	format      string // X-ClickHouse-Format; "" to leave out
	readRows    uint64
	writtenRows uint64
	resultBytes int
}

// plan is a checked request, ready to run.
type plan struct {
	st      *statement
	data    []byte // an INSERT's data
	req     Request
	format  string
	qparams map[string]string
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

	pl, qe := h.prepare(r, params)
	kind := ""
	if pl != nil && pl.st != nil {
		kind = pl.st.kind
	}
	if qe != nil {
		h.writeError(w, r, params, queryID, start, kind, qe)
		return
	}
	var out *outcome
	err := h.eng.Do(r.Context(), pl.req, func(c Conn) error {
		var err error
		out, err = h.run(c, w, r, params, pl, start)
		return err
	})
	if err != nil {
		h.writeError(w, r, params, queryID, start, kind, toQueryError(err))
		return
	}
	h.log.Debug("ClickHouse HTTP query",
		zap.String("query_id", queryID), zap.String("method", r.Method), zap.String("statement", kind),
		zap.Int("status", http.StatusOK), zap.Uint64("read_rows", out.readRows),
		zap.Uint64("written_rows", out.writtenRows), zap.Int("result_bytes", out.resultBytes),
		zap.Duration("elapsed", time.Since(start)))
}

// respond writes a successful answer.
func (h *handler) respond(w http.ResponseWriter, r *http.Request, params url.Values, start time.Time, out *outcome, contentType string, data []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	if out.format != "" {
		setCH(hdr, "X-ClickHouse-Format", out.format)
	}
	out.resultBytes = len(data)
	setCH(hdr, "X-ClickHouse-Summary", fmt.Sprintf(
		`{"read_rows":"%d","read_bytes":"0","written_rows":"%d","written_bytes":"0","total_rows_to_read":"0","result_bytes":"%d","elapsed_ns":"%d"}`,
		out.readRows, out.writtenRows, len(data), time.Since(start).Nanoseconds()))
	writeBody(w, r, params, http.StatusOK, data)
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
	if status >= 500 && qe.code != codeQueryWasCancelled && qe.code != codeTooManySimultaneousQueries {
		h.log.Warn("ClickHouse HTTP query failed", append(fields, zap.String("error", msg))...)
	} else {
		h.log.Debug("ClickHouse HTTP query refused", append(fields, zap.String("error", msg))...)
	}
}

// prepare authenticates, reads and checks one request's statement.
func (h *handler) prepare(r *http.Request, params url.Values) (*plan, *queryError) {
	tenant, qe := h.authenticate(r, params)
	if qe != nil {
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
	pl := &plan{st: st, data: data}

	// A tenant user only reads: its filters bind what it reads, not what
	// it would write.
	readOnly := r.Method != http.MethodPost || h.cfg.ReadOnly || tenant != ""
	switch v := params.Get("readonly"); v {
	case "", "0":
	case "1", "2":
		readOnly = true
	default:
		return pl, newError(codeBadArguments, "BAD_ARGUMENTS", "Invalid value %q for setting readonly: expected 0, 1 or 2", v)
	}
	pol := policy{write: !readOnly, limits: h.limits, cpus: runtime.NumCPU(), tenant: tenant != ""}
	// The URL's settings first: a refusal then names the setting that
	// makes a request dangerous (format_template_row) rather than what it
	// would have been used with (FORMAT Template).
	urlSettings, qe := h.urlSettings(pol, st, params)
	if qe != nil {
		return pl, qe
	}
	if perr := pol.check(st); perr != nil {
		return pl, toQueryError(perr)
	}
	pl.req = Request{ReadOnly: readOnly, Database: params.Get("database"), Settings: urlSettings, Tenant: tenant}
	if pl.req.Database == "" {
		pl.req.Database = r.Header.Get("X-ClickHouse-Database")
	}
	if pl.req.Database == "" {
		pl.req.Database = h.cfg.DefaultDatabase
	}
	if readOnly {
		// On the read path the statement's own SETTINGS assignments are
		// set before readonly=1 too: the engine accepts a statement that
		// restates a value at readonly=1, not one that changes it.
		// Elsewhere they apply as written.
		for _, a := range st.assignments() {
			lit, err := pol.checkSetting(st, a.name, a.value, false)
			if err != nil {
				return pl, toQueryError(err)
			}
			pl.req.Settings = append(pl.req.Settings, Setting{Name: a.name, Literal: lit})
		}
	}
	pl.qparams = map[string]string{}
	for k, vs := range params {
		if name, ok := strings.CutPrefix(k, "param_"); ok && name != "" {
			pl.qparams[name] = unescapeTSV(vs[len(vs)-1])
		}
	}
	if perr := checkParams(st, pl.qparams); perr != nil {
		return pl, toQueryError(perr)
	}
	if ins := st.insert; ins != nil && ins.format != "" {
		if perr := checkFormat(ins.format, []string{strings.ToLower(ins.format)}); perr != nil {
			return pl, toQueryError(perr)
		}
		if strings.EqualFold(ins.format, "Values") {
			if perr := checkValuesData(data); perr != nil {
				return pl, toQueryError(perr)
			}
		}
	}
	pl.format = st.format
	if pl.format == "" {
		pl.format = params.Get("default_format")
		if pl.format == "" {
			pl.format = r.Header.Get("X-ClickHouse-Format")
		}
		if pl.format == "" {
			pl.format = defaultFormat
		}
		if !isIdentifier(pl.format) {
			return pl, newError(codeUnknownFormat, "UNKNOWN_FORMAT", "Unknown format %s", pl.format)
		}
		if perr := checkFormat(pl.format, []string{strings.ToLower(pl.format)}); perr != nil {
			return pl, toQueryError(perr)
		}
	}
	return pl, nil
}

// run executes a checked request on its connection and answers it.
func (h *handler) run(c Conn, w http.ResponseWriter, r *http.Request, params url.Values, pl *plan, start time.Time) (*outcome, error) {
	st, out := pl.st, &outcome{}
	if ins := st.insert; ins != nil && (ins.format != "" || len(pl.data) > 0) {
		if strings.EqualFold(ins.format, "Values") && len(pl.qparams) > 0 {
			// VALUES with {name:Type} parameters is parsed by the engine as
			// one query, as ClickHouse does: streamed as data, the
			// placeholders would be values. The tuples are the statement's
			// own SQL text, checked by checkValuesData.
			err := c.Query(ins.header+"\nVALUES "+string(pl.data), defaultFormat, pl.qparams, func(res *chdb.Result) error {
				out.writtenRows = res.RowsWritten
				return nil
			})
			if err != nil {
				return nil, err
			}
		} else {
			format := ins.format
			if format == "" { // INSERT INTO t, with the data in the body
				format = defaultFormat
			}
			n, err := c.Insert(ins.header, format, pl.data)
			if err != nil {
				return nil, err
			}
			out.writtenRows = n
		}
		h.respond(w, r, params, start, out, "text/plain; charset=UTF-8", nil)
		return out, nil
	}
	out.format = pl.format
	if pl.format == "Native" && isHello(st.text) {
		data, err := helloAnswer(c, clientRevision(params.Get("client_protocol_version")))
		if err != nil {
			return nil, err
		}
		out.readRows = 1
		h.respond(w, r, params, start, out, contentType(pl.format), data)
		return out, nil
	}
	err := c.Query(st.text, pl.format, pl.qparams, func(res *chdb.Result) error {
		out.readRows, out.writtenRows = res.RowsRead, res.RowsWritten
		data := res.Data
		if len(data) == 0 && pl.format == "Native" && (st.kind == "SELECT" || st.kind == "WITH") && st.format == "" {
			data = emptyNativeBlock(c, st.text, pl.qparams)
		}
		h.respond(w, r, params, start, out, contentType(pl.format), data)
		return nil
	})
	return out, err
}

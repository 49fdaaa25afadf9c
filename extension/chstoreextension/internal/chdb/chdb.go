// Package chdb is a small binding to chDB, the ClickHouse engine built as a
// shared library, loaded at run time through its C API with purego so that
// binaries build with CGO_ENABLED=0 and only need the library when the
// embedded store is actually configured.
//
// The binding is deliberately thin: connect, query with server-side
// {name:Type} parameters, stream an INSERT body, close. Everything that is
// ClickHouse-specific (formats, SQL) stays with the caller.
package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// LibraryEnv names the environment variable that points at libchdb.so.
const LibraryEnv = "CHDB_LIB_PATH"

// libraryName is the file name the engine ships under.
const libraryName = "libchdb.so"

// EngineCacheDir is the folder `make engine` unpacks the library into, looked
// for in the working directory and its parents, then beside the executable
// and its parents, so tests and a `make run` binary find it without setup.
const EngineCacheDir = ".engine"

// Library is a loaded libchdb. The engine keeps process-wide state (one data
// directory per process, signal handlers), so a process loads it once and
// shares it: see Load.
type Library struct {
	path string

	connect        func(argc int32, argv unsafe.Pointer) *uintptr
	closeConn      func(conn *uintptr)
	queryParams    func(conn uintptr, query *byte, queryLen uintptr, format *byte, formatLen uintptr, names unsafe.Pointer, nameLens unsafe.Pointer, values unsafe.Pointer, valueLens unsafe.Pointer, count uintptr) uintptr
	destroyResult  func(res uintptr)
	resultBuffer   func(res uintptr) *byte
	resultLength   func(res uintptr) uintptr
	resultError    func(res uintptr) string
	resultRowsRead func(res uintptr) uint64
	resultWritten  func(res uintptr) uint64
	streamInsert   func(conn uintptr, query *byte, queryLen uintptr, format *byte, formatLen uintptr) uintptr
	streamAppend   func(stream uintptr, data *byte, n uintptr) int32
	streamDone     func(stream uintptr) uintptr
	streamError    func(stream uintptr) string
	destroyStream  func(stream uintptr)
	setSignals     func(enabled int32)
	shutdown       func() int32
	version        func() string

	mu   sync.Mutex
	open map[string]int // data directory -> connections this process has on it
}

var (
	loadMu sync.Mutex
	loaded *Library
)

// Load finds and opens libchdb once per process. explicit, when set, is the
// only path tried. Otherwise the search order is $CHDB_LIB_PATH, the
// executable's folder, then the engine cache (.engine/) found upwards from
// the working directory and from the executable.
//
// The error names every path tried and how to fix it.
func Load(explicit string) (*Library, error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	if loaded != nil {
		return loaded, nil
	}
	candidates := Candidates(explicit)
	var tried []string
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			tried = append(tried, p+" (not found)")
			continue
		}
		lib, err := open(p)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s (%v)", p, err))
			continue
		}
		loaded = lib
		return lib, nil
	}
	return nil, &NotFoundError{Tried: tried}
}

// NotFoundError says where the engine library was looked for.
type NotFoundError struct{ Tried []string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("chDB engine library not loadable; tried: %s. "+
		"Run `make engine` to fetch it, or set %s=/path/to/%s "+
		"(or use chstore mode \"remote\" with a ClickHouse server)",
		strings.Join(e.Tried, "; "), LibraryEnv, libraryName)
}

// Find returns the first candidate library path that exists, without
// loading it (tests hand it to child processes as $CHDB_LIB_PATH).
func Find(explicit string) (string, error) {
	var tried []string
	for _, p := range Candidates(explicit) {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p+" (not found)")
	}
	return "", &NotFoundError{Tried: tried}
}

// Candidates lists, in order, the paths Load tries.
func Candidates(explicit string) []string {
	if explicit != "" {
		return []string{explicit}
	}
	var out []string
	if p := os.Getenv(LibraryEnv); p != "" {
		out = append(out, p)
	}
	var exeDir string
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		exeDir = filepath.Dir(exe)
		out = append(out, filepath.Join(exeDir, libraryName))
	}
	seen := map[string]bool{}
	for _, start := range []string{mustGetwd(), exeDir} {
		for dir := start; dir != "" && !seen[dir]; dir = parent(dir) {
			seen[dir] = true
			out = append(out, filepath.Join(dir, EngineCacheDir, libraryName))
		}
	}
	return out
}

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return wd
}

func parent(dir string) string {
	p := filepath.Dir(dir)
	if p == dir {
		return ""
	}
	return p
}

func open(path string) (lib *Library, err error) {
	handle, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, err
	}
	// RegisterLibFunc panics on a missing symbol; an older or foreign library
	// should be an error naming the symbol, not a crash.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("not a usable chDB library: %v", r)
		}
	}()
	l := &Library{path: path}
	purego.RegisterLibFunc(&l.connect, handle, "chdb_connect")
	purego.RegisterLibFunc(&l.closeConn, handle, "chdb_close_conn")
	purego.RegisterLibFunc(&l.queryParams, handle, "chdb_query_with_params_n")
	purego.RegisterLibFunc(&l.destroyResult, handle, "chdb_destroy_query_result")
	purego.RegisterLibFunc(&l.resultBuffer, handle, "chdb_result_buffer")
	purego.RegisterLibFunc(&l.resultLength, handle, "chdb_result_length")
	purego.RegisterLibFunc(&l.resultError, handle, "chdb_result_error")
	purego.RegisterLibFunc(&l.resultRowsRead, handle, "chdb_result_rows_read")
	purego.RegisterLibFunc(&l.resultWritten, handle, "chdb_result_rows_written")
	purego.RegisterLibFunc(&l.streamInsert, handle, "chdb_stream_insert_n")
	purego.RegisterLibFunc(&l.streamAppend, handle, "chdb_stream_append")
	purego.RegisterLibFunc(&l.streamDone, handle, "chdb_stream_done")
	purego.RegisterLibFunc(&l.streamError, handle, "chdb_stream_insert_error")
	purego.RegisterLibFunc(&l.destroyStream, handle, "chdb_destroy_insert_stream")
	purego.RegisterLibFunc(&l.setSignals, handle, "chdb_set_signal_handlers_enabled")
	purego.RegisterLibFunc(&l.shutdown, handle, "chdb_shutdown")
	purego.RegisterLibFunc(&l.version, handle, "chdb_version")
	// chDB installs handlers for SIGSEGV, SIGBUS, SIGABRT and others at the
	// first connection; with them a Go nil-pointer panic hangs the process
	// instead of crashing it. Turn them off before anything connects.
	l.setSignals(0)
	return l, nil
}

// Path is the file the library was loaded from.
func (l *Library) Path() string { return l.path }

// Version is the engine's version string.
func (l *Library) Version() string { return l.version() }

// Conn is one engine connection. A connection runs one statement at a time;
// Conn serialises its callers, and a pool of Conns gives concurrency.
type Conn struct {
	lib *Library
	dir string
	mu  sync.Mutex
	ptr *uintptr // chdb_connection*, as chdb_close_conn wants it
}

// Connect opens a connection on dataDir (":memory:" for none). Extra args are
// passed as engine command-line arguments (e.g. "--max_threads=2").
//
// The engine allows one data directory per process and one process per data
// directory; it reports a held directory only on stderr, so that case is
// detected here first and returned as an error that says so.
func (l *Library) Connect(dataDir string, args ...string) (*Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if dataDir != ":memory:" {
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return nil, fmt.Errorf("resolve data directory %q: %w", dataDir, err)
		}
		dataDir = abs
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory %q: %w", dataDir, err)
		}
		if l.open[dataDir] == 0 {
			if err := checkNotLocked(dataDir); err != nil {
				return nil, err
			}
		}
	}
	argv := append([]string{"nexus", "--path=" + dataDir}, args...)
	cargs := newCStrings(argv)
	ptr := l.connect(int32(len(argv)), cargs.array())
	runtime.KeepAlive(cargs)
	if ptr == nil || *ptr == 0 {
		return nil, fmt.Errorf("chDB connect to %q failed (see the engine's message on stderr; "+
			"another process may hold the directory, it may have been written by a newer engine, "+
			"or this process already runs the engine on another directory)", dataDir)
	}
	if l.open == nil {
		l.open = map[string]int{}
	}
	l.open[dataDir]++
	return &Conn{lib: l, ptr: ptr, dir: dataDir}, nil
}

// Query runs one statement and returns its output in format (any ClickHouse
// output format; "" means TabSeparated). params bind {name:Type}
// placeholders server-side, so values are never spliced into SQL text.
func (c *Conn) Query(query, format string, params map[string]string) (*Result, error) {
	var out *Result
	err := c.QueryFunc(query, format, params, func(res *Result) error {
		out = &Result{Data: append([]byte(nil), res.Data...), RowsRead: res.RowsRead, RowsWritten: res.RowsWritten}
		return nil
	})
	return out, err
}

// QueryFunc runs one statement like Query, but hands fn the engine's own
// output buffer instead of a copy, so that a large result is held once,
// not twice. res.Data is valid only until fn returns. The connection is
// free again before fn is called: fn may run further statements on it.
func (c *Conn) QueryFunc(query, format string, params map[string]string, fn func(res *Result) error) error {
	if format == "" {
		format = "TabSeparated"
	}
	names := make([]string, 0, len(params))
	values := make([]string, 0, len(params))
	for k, v := range params {
		names = append(names, k)
		values = append(values, escapeParam(v))
	}
	nb, vb := newByteArrays(names), newByteArrays(values)
	qb, fb := []byte(query), []byte(format)

	c.mu.Lock()
	if c.ptr == nil {
		c.mu.Unlock()
		return errClosed
	}
	res := c.lib.queryParams(*c.ptr, bytePtr(qb), uintptr(len(qb)), bytePtr(fb), uintptr(len(fb)),
		nb.ptrs(), nb.lens(), vb.ptrs(), vb.lens(), uintptr(len(names)))
	c.mu.Unlock()
	runtime.KeepAlive(qb)
	runtime.KeepAlive(fb)
	runtime.KeepAlive(nb)
	runtime.KeepAlive(vb)
	if res == 0 {
		return errors.New("chDB returned no result")
	}
	// The result owns its buffer; it outlives nothing but this call.
	defer c.lib.destroyResult(res)
	view, err := c.lib.viewResult(res)
	if err != nil {
		return err
	}
	return fn(view)
}

// Insert streams body, encoded in format (RowBinary, Native, JSONEachRow…),
// into an INSERT statement that has no FORMAT clause and no inline data.
// Data never travels inside query text: the engine cuts inline data at the
// first blank line, which silently truncates binary bodies.
func (c *Conn) Insert(query, format string, body []byte) (written uint64, err error) {
	qb, fb := []byte(query), []byte(format)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return 0, errClosed
	}
	stream := c.lib.streamInsert(*c.ptr, bytePtr(qb), uintptr(len(qb)), bytePtr(fb), uintptr(len(fb)))
	runtime.KeepAlive(qb)
	runtime.KeepAlive(fb)
	if stream == 0 {
		return 0, errors.New("chDB stream insert: no stream handle")
	}
	defer c.lib.destroyStream(stream)
	if msg := c.lib.streamError(stream); msg != "" {
		return 0, &EngineError{Message: msg}
	}
	// Chunks keep the engine's own buffers small for large batches.
	const chunk = 4 << 20
	for off := 0; off < len(body); off += chunk {
		end := min(off+chunk, len(body))
		part := body[off:end]
		if c.lib.streamAppend(stream, &part[0], uintptr(len(part))) != 0 {
			runtime.KeepAlive(body)
			if msg := c.lib.streamError(stream); msg != "" {
				return 0, &EngineError{Message: msg}
			}
			return 0, errors.New("chDB stream insert: append failed")
		}
	}
	runtime.KeepAlive(body)
	res, err := c.lib.takeResult(c.lib.streamDone(stream))
	if err != nil {
		if msg := c.lib.streamError(stream); msg != "" {
			return 0, &EngineError{Message: msg}
		}
		return 0, err
	}
	return res.RowsWritten, nil
}

// Close closes the connection. Safe to call twice.
func (c *Conn) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return
	}
	c.lib.closeConn(c.ptr)
	c.ptr = nil
	c.lib.mu.Lock()
	c.lib.open[c.dir]--
	c.lib.mu.Unlock()
}

// Shutdown stops the engine's threads once every connection is closed; the
// library cannot be used again in this process afterwards.
func (l *Library) Shutdown() error {
	if l.shutdown() != 0 {
		return errors.New("chDB shutdown refused: a connection is still open")
	}
	return nil
}

var errClosed = errors.New("chDB connection is closed")

// Result is a query's output, copied into Go memory (the engine's buffer is
// freed before Query returns).
type Result struct {
	Data        []byte
	RowsRead    uint64
	RowsWritten uint64
}

// EngineError is an error reported by the engine, in ClickHouse's own words
// ("Code: 62. DB::Exception: Syntax error: …").
type EngineError struct{ Message string }

func (e *EngineError) Error() string { return strings.TrimSpace(e.Message) }

// Code is the ClickHouse error code at the start of the message, or 0.
func (e *EngineError) Code() int {
	var code int
	if _, err := fmt.Sscanf(strings.TrimSpace(e.Message), "Code: %d.", &code); err != nil {
		return 0
	}
	return code
}

// takeResult copies a result into Go memory and frees it.
func (l *Library) takeResult(res uintptr) (*Result, error) {
	if res == 0 {
		return nil, errors.New("chDB returned no result")
	}
	defer l.destroyResult(res)
	view, err := l.viewResult(res)
	if err != nil {
		return nil, err
	}
	view.Data = append([]byte(nil), view.Data...)
	return view, nil
}

// viewResult reads a result without copying its buffer: Data points into
// engine memory, valid until the result is destroyed.
func (l *Library) viewResult(res uintptr) (*Result, error) {
	if msg := l.resultError(res); msg != "" {
		return nil, &EngineError{Message: msg}
	}
	out := &Result{RowsRead: l.resultRowsRead(res), RowsWritten: l.resultWritten(res)}
	if n := l.resultLength(res); n > 0 {
		if buf := l.resultBuffer(res); buf != nil {
			out.Data = unsafe.Slice(buf, n)
		}
	}
	return out, nil
}

// paramEscaper applies the engine's "escaped" text format to a parameter
// value: the engine parses each value as a TabSeparated field of the
// placeholder's type, so a raw newline or backslash would end or corrupt it.
var paramEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`, "\x00", `\0`)

func escapeParam(v string) string { return paramEscaper.Replace(v) }

func bytePtr(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return &b[0]
}

// byteArrays holds strings laid out for a C `const char* const*` plus a
// `const size_t*` of lengths. Every buffer is Go heap memory (which the Go
// collector never moves) kept alive by the caller across the call.
type byteArrays struct {
	data    []byte
	pointer []uintptr
	length  []uintptr
}

func newByteArrays(ss []string) *byteArrays {
	total := 0
	for _, s := range ss {
		total += len(s) + 1
	}
	a := &byteArrays{data: make([]byte, total), pointer: make([]uintptr, len(ss)), length: make([]uintptr, len(ss))}
	off := 0
	for i, s := range ss {
		copy(a.data[off:], s)
		a.pointer[i] = uintptr(unsafe.Pointer(&a.data[off]))
		a.length[i] = uintptr(len(s))
		off += len(s) + 1 // NUL-terminated too, for the calls that want C strings
	}
	return a
}

func (a *byteArrays) ptrs() unsafe.Pointer {
	if len(a.pointer) == 0 {
		return nil
	}
	return unsafe.Pointer(&a.pointer[0])
}

func (a *byteArrays) lens() unsafe.Pointer {
	if len(a.length) == 0 {
		return nil
	}
	return unsafe.Pointer(&a.length[0])
}

type cStrings struct{ *byteArrays }

func newCStrings(ss []string) cStrings { return cStrings{newByteArrays(ss)} }

func (c cStrings) array() unsafe.Pointer { return c.ptrs() }

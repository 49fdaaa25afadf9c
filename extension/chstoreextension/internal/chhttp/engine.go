package chhttp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
)

// Request says how to prepare the engine connection one HTTP request runs on.
type Request struct {
	// Database becomes the connection's current database ("" = default).
	Database string
	// ReadOnly runs the request at readonly=1: the engine then refuses
	// writes, DDL, temporary tables, every table function that reaches
	// files or the network, and any change of a setting.
	ReadOnly bool
	// Settings are set, in order, before readonly=1 is: the request's
	// URL settings, then those of its own SETTINGS clauses (which then
	// "change" nothing, so the engine accepts them at readonly=1).
	Settings []Setting
	// Tenant, when set, limits every table the statement reads to the
	// tenant's rows (tenant.go): additional_table_filters and the
	// analyzer, set after Settings and before readonly=1, which Tenant
	// implies.
	Tenant string
}

// Setting is a setting the policy allowed, with its value as SQL text.
type Setting struct {
	Name    string
	Literal string
}

// Conn is the connection of one request.
type Conn interface {
	// Query runs a statement and hands fn its output, which is valid only
	// until fn returns (the engine's own buffer: a result is held once).
	Query(sql, format string, params map[string]string, fn func(*chdb.Result) error) error
	// Insert streams data, encoded in format, into an INSERT header.
	Insert(sql, format string, data []byte) (written uint64, err error)
}

// Engine runs the HTTP interface's statements. Implementations must be
// safe for concurrent use.
type Engine interface {
	// Do prepares a connection for req and runs fn on it. Nothing fn does
	// outlives it: the connection is the request's alone.
	Do(ctx context.Context, req Request, fn func(Conn) error) error
}

// EngineConfig configures ConnEngine.
type EngineConfig struct {
	// Limits are enforced by the engine on every statement.
	Limits Limits
	// MaxConcurrent bounds the statements that run at once (default 2).
	MaxConcurrent int
	// QueueTimeout is how long a request waits for its turn before it is
	// answered TOO_MANY_SIMULTANEOUS_QUERIES (default 5 s).
	QueueTimeout time.Duration
}

// Defaults of EngineConfig.
const (
	DefaultMaxConcurrent = 2
	DefaultQueueTimeout  = 5 * time.Second
)

// ConnEngine runs each request on an engine connection of its own, opened
// for it and closed after it (about 0.6 ms on the build machine). The
// connection is opened with the limits as connection settings, which no
// statement can raise once readonly=1 is set, and state a request leaves
// behind (a temporary table, a setting) is gone with it.
type ConnEngine struct {
	lib    *chdb.Library
	dir    string
	cfg    EngineConfig
	args   []string
	anchor *chdb.Conn    // keeps the engine up between requests
	slots  chan struct{} // one per statement that may run
}

// ErrNoEngineProfile reports an engine started in this process without the
// profile WriteEngineProfile writes (another connection opened first).
var ErrNoEngineProfile = errors.New("the engine runs without the Nexus engine profile " +
	"(its first connection in this process must pass the argument WriteEngineProfile returns)")

// NewEngine returns an engine over the data directory the process's engine
// runs on, after checking that the engine enforces what this package
// relies on: the engine profile's constant settings, readonly=1 refusing a
// setting change, and the limits in effect.
func NewEngine(lib *chdb.Library, dataDir string, cfg EngineConfig) (*ConnEngine, error) {
	cfg.Limits = cfg.Limits.WithDefaults()
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.QueueTimeout <= 0 {
		cfg.QueueTimeout = DefaultQueueTimeout
	}
	anchor, err := lib.Connect(dataDir)
	if err != nil {
		return nil, fmt.Errorf("open the HTTP interface's engine connection: %w", err)
	}
	e := &ConnEngine{
		lib: lib, dir: dataDir, cfg: cfg, anchor: anchor, slots: make(chan struct{}, cfg.MaxConcurrent),
		args: []string{
			"--max_execution_time=" + cfg.Limits.seconds(),
			"--timeout_overflow_mode=throw",
			fmt.Sprintf("--max_result_bytes=%d", cfg.Limits.MaxResultBytes),
			"--result_overflow_mode=throw",
			fmt.Sprintf("--max_memory_usage=%d", cfg.Limits.MaxMemoryUsage),
		},
	}
	if err := e.selfCheck(); err != nil {
		anchor.Close()
		return nil, err
	}
	return e, nil
}

// Close closes the engine's own connection.
func (e *ConnEngine) Close() { e.anchor.Close() }

// selfCheck measures, at start, what the engine enforces.
func (e *ConnEngine) selfCheck() error {
	var ee *chdb.EngineError
	_, err := e.anchor.Query("SELECT 1 SETTINGS format_template_row = 'x'", "TabSeparated", nil)
	if !errors.As(err, &ee) || ee.Code() != codeSettingConstraintViolation {
		return fmt.Errorf("chhttp: check the engine profile: %w (changing format_template_row gave %w)", ErrNoEngineProfile, err)
	}
	return e.Do(context.Background(), Request{ReadOnly: true}, func(c Conn) error {
		var got string
		err := c.Query("SELECT getSetting('readonly'), getSetting('max_execution_time')", "TabSeparatedRaw", nil,
			func(r *chdb.Result) error { got = strings.TrimSpace(string(r.Data)); return nil })
		if err != nil {
			return fmt.Errorf("chhttp: check the read-only connection: %w", err)
		}
		if want := "1\t" + e.cfg.Limits.seconds(); got != want {
			return fmt.Errorf("chhttp: the read-only connection reports readonly, max_execution_time = %q, want %q", got, want)
		}
		err = c.Query("SELECT 1 SETTINGS max_block_size = 12345", "TabSeparated", nil, func(*chdb.Result) error { return nil })
		if !errors.As(err, &ee) || ee.Code() != codeReadonly {
			return fmt.Errorf("chhttp: the read-only connection let a setting change (%w)", err)
		}
		return nil
	})
}

// errTooManyQueries answers a request that waited too long for its turn.
func (e *ConnEngine) errTooManyQueries() error {
	return &sqlError{code: codeTooManySimultaneousQueries, msg: fmt.Sprintf(
		"Code: 202. DB::Exception: Too many simultaneous queries: %d are running and none finished within %v. "+
			"(TOO_MANY_SIMULTANEOUS_QUERIES)", e.cfg.MaxConcurrent, e.cfg.QueueTimeout)}
}

func (e *ConnEngine) Do(ctx context.Context, req Request, fn func(Conn) error) error {
	timer := time.NewTimer(e.cfg.QueueTimeout)
	defer timer.Stop()
	select {
	case e.slots <- struct{}{}:
	case <-timer.C:
		return e.errTooManyQueries()
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-e.slots }()
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := e.lib.Connect(e.dir, e.args...)
	if err != nil {
		return fmt.Errorf("open the request's engine connection: %w", err)
	}
	defer c.Close()
	if err := prepareConn(c, req); err != nil {
		return err
	}
	return fn(&reqConn{c: c})
}

// prepareConn applies the request's settings, database and read-only mode.
func prepareConn(c *chdb.Conn, req Request) error {
	var tenantSet string
	if req.Tenant != "" {
		// The catalogue is read before the request's settings apply:
		// one of them (limit, max_result_rows) could cut it short, and
		// a table missing from the map is read unfiltered.
		fs, err := tenantFilters(c, req.Tenant)
		if err != nil {
			return err
		}
		tenantSet = "SET additional_table_filters = " + filtersLiteral(fs) + ", enable_analyzer = 1"
		req.ReadOnly = true
	}
	if len(req.Settings) > 0 {
		parts := make([]string, len(req.Settings))
		for i, s := range req.Settings {
			parts[i] = quoteIdentifier(s.Name) + " = " + s.Literal
		}
		set := "SET " + strings.Join(parts, ", ")
		if defaultEscape(set) {
			return errDefaultEscape
		}
		if _, err := c.Query(set, "TabSeparated", nil); err != nil {
			return err
		}
	}
	db := req.Database
	if db == "" {
		db = "default"
	}
	if _, err := c.Query("USE "+quoteIdentifier(db), "TabSeparated", nil); err != nil {
		return err
	}
	if tenantSet != "" {
		if defaultEscape(tenantSet) {
			return errDefaultEscape
		}
		if _, err := c.Query(tenantSet, "TabSeparated", nil); err != nil {
			return fmt.Errorf("set the tenant's table filters: %w", err)
		}
	}
	if req.ReadOnly {
		if _, err := c.Query("SET readonly = 1", "TabSeparated", nil); err != nil {
			return fmt.Errorf("make the request's connection read-only: %w", err)
		}
	}
	return nil
}

// errDefaultEscape refuses "= DEFAULT", which the engine lets lift
// readonly and limits. The policy refuses it first; this is the adapter's
// own guard.
var errDefaultEscape = &chdb.EngineError{
	Message: "Code: 497. DB::Exception: Resetting a setting to DEFAULT is not allowed on this HTTP interface. (ACCESS_DENIED)"}

type reqConn struct{ c *chdb.Conn }

func (r *reqConn) Query(sql, format string, params map[string]string, fn func(*chdb.Result) error) error {
	if defaultEscape(sql) {
		return errDefaultEscape
	}
	return r.c.QueryFunc(sql, format, params, fn)
}

func (r *reqConn) Insert(sql, format string, data []byte) (uint64, error) {
	if firstKeyword(sql) != "INSERT" {
		return 0, errors.New("chhttp: Insert needs an INSERT statement")
	}
	if defaultEscape(sql) {
		return 0, errDefaultEscape
	}
	return r.c.Insert(sql, format, data)
}

package chhttp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nexus-otel/nexus/internal/chdb"
)

// Statement is one SQL statement for the engine, already checked by the
// handler (a single statement, no local-file access, no readonly escape).
type Statement struct {
	// SQL is the statement. For Insert it is the INSERT header without
	// VALUES/FORMAT and without data.
	SQL string
	// Format is the output format for Query (a FORMAT clause in SQL wins
	// over it: the engine honours the clause) or the data format for Insert.
	Format string
	// Params bind {name:Type} placeholders, unescaped values.
	Params map[string]string
	// Database is the current database the statement runs in ("" = default).
	Database string
	// ReadOnly runs the statement where the engine refuses writes.
	ReadOnly bool
}

// Engine is what the HTTP interface needs from the embedded engine.
// Implementations must be safe for concurrent use.
type Engine interface {
	Query(ctx context.Context, st Statement) (*chdb.Result, error)
	Insert(ctx context.Context, st Statement, data []byte) (*chdb.Result, error)
}

// NewConnEngine adapts two engine connections on the same data directory:
// rw for writes and ro, opened with "--readonly=2", for reads, so that the
// engine itself refuses writes (READONLY, code 164) on the read-only path
// while SETTINGS clauses keep working. rw may be nil for a read-only
// interface: writes then go to ro and are refused there.
//
// Both connections must be dedicated to the HTTP interface: the adapter
// switches their current database with USE (the engine has no per-call
// database argument), which would change the database of any other user of
// the same *chdb.Conn between calls.
//
// Each connection runs one statement at a time; callers queue for it and
// give up while queued if their context ends. A running statement cannot be
// cancelled: it runs to completion and its result is dropped.
// The read-only connection is checked on first use: if the engine does not
// report it as read-only, every statement is refused.
func NewConnEngine(rw *chdb.Conn, ro *chdb.Conn) Engine {
	e := &connEngine{ro: newSlot(ro)}
	if rw != nil {
		e.rw = newSlot(rw)
	} else {
		e.rw = e.ro
	}
	return e
}

type connEngine struct {
	rw, ro *slot

	roChecked sync.Once
	roErr     error // the read-only connection is not read-only
}

// OpenConns opens the two connections NewConnEngine wants on dataDir, which
// may be the directory the rest of the process uses: a read-write one and a
// read-only one ("--readonly=2"). args go to both (e.g. "--max_threads=2").
func OpenConns(lib *chdb.Library, dataDir string, args ...string) (rw, ro *chdb.Conn, err error) {
	rw, err = lib.Connect(dataDir, args...)
	if err != nil {
		return nil, nil, err
	}
	ro, err = lib.Connect(dataDir, append(append([]string(nil), args...), "--readonly=2")...)
	if err != nil {
		rw.Close()
		return nil, nil, err
	}
	return rw, ro, nil
}

// slot is a connection with a queue and the database it is known to be in.
type slot struct {
	conn *chdb.Conn
	sem  chan struct{}
	db   string // current database, "" when unknown
}

func newSlot(c *chdb.Conn) *slot {
	return &slot{conn: c, sem: make(chan struct{}, 1)}
}

func (e *connEngine) pick(readOnly bool) *slot {
	if readOnly {
		return e.ro
	}
	return e.rw
}

func (s *slot) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		<-s.sem
		return err
	}
	return nil
}

func (s *slot) release() { <-s.sem }

// use makes db the connection's current database.
func (s *slot) use(db string) error {
	if db == "" {
		db = "default"
	}
	if s.db == db {
		return nil
	}
	if _, err := s.conn.Query("USE "+quoteIdentifier(db), "TabSeparated", nil); err != nil {
		s.db = ""
		return err
	}
	s.db = db
	return nil
}

// errReadonlyEscape refuses SQL that would lift readonly on the read-only
// connection. The handler refuses it first; this is the adapter's own guard.
var errReadonlyEscape = &chdb.EngineError{
	Message: "Code: 164. DB::Exception: Cannot modify 'readonly' setting in readonly mode. (READONLY)"}

func (e *connEngine) run(ctx context.Context, st Statement, f func(*slot) (*chdb.Result, error)) (*chdb.Result, error) {
	s := e.pick(st.ReadOnly)
	if s == e.ro && readonlyEscape(st.SQL) {
		return nil, errReadonlyEscape
	}
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	defer s.release()
	if s == e.ro {
		e.roChecked.Do(func() {
			res, err := s.conn.Query("SELECT getSetting('readonly')", "TabSeparated", nil)
			if err == nil && strings.TrimSpace(string(res.Data)) == "0" {
				err = errors.New("it is not read-only (open it with --readonly=2)")
			}
			if err != nil {
				e.roErr = fmt.Errorf("chhttp: checking the read-only engine connection: %w", err)
			}
		})
		if e.roErr != nil {
			return nil, e.roErr
		}
	}
	if err := s.use(st.Database); err != nil {
		return nil, err
	}
	res, err := f(s)
	if firstKeyword(st.SQL) == "USE" {
		s.db = "" // the statement moved the connection
	}
	return res, err
}

func (e *connEngine) Query(ctx context.Context, st Statement) (*chdb.Result, error) {
	return e.run(ctx, st, func(s *slot) (*chdb.Result, error) {
		return s.conn.Query(st.SQL, st.Format, st.Params)
	})
}

func (e *connEngine) Insert(ctx context.Context, st Statement, data []byte) (*chdb.Result, error) {
	if firstKeyword(st.SQL) != "INSERT" {
		return nil, errors.New("chhttp: Insert needs an INSERT statement")
	}
	return e.run(ctx, st, func(s *slot) (*chdb.Result, error) {
		n, err := s.conn.Insert(st.SQL, st.Format, data)
		if err != nil {
			return nil, err
		}
		return &chdb.Result{RowsWritten: n}, nil
	})
}

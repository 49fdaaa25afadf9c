package chstoreextension

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chhttp"
	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/codec"
	"github.com/nexus-otel/nexus/internal/store"
)

// embeddedStore runs the ClickHouse engine in-process. Each engine
// connection runs one statement at a time, so small pools of connections
// on the same data directory give the collector concurrency: one for
// writes (Exec, batches) and one for reads (Query), so that however many
// reads the API runs, an insert never waits behind them.
//
// Read connections are opened with readonly=2 (reads only, settings still
// allowed) and with max_query_time as max_execution_time, which the engine
// enforces: a statement cannot be interrupted through the engine's API, so
// the engine's own limit is what ends a runaway read, not ctx.
type embeddedStore struct {
	db       string
	dir      string
	lib      *chdb.Library
	conns    []*chdb.Conn
	pool     chan *chdb.Conn // writes
	readPool chan *chdb.Conn // reads
	// profileArg loads the engine profile (chhttp.WriteEngineProfile);
	// it counts on the process's first connection only.
	profileArg string

	cols columnCache
}

func resolveDataDir(cfg EmbeddedConfig) string {
	if cfg.DataDir != "" {
		return cfg.DataDir
	}
	if d := os.Getenv(DataDirEnv); d != "" {
		return d
	}
	return "./data"
}

func openEmbedded(cfg *Config) (*embeddedStore, error) {
	lib, err := chdb.Load(cfg.Embedded.LibraryPath)
	if err != nil {
		return nil, err
	}
	dir := resolveDataDir(cfg.Embedded)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	profile, err := chhttp.WriteEngineProfileWith(dir, cfg.httpLimits(), chhttp.EngineMemory{MaxServerMemory: cfg.Embedded.MaxMemory})
	if err != nil {
		return nil, fmt.Errorf("open embedded store in %s: %w", dir, err)
	}
	s := &embeddedStore{db: cfg.Database, dir: dir, lib: lib, profileArg: profile,
		pool: make(chan *chdb.Conn, cfg.Embedded.Connections), readPool: make(chan *chdb.Conn, cfg.Embedded.ReadConnections)}
	open := func(pool chan *chdb.Conn, n int, args ...string) error {
		for range n {
			c, err := lib.Connect(dir, append([]string{profile}, args...)...)
			if err != nil {
				return fmt.Errorf("open embedded store in %s: %w", dir, err)
			}
			s.conns = append(s.conns, c)
			pool <- c
		}
		return nil
	}
	err = open(s.pool, cfg.Embedded.Connections)
	if err == nil {
		err = open(s.readPool, cfg.Embedded.ReadConnections, "--readonly=2",
			"--max_execution_time="+strconv.FormatFloat(cfg.MaxQueryTime.Seconds(), 'f', -1, 64), "--timeout_overflow_mode=throw")
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// conn lends a write connection, waiting for one while ctx allows. Engine
// calls themselves cannot be interrupted; ctx bounds only the wait.
func (s *embeddedStore) conn(ctx context.Context) (*chdb.Conn, func(), error) {
	return lend(ctx, s.pool, "write")
}

// readConn lends a read connection, as conn does.
func (s *embeddedStore) readConn(ctx context.Context) (*chdb.Conn, func(), error) {
	return lend(ctx, s.readPool, "read")
}

func lend(ctx context.Context, pool chan *chdb.Conn, what string) (*chdb.Conn, func(), error) {
	select {
	case c := <-pool:
		return c, func() { pool <- c }, nil
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("wait for an engine %s connection: %w", what, ctx.Err())
	}
}

func (s *embeddedStore) Database() string { return s.db }

func (s *embeddedStore) Exec(ctx context.Context, query string, params store.Params) error {
	c, release, err := s.conn(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = c.Query(query, "Null", params)
	return err
}

func (s *embeddedStore) Query(ctx context.Context, query string, params store.Params) (store.Rows, error) {
	c, release, err := s.readConn(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Query(query, "RowBinaryWithNamesAndTypes", params)
	release()
	if err != nil {
		return nil, err
	}
	return codec.NewReader(res.Data)
}

func (s *embeddedStore) Ping(ctx context.Context) error {
	return s.Exec(ctx, "SELECT 1", nil)
}

func (s *embeddedStore) PrepareBatch(ctx context.Context, table string, columns []string) (store.Batch, error) {
	types, err := s.cols.types(ctx, s, s.db, table, columns)
	if err != nil {
		return nil, err
	}
	settings, err := settingsClause(store.InsertSettingsFrom(ctx))
	if err != nil {
		return nil, fmt.Errorf("insert into %s: %w", table, err)
	}
	return &embeddedBatch{
		s:     s,
		query: fmt.Sprintf("INSERT INTO %s.%s (%s)%s", quoteIdent(s.db), quoteIdent(table), joinIdents(columns), settings),
		enc:   codec.NewRowEncoder(types),
	}, nil
}

// settingsClause renders insert settings as the SETTINGS clause of the
// INSERT header (" SETTINGS a = 1, b = 'x'", "" for none). The engine's
// streaming insert takes only that header, so settings travel in its text:
// names are checked to be identifiers and values are string literals
// (the engine converts them to each setting's type), never spliced raw.
func settingsClause(settings store.InsertSettings) (string, error) {
	if len(settings) == 0 {
		return "", nil
	}
	names := make([]string, 0, len(settings))
	for name := range settings {
		if !settingName.MatchString(name) {
			return "", fmt.Errorf("insert setting name %q is not an identifier", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + " = " + quoteString(settings[name])
	}
	return " SETTINGS " + strings.Join(parts, ", "), nil
}

var settingName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quoteString is a ClickHouse string literal of s.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func (s *embeddedStore) close() {
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

type embeddedBatch struct {
	s     *embeddedStore
	query string
	enc   *codec.RowEncoder
	buf   []byte
	rows  int
}

func (b *embeddedBatch) Append(values ...any) error {
	buf, err := b.enc.Append(b.buf, values...)
	if err != nil {
		return err
	}
	b.buf = buf
	b.rows++
	return nil
}

func (b *embeddedBatch) Rows() int { return b.rows }

func (b *embeddedBatch) Send(ctx context.Context) error {
	if b.rows == 0 {
		return nil
	}
	c, release, err := b.s.conn(ctx)
	if err != nil {
		return err
	}
	defer release()
	if _, err := c.Insert(b.query, "RowBinary", b.buf); err != nil {
		return err
	}
	b.buf, b.rows = b.buf[:0], 0
	return nil
}

func (b *embeddedBatch) Abort() error {
	b.buf, b.rows = nil, 0
	return nil
}

func joinIdents(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quoteIdent(c)
	}
	return strings.Join(q, ", ")
}

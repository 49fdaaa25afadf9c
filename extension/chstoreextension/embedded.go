package chstoreextension

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/nexus-otel/nexus/internal/chdb"
	"github.com/nexus-otel/nexus/internal/rowbinary"
	"github.com/nexus-otel/nexus/internal/store"
)

// embeddedStore runs the ClickHouse engine in-process. Each engine
// connection runs one statement at a time, so a small pool of connections
// on the same data directory gives the collector concurrency.
type embeddedStore struct {
	db    string
	lib   *chdb.Library
	conns []*chdb.Conn
	pool  chan *chdb.Conn

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
	s := &embeddedStore{db: cfg.Database, lib: lib, pool: make(chan *chdb.Conn, cfg.Embedded.Connections)}
	for range cfg.Embedded.Connections {
		c, err := lib.Connect(dir)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("open embedded store in %s: %w", dir, err)
		}
		s.conns = append(s.conns, c)
		s.pool <- c
	}
	return s, nil
}

// conn lends a connection, waiting for one while ctx allows. Engine calls
// themselves cannot be interrupted; ctx bounds only the wait.
func (s *embeddedStore) conn(ctx context.Context) (*chdb.Conn, func(), error) {
	select {
	case c := <-s.pool:
		return c, func() { s.pool <- c }, nil
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("wait for an engine connection: %w", ctx.Err())
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
	c, release, err := s.conn(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Query(query, "RowBinaryWithNamesAndTypes", params)
	release()
	if err != nil {
		return nil, err
	}
	return rowbinary.NewReader(res.Data)
}

// Raw runs query and returns the engine's output in format, for the
// ClickHouse HTTP interface.
func (s *embeddedStore) Raw(ctx context.Context, query, format string, params map[string]string) (*chdb.Result, error) {
	c, release, err := s.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return c.Query(query, format, params)
}

func (s *embeddedStore) Ping(ctx context.Context) error {
	return s.Exec(ctx, "SELECT 1", nil)
}

func (s *embeddedStore) PrepareBatch(ctx context.Context, table string, columns []string) (store.Batch, error) {
	types, err := s.cols.types(ctx, s, s.db, table, columns)
	if err != nil {
		return nil, err
	}
	return &embeddedBatch{
		s:     s,
		query: fmt.Sprintf("INSERT INTO %s.%s (%s)", quoteIdent(s.db), quoteIdent(table), joinIdents(columns)),
		enc:   rowbinary.NewRowEncoder(types),
	}, nil
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
	enc   *rowbinary.RowEncoder
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

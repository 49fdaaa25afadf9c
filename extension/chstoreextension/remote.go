package chstoreextension

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/codec"
	"github.com/nexus-otel/nexus/internal/store"
)

// remoteStore reaches a ClickHouse server or cluster through clickhouse-go,
// over the native protocol or HTTP.
type remoteStore struct {
	db           string
	conn         driver.Conn
	cols         columnCache
	maxQueryTime time.Duration
	cluster      string
}

var _ store.ClusterReporter = (*remoteStore)(nil)

// Cluster is remote.cluster: the store's deletes run ON CLUSTER there.
func (s *remoteStore) Cluster() string { return s.cluster }

func openRemote(ctx context.Context, cfg *Config) (*remoteStore, error) {
	tlsCfg, err := cfg.Remote.TLS.LoadTLSConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("remote.tls: %w", err)
	}
	protocol := clickhouse.Native
	if cfg.Remote.Protocol == ProtocolHTTP {
		protocol = clickhouse.HTTP
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:     cfg.Remote.Endpoints,
		Protocol: protocol,
		TLS:      tlsCfg,
		Auth: clickhouse.Auth{
			// The session database stays "default": Nexus qualifies every
			// table, and its own database may not exist before migrations.
			Database: "default",
			Username: cfg.Remote.Username,
			Password: string(cfg.Remote.Password),
		},
		DialTimeout:  cfg.Remote.DialTimeout,
		MaxOpenConns: cfg.Remote.MaxOpenConns,
		ClientInfo:   clickhouse.ClientInfo{Products: []struct{ Name, Version string }{{Name: "nexus", Version: "0.1"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("open ClickHouse %v: %w", cfg.Remote.Endpoints, err)
	}
	return &remoteStore{db: cfg.Database, conn: conn, maxQueryTime: cfg.MaxQueryTime, cluster: cfg.Remote.Cluster}, nil
}

func withParams(ctx context.Context, params store.Params) context.Context {
	if len(params) == 0 {
		return ctx
	}
	return clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters(params)))
}

// readContext gives a read the server-enforced time limit: max_execution_time
// of max_query_time, or less when ctx ends sooner. clickhouse-go would
// replace it with ctx's remaining time + 5 s (raising it past the limit),
// so the context handed to clickhouse-go keeps ctx's cancellation but
// reports no deadline.
func (s *remoteStore) readContext(ctx context.Context, params store.Params) context.Context {
	limit := s.maxQueryTime
	if deadline, ok := ctx.Deadline(); ok {
		limit = min(limit, time.Until(deadline))
	}
	secs := max(int64(math.Ceil(limit.Seconds())), 1)
	opts := []clickhouse.QueryOption{clickhouse.WithSettings(clickhouse.Settings{"max_execution_time": secs})}
	if len(params) > 0 {
		opts = append(opts, clickhouse.WithParameters(clickhouse.Parameters(params)))
	}
	return clickhouse.Context(noDeadline{ctx}, opts...)
}

// noDeadline is a context that ends with its parent but reports no deadline.
type noDeadline struct{ context.Context }

func (noDeadline) Deadline() (time.Time, bool) { return time.Time{}, false }

func (s *remoteStore) Database() string { return s.db }

func (s *remoteStore) Exec(ctx context.Context, query string, params store.Params) error {
	return s.conn.Exec(withParams(ctx, params), query)
}

func (s *remoteStore) Query(ctx context.Context, query string, params store.Params) (store.Rows, error) {
	return s.conn.Query(s.readContext(ctx, params), query)
}

func (s *remoteStore) Ping(ctx context.Context) error { return s.conn.Ping(ctx) }

func (s *remoteStore) PrepareBatch(ctx context.Context, table string, columns []string) (store.Batch, error) {
	types, err := s.cols.types(ctx, s, s.db, table, columns)
	if err != nil {
		return nil, err
	}
	// clickhouse-go sends the INSERT, and so its settings, at PrepareBatch.
	if settings := store.InsertSettingsFrom(ctx); len(settings) > 0 {
		chs := make(clickhouse.Settings, len(settings))
		for k, v := range settings {
			chs[k] = v
		}
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(chs))
	}
	b, err := s.conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s)", quoteIdent(s.db), quoteIdent(table), joinIdents(columns)))
	if err != nil {
		return nil, withCode(err)
	}
	return &remoteBatch{b: b, check: codec.NewRowEncoder(types).WithNames(columns...)}, nil
}

func (s *remoteStore) close() error { return s.conn.Close() }

// remoteBatch adapts clickhouse-go's batch, whose Send takes the context
// given at PrepareBatch. clickhouse-go appends a row column by column, so a
// row refused halfway would leave the batch misaligned; each row is first
// checked with the encoder the embedded store uses, so that a refused row
// leaves the batch as it was, in both modes.
type remoteBatch struct {
	b       driver.Batch
	check   *codec.RowEncoder
	scratch []byte
	broken  error
}

func (r *remoteBatch) Append(values ...any) error {
	var err error
	if r.scratch, err = r.check.Append(r.scratch[:0], values...); err != nil {
		return err
	}
	if err := r.b.Append(values...); err != nil && r.broken == nil {
		r.broken = fmt.Errorf("batch left inconsistent by a refused row: %w", err)
	}
	return nil
}

func (r *remoteBatch) Rows() int { return r.b.Rows() }

func (r *remoteBatch) Send(context.Context) error {
	if r.broken != nil {
		_ = r.b.Abort()
		return r.broken
	}
	return withCode(r.b.Send())
}

// codedError gives a server exception the Code() method that
// store.ErrorCode looks for, as the embedded engine's errors have, so that
// writers tell refused data from outages the same way in both modes.
type codedError struct {
	err  error
	code int
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }
func (e *codedError) Code() int     { return e.code }

func withCode(err error) error {
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return &codedError{err: err, code: int(ex.Code)}
	}
	return err
}

func (r *remoteBatch) Abort() error { return r.b.Abort() }

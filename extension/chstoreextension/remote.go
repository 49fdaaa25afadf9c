package chstoreextension

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/nexus-otel/nexus/internal/store"
)

// remoteStore reaches a ClickHouse server or cluster through clickhouse-go,
// over the native protocol or HTTP.
type remoteStore struct {
	db   string
	conn driver.Conn
}

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
	return &remoteStore{db: cfg.Database, conn: conn}, nil
}

func withParams(ctx context.Context, params store.Params) context.Context {
	if len(params) == 0 {
		return ctx
	}
	return clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters(params)))
}

func (s *remoteStore) Database() string { return s.db }

func (s *remoteStore) Exec(ctx context.Context, query string, params store.Params) error {
	return s.conn.Exec(withParams(ctx, params), query)
}

func (s *remoteStore) Query(ctx context.Context, query string, params store.Params) (store.Rows, error) {
	return s.conn.Query(withParams(ctx, params), query)
}

func (s *remoteStore) Ping(ctx context.Context) error { return s.conn.Ping(ctx) }

func (s *remoteStore) PrepareBatch(ctx context.Context, table string, columns []string) (store.Batch, error) {
	b, err := s.conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.%s (%s)", quoteIdent(s.db), quoteIdent(table), joinIdents(columns)))
	if err != nil {
		return nil, err
	}
	return remoteBatch{b}, nil
}

func (s *remoteStore) close() error { return s.conn.Close() }

// remoteBatch adapts clickhouse-go's batch, whose Send takes the context
// given at PrepareBatch.
type remoteBatch struct{ b driver.Batch }

func (r remoteBatch) Append(values ...any) error { return r.b.Append(values...) }
func (r remoteBatch) Rows() int                  { return r.b.Rows() }
func (r remoteBatch) Send(context.Context) error { return r.b.Send() }
func (r remoteBatch) Abort() error               { return r.b.Abort() }

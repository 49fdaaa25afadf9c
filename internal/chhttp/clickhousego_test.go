package chhttp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"
)

// TestClickhouseGoOverHTTP: clickhouse-go in HTTP mode — what the Grafana
// data source speaks — connects, binds parameters, passes settings in the
// URL and decodes the engine's Native blocks column by column.
func TestClickhouseGoOverHTTP(t *testing.T) {
	srv := newServer(t, Config{})
	fresh(t, "chgo")
	exec(t, `CREATE TABLE chgo (ts DateTime64(3, 'UTC'), provider LowCardinality(String), cost Nullable(Decimal(18, 12)),
		tags Map(String, String), tokens Array(UInt64)) ENGINE = MergeTree ORDER BY ts`)
	exec(t, `INSERT INTO chgo VALUES ('2026-11-01 10:00:00.123', 'openai', 0.000150000001, {'env':'prod'}, [1, 2]),
		('2026-11-01 10:00:01', 'exa', NULL, {}, [])`)

	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{strings.TrimPrefix(srv.URL, "http://")}, Protocol: clickhouse.HTTP,
		Settings: clickhouse.Settings{"max_threads": 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	if err := conn.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	v, err := conn.ServerVersion()
	if err != nil || v.Version.Major < 24 {
		t.Fatalf("server version %+v: %v", v, err)
	}

	rows, err := conn.Query(ctx, "SELECT ts, provider, cost, tags, tokens, toUInt64(getSetting('max_threads')) FROM chgo WHERE ts >= {from:DateTime64(3, 'UTC')} ORDER BY ts",
		clickhouse.Named("from", "2026-11-01 00:00:00"))
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	type row struct {
		ts       time.Time
		provider string
		cost     *decimal.Decimal
		tags     map[string]string
		tokens   []uint64
		threads  uint64
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.ts, &r.provider, &r.cost, &r.tags, &r.tokens, &r.threads); err != nil {
			t.Fatalf("scan: %v", err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].ts.Equal(time.Date(2026, 11, 1, 10, 0, 0, 123e6, time.UTC)) || got[0].provider != "openai" ||
		got[0].cost == nil || got[0].cost.String() != "0.000150000001" || got[0].tags["env"] != "prod" || len(got[0].tokens) != 2 ||
		got[1].cost != nil || got[0].threads != 1 {
		t.Fatalf("rows %+v", got)
	}

	// No rows: the columns still come, as from a server.
	empty, err := conn.Query(ctx, "SELECT provider, cost FROM chgo WHERE provider = {p:String}", clickhouse.Named("p", "none"))
	if err != nil {
		t.Fatal(err)
	}
	if cols := empty.Columns(); empty.Next() || len(cols) != 2 || cols[0] != "provider" || empty.ColumnTypes()[1].DatabaseTypeName() != "Nullable(Decimal(18, 12))" {
		t.Fatalf("empty result columns %v", cols)
	}
	empty.Close()

	// The engine's errors come back as ClickHouse exceptions.
	err = conn.QueryRow(ctx, "SELECT nope FROM chgo").Scan(new(string))
	var ex *clickhouse.Exception
	if err == nil || !errors.As(err, &ex) || ex.Code != 47 {
		t.Fatalf("unknown column: %v", err)
	}
}

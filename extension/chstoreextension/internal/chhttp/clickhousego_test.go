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

// TestGrafanaDataSource: what Grafana's ClickHouse data source (v4) sends
// over HTTP is accepted as it is sent. The plugin opens clickhouse-go
// through database/sql with gzip, its default database, its custom
// settings and "limit" (when a row limit is on); sqlds runs every query
// under the query timeout (60 s by default), which clickhouse-go sends as
// max_execution_time = 64 or 65 — lowered here to the interface's limit.
func TestGrafanaDataSource(t *testing.T) {
	fresh(t, "db:grafana_ds")
	exec(t, "CREATE DATABASE grafana_ds")
	exec(t, "CREATE TABLE grafana_ds.calls (ts DateTime64(3, 'UTC'), provider LowCardinality(String), cost Float64) ENGINE = MergeTree ORDER BY ts")
	exec(t, "INSERT INTO grafana_ds.calls SELECT toDateTime64('2026-11-01 10:00:00', 3, 'UTC') + number, ['openai', 'exa'][number % 2 + 1], number / 10 FROM numbers(120)")
	srv := newServer(t, Config{})

	db := clickhouse.OpenDB(&clickhouse.Options{
		Addr:        []string{strings.TrimPrefix(srv.URL, "http://")},
		Protocol:    clickhouse.HTTP,
		Auth:        clickhouse.Auth{Database: "grafana_ds", Username: "default"},
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionGZIP},
		DialTimeout: 10 * time.Second,
		ReadTimeout: 60 * time.Second,
		Settings:    clickhouse.Settings{"limit": 1000, "max_execution_time": 60},
		ClientInfo:  clickhouse.ClientInfo{Products: []struct{ Name, Version string }{{"grafana", "12.0.0"}, {"clickhouse-datasource", "4.10.0"}}},
	})
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // sqlds' query timeout
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	var version string
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&version); err != nil || !strings.HasPrefix(version, "26.") {
		t.Fatalf("version: %q %v", version, err)
	}
	// The schema browser, then a time series panel with $__timeFilter
	// and $__timeInterval expanded as the plugin expands them.
	for _, q := range []string{
		"SHOW DATABASES",
		"SELECT name FROM system.tables WHERE database = 'grafana_ds'",
		"DESC TABLE grafana_ds.calls",
		"SELECT name, type FROM system.columns WHERE database = 'grafana_ds' AND table = 'calls'",
	} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if !rows.Next() {
			t.Fatalf("%s: no rows", q)
		}
		rows.Close()
	}
	rows, err := db.QueryContext(ctx, `SELECT toStartOfInterval(ts, INTERVAL 60 second) AS time, provider, sum(cost) AS cost
FROM grafana_ds.calls
WHERE ts >= toDateTime(1793527200) AND ts < toDateTime(1793527320)
GROUP BY time, provider ORDER BY time, provider`)
	if err != nil {
		t.Fatalf("panel query: %v", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var ts time.Time
		var provider string
		var cost float64
		if err := rows.Scan(&ts, &provider, &cost); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 4 {
		t.Fatalf("panel rows: %d, %v", n, err)
	}
	// The settings arrive as sent (limit caps a result; the engine does not
	// report it through getSetting), the time limit lowered to the ceiling.
	var count, maxTime string
	if err := db.QueryRowContext(ctx, "SELECT toString(count()), getSetting('max_execution_time') FROM (SELECT number FROM numbers(5000))").Scan(&count, &maxTime); err != nil ||
		maxTime != "30" {
		t.Fatalf("max_execution_time %q, %v", maxTime, err)
	}
	lim, err := db.QueryContext(ctx, "SELECT number FROM numbers(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer lim.Close()
	n = 0
	for lim.Next() {
		n++
	}
	if n != 1000 {
		t.Fatalf("limit = 1000 gave %d rows", n)
	}
}

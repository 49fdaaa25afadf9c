package chstoreextension

import (
	"context"
	"go.uber.org/zap/zaptest"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/nexus-otel/nexus/internal/store"
)

// One data directory per process (an engine rule): tests share it and each
// keeps to its own database.
var dataDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chstore-test")
	if err != nil {
		panic(err)
	}
	dataDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func startEmbedded(t testing.TB, db string, tweak func(*Config)) (*chstore, store.Store) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Database = db
	cfg.Embedded.DataDir = dataDir
	if tweak != nil {
		tweak(cfg)
	}
	ext := newExtension(cfg, extensiontest.NewNopSettings(componentType))
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ext.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return ext, ext.Store()
}

// scalar runs q and returns its one String value. (Other packages use
// storetest.Scalar; this package cannot import storetest, which imports it.)
func scalar(t testing.TB, s store.Store, q string) string {
	t.Helper()
	rows, err := s.Query(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var v string
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", q, rows.Err())
	}
	if err := rows.Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrationsAreRecordedAndIdempotent(t *testing.T) {
	ext, s := startEmbedded(t, "mig_test", nil)
	ctx := context.Background()
	migrations, err := loadMigrations("mig_test", "")
	if err != nil {
		t.Fatal(err)
	}
	count := func() string { return scalar(t, s, "SELECT toString(count()) FROM mig_test.schema_migrations") }
	want := strconv.Itoa(len(migrations))
	if got := count(); got != want {
		t.Fatalf("recorded %s migrations, want %s", got, want)
	}
	// Running again applies nothing and records nothing new.
	if err := migrate(ctx, s, "", ext.logger); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != want {
		t.Fatalf("after second run: %s, want %s", got, want)
	}
	// Every table the migrations create exists.
	rows, err := s.Query(ctx, "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", store.Params{"db": "mig_test"})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if strings.Join(names, ",") != "alert_events,alert_rules,"+
		"api_call_corrections,api_call_corrections_1d_mv,api_call_corrections_1h_mv,api_call_corrections_1m_mv,api_call_corrections_customer_1d_mv,"+
		"api_call_corrections_customer_1h_mv,api_call_corrections_tag_1d_mv,api_call_corrections_user_1d_mv,api_call_corrections_user_1h_mv,"+
		"api_calls,api_calls_1d,api_calls_1d_mv,api_calls_1h,api_calls_1h_mv,api_calls_1m,api_calls_1m_mv,"+
		"api_calls_by_customer,api_calls_by_customer_mv,api_calls_by_user,api_calls_by_user_mv,"+
		"api_calls_customer_1d,api_calls_customer_1d_mv,api_calls_customer_1h,api_calls_customer_1h_mv,api_calls_tag_1d,api_calls_tag_1d_mv,"+
		"api_calls_user_1d,api_calls_user_1d_mv,api_calls_user_1h,api_calls_user_1h_mv,"+
		"api_keys,audit_log,budget_events,budgets,cost_reconciliation,ingest_keys,price_syncs,prices,provider_credentials,provider_gauges,provider_health,provider_usage,schema_migrations,sessions,tenants,users" {
		t.Fatalf("tables: %v", names)
	}
}

func TestClusterRendersReplicatedEngines(t *testing.T) {
	ms, err := loadMigrations("nexus", "prod")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, stmt := range statements(m.text) {
			// An INSERT has no ON CLUSTER: replication carries its rows.
			if !strings.Contains(stmt, "ON CLUSTER `prod`") && !strings.HasPrefix(stmt, "INSERT INTO") {
				t.Fatalf("migration %d: statement without ON CLUSTER:\n%s", m.version, stmt)
			}
			if strings.Contains(stmt, "MergeTree") && !strings.Contains(stmt, "MergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'") {
				t.Fatalf("migration %d: MergeTree without replication:\n%s", m.version, stmt)
			}
		}
	}
	local, err := loadMigrations("nexus", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(local[0].text, "Replicated") || strings.Contains(local[0].text, "ON CLUSTER") {
		t.Fatalf("local migration mentions cluster:\n%s", local[0].text)
	}
}

func TestStatements(t *testing.T) {
	got := statements("-- comment\nCREATE TABLE a (x String DEFAULT ';') ENGINE = Memory;\n\nCREATE VIEW b AS\nSELECT 1;\n")
	if len(got) != 2 || !strings.HasPrefix(got[0], "CREATE TABLE a") || !strings.HasPrefix(got[1], "CREATE VIEW b") {
		t.Fatalf("statements: %q", got)
	}
}

func TestEmbeddedStoreRoundTrip(t *testing.T) {
	_, s := startEmbedded(t, "rt_test", nil)
	roundTrip(t, s, "rt_test")
}

// TestRemoteOverEmbeddedHTTP runs remote mode — clickhouse-go over HTTP, as
// against a ClickHouse server — against the embedded engine's HTTP
// interface: migrations, batches, typed reads and errors, all through it.
func TestRemoteOverEmbeddedHTTP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	startEmbedded(t, "remote_host", func(c *Config) {
		c.HTTP.Enabled, c.HTTP.ReadOnly = true, false
		c.HTTP.NetAddr.Endpoint = addr
	})
	cfg := createDefaultConfig().(*Config)
	cfg.Mode, cfg.Database = ModeRemote, "remote_rt"
	cfg.Remote.Endpoints, cfg.Remote.Protocol = []string{addr}, "http"
	cfg.Remote.TLS.Insecure = true // plain HTTP on loopback
	set := extensiontest.NewNopSettings(componentType)
	set.Logger = zaptest.NewLogger(t)
	ext := newExtension(cfg, set)
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer ext.Shutdown(context.Background())
	s := ext.Store()
	// Migrations run in the background in remote mode: wait for them.
	migrations, err := loadMigrations("remote_rt", "")
	if err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(len(migrations))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rows, err := s.Query(context.Background(), "SELECT toString(count()) FROM remote_rt.schema_migrations", nil)
		var got string
		if err == nil {
			if rows.Next() {
				_ = rows.Scan(&got)
			}
			rows.Close()
		}
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote migrations: %s of %s recorded (%v)", got, want, err)
		}
	}
	roundTrip(t, s, "remote_rt")
	retriedInsertSelect(t, s, "remote_rt")
}

// roundTrip writes awkward values through a batch and reads them back typed.
func roundTrip(t *testing.T, s store.Store, db string) {
	ctx := context.Background()
	if err := s.Exec(ctx, "CREATE TABLE "+db+".t (ts DateTime64(9, 'UTC'), name LowCardinality(String), cost Decimal(18, 9), n UInt64, labels Map(String, String)) ENGINE = MergeTree ORDER BY ts", nil); err != nil {
		t.Fatal(err)
	}
	b, err := s.PrepareBatch(ctx, "t", []string{"ts", "name", "cost", "n", "labels"})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 26, 1, 2, 3, 456789012, time.UTC)
	hostile := "it's\n\n\"x\"\t\\"
	for i := range 3 {
		if err := b.Append(ts.Add(time.Duration(i)), hostile, decimal.RequireFromString("0.000000001"), uint64(i), map[string]string{"k": "v"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Append(ts, "bad", "not a number", uint64(0), nil); err == nil {
		t.Fatal("bad decimal accepted")
	}
	if b.Rows() != 3 {
		t.Fatalf("rows = %d", b.Rows())
	}
	if err := b.Send(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(ctx, "SELECT count(), sum(cost), max(ts), any(labels) FROM "+db+".t WHERE name = {name:String}", store.Params{"name": hostile})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal("no row")
	}
	var n uint64
	var sum decimal.Decimal
	var maxTS time.Time
	var labels map[string]string
	if err := rows.Scan(&n, &sum, &maxTS, &labels); err != nil {
		t.Fatal(err)
	}
	if n != 3 || sum.String() != "0.000000003" || !maxTS.Equal(ts.Add(2)) || labels["k"] != "v" {
		t.Fatalf("got n=%d sum=%s max=%s labels=%v", n, sum, maxTS, labels)
	}

	if _, err := s.PrepareBatch(ctx, "t", []string{"ts", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown column: %v", err)
	}
	if _, err := s.PrepareBatch(ctx, "missing", []string{"ts"}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing table: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRemoteDownDoesNotStopCollector: a ClickHouse server that is not there
// at start is an outage, not a startup failure.
func TestRemoteDownDoesNotStopCollector(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Mode = ModeRemote
	cfg.Remote.Endpoints = []string{"127.0.0.1:1"} // nothing listens on port 1
	cfg.Remote.DialTimeout = 200 * time.Millisecond
	ext := newExtension(cfg, extensiontest.NewNopSettings(componentType))
	if err := ext.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatalf("start with the server down: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := ext.Store().Ping(ctx); err == nil {
		t.Fatal("ping succeeded with no server")
	}
	if err := ext.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRetentionSetsTTLOnce(t *testing.T) {
	ext, s := startEmbedded(t, "ttl_test", nil)
	ctx := context.Background()
	ttl, err := tableTTL(ctx, s, "api_calls")
	if err != nil {
		t.Fatal(err)
	}
	if normalizeTTL(ttl) != normalizeTTL("toDateTime(timestamp) + toIntervalSecond(7776000)") {
		t.Fatalf("api_calls TTL = %q, want 90 days", ttl)
	}
	if ttl, _ := tableTTL(ctx, s, "api_calls_1d"); ttl != "" {
		t.Fatalf("api_calls_1d TTL = %q, want none (kept forever)", ttl)
	}
	mutations := func() string {
		return scalar(t, s, "SELECT toString(count()) FROM system.mutations WHERE database = 'ttl_test'")
	}
	before := mutations()
	// The same retention again changes nothing.
	if err := applyRetention(ctx, s, defaultRetention(), "", ext.logger); err != nil {
		t.Fatal(err)
	}
	if after := mutations(); after != before {
		t.Fatalf("re-applying the same retention ran ALTERs: mutations %s -> %s", before, after)
	}
	// A new retention replaces the TTL; 0 removes it.
	r := defaultRetention()
	r.APICalls = 48 * time.Hour
	r.APICalls1m = 0
	if err := applyRetention(ctx, s, r, "", ext.logger); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := tableTTL(ctx, s, "api_calls"); !strings.Contains(ttl, "172800") {
		t.Fatalf("api_calls TTL after change = %q", ttl)
	}
	if ttl, _ := tableTTL(ctx, s, "api_calls_1m"); ttl != "" {
		t.Fatalf("api_calls_1m TTL after removal = %q", ttl)
	}
}

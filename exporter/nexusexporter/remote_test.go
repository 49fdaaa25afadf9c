package nexusexporter

import (
	"context"
	"net"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap/zaptest"

	"github.com/nexus-otel/nexus/extension/chstoreextension"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestRemoteModeLandsOnce runs the exporter on the remote store
// (clickhouse-go over HTTP, as against a ClickHouse server), served by the
// embedded engine's HTTP interface: the insert settings travel with
// clickhouse-go's batches, a request sent twice lands once, and the
// server's data errors keep their codes, so a refused block is bisected
// as in embedded mode.
func TestRemoteModeLandsOnce(t *testing.T) {
	local, _ := storetest.Start(t, "exp_remote_host")
	ctx := context.Background()
	// The engine serves one data directory per process: the HTTP
	// interface's store must open the one the test binary already has.
	dir := storetest.Scalar(t, local, "SELECT value FROM system.server_settings WHERE name = 'path'")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	f := chstoreextension.NewFactory()
	start := func(cfg *chstoreextension.Config) component.Component {
		set := extensiontest.NewNopSettings(f.Type())
		set.Logger = zaptest.NewLogger(t)
		ext, err := f.Create(ctx, set, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := ext.Start(ctx, componenttest.NewNopHost()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
		return ext
	}
	server := f.CreateDefaultConfig().(*chstoreextension.Config)
	server.Database, server.Embedded.DataDir = "exp_remote_host", dir
	server.HTTP.Enabled, server.HTTP.ReadOnly, server.HTTP.NetAddr.Endpoint = true, false, addr
	start(server)

	client := f.CreateDefaultConfig().(*chstoreextension.Config)
	client.Mode, client.Database = chstoreextension.ModeRemote, "exp_remote"
	client.Remote.Endpoints, client.Remote.Protocol = []string{addr}, chstoreextension.ProtocolHTTP
	client.Remote.TLS.Insecure = true // plain HTTP on loopback
	ext := start(client)
	// Remote migrations run in the background: wait until they are as
	// many as the embedded store ran before it started.
	all := storetest.Scalar(t, local, "SELECT toString(count()) FROM exp_remote_host.schema_migrations FINAL")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// The table itself may not be there yet.
		if rows, err := local.Query(ctx, "SELECT toString(count()) FROM exp_remote.schema_migrations FINAL", nil); err == nil {
			var n string
			if rows.Next() {
				_ = rows.Scan(&n)
			}
			rows.Close()
			if n == all {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("remote migrations not done in 30s (want %s)", all)
		}
	}
	requireDedupWindow(t, local, "exp_remote", callTables...)
	if err := local.Exec(ctx, "ALTER TABLE exp_remote.api_calls ADD CONSTRAINT no_poison CHECK model != 'poison'", nil); err != nil {
		t.Fatal(err)
	}

	x := newSyncExporters(t, storetest.Host{Host: componenttest.NewNopHost(), Extensions: map[component.ID]component.Component{storetest.ID: ext}})
	td := calls(50, recent())
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(7).Attributes().PutStr("gen_ai.response.model", "poison")
	consume(t, x.traces, td)
	consume(t, x.traces, td)
	if got := callCounts(t, local, "exp_remote"); got != "(49,49,49,49,49,49)" {
		t.Fatalf("stored (api_calls, distinct, 1h, 1d, api_calls and 1m over 29 days) = %s, want 49 everywhere", got)
	}
	if got, want := x.refused(t), map[string]int64{"api_calls/refused_by_engine": 2}; !equalCounts(got, want) {
		t.Fatalf("refused %v, want %v (once per request)", got, want)
	}
}

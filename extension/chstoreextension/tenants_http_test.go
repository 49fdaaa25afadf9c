package chstoreextension

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
)

// TestTenantUsersOverHTTP: the extension's interface, configured with
// http.users, over the real migrated schema with two tenants' calls: each
// tenant user reads its own totals to the cent from the raw calls and from
// every rollup, and nothing of the other; the operator reads both. The
// same through clickhouse-go (remote mode pointed at the interface with a
// tenant's credentials), which is how Grafana reads.
func TestTenantUsersOverHTTP(t *testing.T) {
	addr := freeAddr(t)
	_, s := startEmbedded(t, "tenant_http", func(c *Config) {
		c.HTTP.Enabled, c.HTTP.NetAddr.Endpoint = true, addr
		c.HTTP.Username, c.HTTP.Password = "operator", "op-pass"
		c.HTTP.Users = []TenantUser{
			{Username: "grafana-acme", Password: "acme-pass", Tenant: "acme"},
			{Username: "grafana-globex", Password: "globex-pass", Tenant: "globex"},
		}
	})
	ctx := context.Background()
	if err := s.Exec(ctx, "INSERT INTO tenant_http.api_calls (timestamp, provider, span_id, tenant, customer, user, team, feature, tags, cost_usd) VALUES "+
		"(now64(9), 'openai', 'a1', 'acme', 'acme-c1', 'u1', 'search', 'chat', map('env', 'prod'), 0.10), "+
		"(now64(9), 'openai', 'a2', 'acme', 'acme-c2', 'u2', 'search', 'chat', map('env', 'prod'), 0.20), "+
		"(now64(9), 'openai', 'g1', 'globex', 'globex-c', 'gu', 'globex-team', 'globex-feat', map('env', 'globex'), 7.77)", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "INSERT INTO tenant_http.ingest_keys (id, tenant, name, prefix, key_hash) VALUES "+
		"('k1', 'acme', 'a', 'nx_a', 'hash-acme'), ('k2', 'globex', 'g', 'nx_g', 'hash-globex')", nil); err != nil {
		t.Fatal(err)
	}
	queries := map[string]string{
		"raw":        "SELECT toString(sum(cost_usd)) FROM tenant_http.api_calls",
		"1m":         "SELECT toString(sum(cost_usd)) FROM tenant_http.api_calls_1m",
		"1h":         "SELECT toString(sum(cost_usd)) FROM tenant_http.api_calls_1h",
		"1d":         "SELECT toString(sum(cost_usd)) FROM tenant_http.api_calls_1d",
		"customer":   "SELECT toString(sum(cost_usd)) FROM tenant_http.api_calls_customer_1d",
		"user":       "SELECT toString(sum(cost_usd)) FROM tenant_http.api_calls_user_1d",
		"tag":        "SELECT toString(sum(cost_usd)) FROM tenant_http.api_calls_tag_1d",
		"unfiltered": "SELECT toString(sum(cost_usd)) FROM tenant_http.api_calls WHERE tenant IN ('acme', 'globex') OR 1",
		"keys":       "SELECT toString(count()) FROM tenant_http.ingest_keys",
	}
	want := map[string]map[string]string{
		"grafana-acme":   {"raw": "0.3", "1m": "0.3", "1h": "0.3", "1d": "0.3", "customer": "0.3", "user": "0.3", "tag": "0.3", "unfiltered": "0.3", "keys": "0"},
		"grafana-globex": {"raw": "7.77", "1m": "7.77", "1h": "7.77", "1d": "7.77", "customer": "7.77", "user": "7.77", "tag": "7.77", "unfiltered": "7.77", "keys": "0"},
		"operator":       {"raw": "8.07", "1m": "8.07", "1h": "8.07", "1d": "8.07", "customer": "8.07", "user": "8.07", "tag": "8.07", "unfiltered": "8.07", "keys": "2"},
	}
	pass := map[string]string{"grafana-acme": "acme-pass", "grafana-globex": "globex-pass", "operator": "op-pass"}
	for user, answers := range want {
		for name, sql := range queries {
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/?"+url.Values{"query": {sql}}.Encode(), nil)
			req.SetBasicAuth(user, pass[user])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := strings.TrimSpace(string(b)); resp.StatusCode != 200 || got != answers[name] {
				t.Errorf("%s, %s: %d %q, want %q", user, name, resp.StatusCode, got, answers[name])
			}
		}
	}

	// clickhouse-go with a tenant's credentials (Grafana's path).
	cfg := createDefaultConfig().(*Config)
	cfg.Mode, cfg.Database, cfg.Migrate = ModeRemote, "tenant_http", false
	cfg.Remote.Endpoints, cfg.Remote.Protocol = []string{addr}, ProtocolHTTP
	cfg.Remote.Username, cfg.Remote.Password = "grafana-acme", "acme-pass"
	cfg.Remote.TLS.Insecure = true
	ext := newExtension(cfg, extensiontest.NewNopSettings(componentType))
	if err := ext.Start(ctx, componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer ext.Shutdown(ctx)
	rs := ext.Store()
	if got := scalar(t, rs, "SELECT toString(sum(cost_usd)) FROM tenant_http.api_calls_1d WHERE team != ''"); got != "0.3" {
		t.Errorf("clickhouse-go as acme: %s, want 0.3", got)
	}
	if got := scalar(t, rs, "SELECT arrayStringConcat(groupArray(DISTINCT customer), ',') FROM tenant_http.api_calls_customer_1d"); strings.Contains(got, "globex") {
		t.Errorf("clickhouse-go as acme sees %s", got)
	}
	if err := rs.Exec(ctx, "INSERT INTO tenant_http.api_calls (timestamp, provider, span_id, tenant) VALUES (now64(9), 'x', 'z', 'globex')", nil); err == nil {
		t.Error("a tenant user wrote a row")
	}
}

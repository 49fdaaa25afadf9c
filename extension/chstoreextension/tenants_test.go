package chstoreextension

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
)

var remoteTenantUsers = []TenantUser{
	{Username: "grafana-acme", Password: "acme-secret", Tenant: "acme"},
	{Username: "grafana-globex", Password: "globex'; DROP USER x --", Tenant: "globex"},
}

func TestTenantStatementsRendered(t *testing.T) {
	tables := []tableColumns{
		{"api_calls", []string{"ts", "tenant", "cost_usd"}},
		{"api_keys", []string{"id", "tenant", "key_hash"}},
		{"tenants", []string{"id", "name"}},
		{"schema_migrations", []string{"version"}},
		{"odd`name", []string{"tenant"}},
	}
	got := tenantStatements("nexus", "nexus_cluster", "nexus", remoteTenantUsers, tables)
	for _, want := range []string{
		"CREATE USER IF NOT EXISTS `grafana-acme` ON CLUSTER `nexus_cluster` IDENTIFIED WITH sha256_hash BY '" + passwordHash("acme-secret") + "'",
		"ALTER USER `grafana-acme` ON CLUSTER `nexus_cluster` IDENTIFIED WITH sha256_hash BY '" + passwordHash("acme-secret") + "'",
		"GRANT ON CLUSTER `nexus_cluster` SELECT ON `nexus`.* TO `grafana-acme`",
		"REVOKE ON CLUSTER `nexus_cluster` SELECT ON `nexus`.`api_keys` FROM `grafana-acme`",
		"CREATE ROW POLICY IF NOT EXISTS `nexus_tenant_grafana-acme` ON CLUSTER `nexus_cluster` ON `nexus`.`api_calls` FOR SELECT USING tenant = 'acme' TO `grafana-acme`",
		"ALTER ROW POLICY `nexus_tenant_grafana-acme` ON CLUSTER `nexus_cluster` ON `nexus`.`api_calls` FOR SELECT USING tenant = 'acme' TO `grafana-acme`",
		"CREATE ROW POLICY IF NOT EXISTS `nexus_tenant_grafana-globex` ON CLUSTER `nexus_cluster` ON `nexus`.`api_calls` FOR SELECT USING tenant = 'globex' TO `grafana-globex`",
		"CREATE ROW POLICY IF NOT EXISTS `nexus_tenant_grafana-acme` ON CLUSTER `nexus_cluster` ON `nexus`.`api_keys` FOR SELECT USING 0 TO `grafana-acme`",
		"CREATE ROW POLICY IF NOT EXISTS `nexus_tenant_grafana-acme` ON CLUSTER `nexus_cluster` ON `nexus`.`tenants` FOR SELECT USING id = 'acme' TO `grafana-acme`",
		"CREATE ROW POLICY IF NOT EXISTS `nexus_tenant_grafana-acme` ON CLUSTER `nexus_cluster` ON `nexus`.`schema_migrations` FOR SELECT USING 0 TO `grafana-acme`",
		"CREATE ROW POLICY IF NOT EXISTS `nexus_tenant_grafana-acme` ON CLUSTER `nexus_cluster` ON `nexus`.`odd``name` FOR SELECT USING tenant = 'acme' TO `grafana-acme`",
		"CREATE ROW POLICY IF NOT EXISTS `nexus_installation` ON CLUSTER `nexus_cluster` ON `nexus`.`api_calls` FOR SELECT USING 1 TO `nexus`",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing statement:\n%s\nin:\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, st := range got {
		if strings.Contains(st, "secret") || strings.Contains(st, "DROP") {
			t.Errorf("a password reaches the server: %s", st)
		}
		if strings.Contains(st, "REVOKE") && !strings.Contains(st, "api_keys") {
			t.Errorf("revoked a table without secrets: %s", st)
		}
	}
	// No cluster: no ON CLUSTER; no users: nothing at all.
	for _, st := range tenantStatements("nexus", "", "", remoteTenantUsers, tables) {
		if strings.Contains(st, "ON CLUSTER") {
			t.Errorf("ON CLUSTER without a cluster: %s", st)
		}
	}
	if n := len(tenantStatements("nexus", "", "", nil, tables)); n != 0 {
		t.Errorf("%d statements without tenant users", n)
	}
}

// Against the real schema: the engine's own parser accepts every
// statement, every table of the migrated database gets a policy per user,
// and the embedded engine itself refuses access management (its one user
// has no access_management), which is why remote mode's enforcement is
// tested as statements here and not as logins.
func TestTenantStatementsOnTheRealSchema(t *testing.T) {
	_, s := startEmbedded(t, "tenant_policies", nil)
	ctx := context.Background()
	tables, err := nexusTables(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tc := range tables {
		names[tc.name] = true
	}
	for _, want := range []string{"api_calls", "api_calls_1d", "api_calls_customer_1d", "api_calls_user_1d", "api_calls_tag_1d",
		"budgets", "alert_rules", "alert_events", "api_keys", "ingest_keys", "tenants", "provider_usage"} {
		if !names[want] {
			t.Errorf("table %s not found: %v", want, names)
		}
	}
	stmts := tenantStatements(s.Database(), "nexus_cluster", "nexus", remoteTenantUsers, tables)
	for _, st := range stmts {
		if _, err := s.Query(ctx, "EXPLAIN AST "+st, nil); err != nil {
			t.Errorf("the engine does not parse %q: %v", st, err)
		}
	}
	policies := 0
	for _, st := range stmts {
		if strings.HasPrefix(st, "CREATE ROW POLICY IF NOT EXISTS `nexus_tenant_grafana-acme`") {
			policies++
			cond := st[strings.Index(st, " USING ")+7 : strings.Index(st, " TO ")]
			table := st[strings.Index(st, "ON `tenant_policies`.`")+22:]
			table = table[:strings.Index(table, "`")]
			want := "tenant = 'acme'"
			switch table {
			case "api_keys", "ingest_keys", "schema_migrations", "users", "sessions", "provider_credentials", "audit_log", "price_syncs":
				want = "0"
			case "tenants":
				want = "id = 'acme'"
			}
			if cond != want {
				t.Errorf("%s: policy %q, want %q", table, cond, want)
			}
		}
	}
	if policies != len(tables) {
		t.Errorf("%d policies for %d tables", policies, len(tables))
	}
	cfg := createDefaultConfig().(*Config)
	cfg.Remote.TenantUsers = remoteTenantUsers
	err = provisionTenantUsers(ctx, s, cfg, zap.NewNop())
	var coded interface{ Code() int }
	if !errors.As(err, &coded) || coded.Code() != 497 || !strings.Contains(err.Error(), "access_management") ||
		strings.Contains(err.Error(), passwordHash("acme-secret")) {
		t.Errorf("chDB and access management: %v", err)
	}
}

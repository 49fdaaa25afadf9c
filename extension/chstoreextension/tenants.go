package chstoreextension

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chhttp"
	"github.com/nexus-otel/nexus/internal/store"
)

// Tenant users in remote mode. A ClickHouse server enforces isolation
// itself: each tenant user (remote.tenant_users) becomes a server user
// that may SELECT in the Nexus database, with a row policy on every table
// of it, so that the server shows it its tenant's rows only, whatever SQL
// it sends. The conditions are the ones the embedded HTTP interface applies
// per query (chhttp.TableFilter): tenant = '<t>' where a table has a
// tenant column, id = '<t>' on tenants, 0 (no row) on key tables and any
// other table, and key tables are revoked besides.
//
// Once a table has a row policy, whether users without one still read it
// is the server's access_control_improvements.
// users_without_row_policies_can_read_rows (true by default since 23.x);
// the installation's own user (remote.username) gets a policy of its own
// that lets it read every row either way.
//
// Statements are idempotent and run at every start, after migrations, so
// that tables added by a migration gain their policies: CREATE … IF NOT
// EXISTS creates what is missing, ALTER then brings what exists to the
// configuration (a changed password or tenant) without dropping it, so
// there is no moment without a policy. Users removed from the
// configuration are not dropped (the server may hold other users with
// those names); drop them by hand.

// tableColumns is a table of the Nexus database with its column names.
type tableColumns struct {
	name string
	cols []string
}

// nexusTables lists the Nexus database's tables with their columns.
func nexusTables(ctx context.Context, s store.Store) ([]tableColumns, error) {
	rows, err := s.Query(ctx, "SELECT table, name FROM system.columns WHERE database = {db:String} ORDER BY table, position",
		store.Params{"db": s.Database()})
	if err != nil {
		return nil, fmt.Errorf("list the tables of %s for tenant row policies: %w", s.Database(), err)
	}
	defer rows.Close()
	var out []tableColumns
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, fmt.Errorf("list the tables of %s for tenant row policies: %w", s.Database(), err)
		}
		if len(out) == 0 || out[len(out)-1].name != table {
			out = append(out, tableColumns{name: table})
		}
		out[len(out)-1].cols = append(out[len(out)-1].cols, col)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list the tables of %s for tenant row policies: %w", s.Database(), err)
	}
	return out, nil
}

// installationPolicy is the row policy of the installation's own user.
const installationPolicy = "nexus_installation"

// tenantPolicyName is the row policy of one tenant user.
func tenantPolicyName(user string) string { return "nexus_tenant_" + user }

// passwordHash is what the server stores for a password (sha256_hash): the
// password itself never reaches the server or its query log.
func passwordHash(pw string) string {
	sum := sha256.Sum256([]byte(pw))
	return hex.EncodeToString(sum[:])
}

// tenantStatements renders the access statements for users over tables.
// Names are quoted identifiers; the only literals are tenant ids (validated
// slugs, still escaped) and hex password hashes: access-management
// statements take no query parameters.
func tenantStatements(db, cluster, installationUser string, users []TenantUser, tables []tableColumns) []string {
	if len(users) == 0 {
		return nil
	}
	on := ""
	if cluster != "" {
		on = " ON CLUSTER " + quoteIdent(cluster)
	}
	tables = append([]tableColumns(nil), tables...)
	sort.Slice(tables, func(i, j int) bool { return tables[i].name < tables[j].name })
	qdb := quoteIdent(db)
	policy := func(name, table, cond, to string) []string {
		target := qdb + "." + quoteIdent(table)
		return []string{
			fmt.Sprintf("CREATE ROW POLICY IF NOT EXISTS %s%s ON %s FOR SELECT USING %s TO %s", quoteIdent(name), on, target, cond, to),
			fmt.Sprintf("ALTER ROW POLICY %s%s ON %s FOR SELECT USING %s TO %s", quoteIdent(name), on, target, cond, to),
		}
	}
	var out []string
	if installationUser == "" {
		installationUser = "default"
	}
	for _, t := range tables {
		out = append(out, policy(installationPolicy, t.name, "1", quoteIdent(installationUser))...)
	}
	for _, u := range users {
		user := quoteIdent(u.Username)
		auth := "IDENTIFIED WITH sha256_hash BY " + quoteString(passwordHash(string(u.Password)))
		out = append(out,
			fmt.Sprintf("CREATE USER IF NOT EXISTS %s%s %s", user, on, auth),
			fmt.Sprintf("ALTER USER %s%s %s", user, on, auth),
			fmt.Sprintf("GRANT%s SELECT ON %s.* TO %s", on, qdb, user),
		)
		for _, t := range tables {
			if chhttp.SecretTable(t.name, t.cols) {
				out = append(out, fmt.Sprintf("REVOKE%s SELECT ON %s.%s FROM %s", on, qdb, quoteIdent(t.name), user))
			}
		}
		for _, t := range tables {
			out = append(out, policy(tenantPolicyName(u.Username), t.name, chhttp.TableFilter(t.name, t.cols, u.Tenant), user)...)
		}
	}
	return out
}

// provisionTenantUsers creates or updates the tenant users and their row
// policies on the server.
func provisionTenantUsers(ctx context.Context, s store.Store, cfg *Config, logger *zap.Logger) error {
	if len(cfg.Remote.TenantUsers) == 0 {
		return nil
	}
	tables, err := nexusTables(ctx, s)
	if err != nil {
		return err
	}
	stmts := tenantStatements(s.Database(), cfg.Remote.Cluster, cfg.Remote.Username, cfg.Remote.TenantUsers, tables)
	for _, st := range stmts {
		if err := s.Exec(ctx, st, nil); err != nil {
			// The statement names users and tables, never a password.
			return fmt.Errorf("provision tenant users (remote.username needs access_management): %s: %w", firstWords(st), err)
		}
	}
	logger.Info("tenant users provisioned with row policies", zap.Int("users", len(cfg.Remote.TenantUsers)),
		zap.Int("tables", len(tables)), zap.Int("statements", len(stmts)))
	return nil
}

// firstWords shortens a statement for an error, up to its IDENTIFIED
// clause (a password hash has no place in logs either).
func firstWords(st string) string {
	if i := strings.Index(st, " IDENTIFIED"); i >= 0 {
		return st[:i]
	}
	return st
}

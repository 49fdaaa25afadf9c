package chhttp

import (
	"net/http"
	"testing"
)

// BenchmarkTenantRequest measures what a tenant user's request costs over
// the installation's: the catalogue read and the filters set on its
// connection.
func BenchmarkTenantRequest(b *testing.B) {
	t := &testing.T{}
	srv := seedTenants(t)
	b.Cleanup(func() { exec(t, "DROP DATABASE IF EXISTS "+tenantDB) })
	sql := q("query", "SELECT sum(cost_usd) FROM tn_iso.api_calls")
	for _, u := range []struct{ name, user, pass string }{{"installation", "operator", "op-pass"}, {"tenant", "grafana-acme", "acme-pass"}} {
		b.Run(u.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if r := asUser(t, srv, http.MethodGet, u.user, u.pass, sql, ""); r.status != 200 {
					b.Fatal(r.body)
				}
			}
		})
	}
}

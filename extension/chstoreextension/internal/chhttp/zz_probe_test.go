package chhttp

import (
	"context"
	"strings"
	"testing"

	"github.com/nexus-otel/nexus/extension/chstoreextension/internal/chdb"
)

func TestZZMerge(t *testing.T) {
	seedTenants(t)
	for _, filt := range []string{
		`{'_table_function.merge': 'tenant = \'acme\''}`,
		`{'merge': 'tenant = \'acme\''}`,
		`{'m': 'tenant = \'acme\''}`,
		`{'_table_function.merge': 'tenant = \'acme\' AND _table IN (\'api_calls\')'}`,
	} {
		for _, sql := range []string{
			"SELECT count(), toString(sum(cost_usd)) FROM merge('tn_iso', '^api_calls$')",
			"SELECT count() FROM merge('tn_iso', '^api_calls$') AS m",
			"SELECT count() FROM merge('tn_iso', '^api_keys$')",
			"SELECT currentDatabase(), count() FROM merge('^tn_iso$', '^api_calls$')",
			"SELECT count() FROM merge(REGEXP('tn'), '^api_calls$')",
			"SELECT _database, _table, count() FROM merge('tn_iso', '.*') GROUP BY ALL",
		} {
			for _, an := range []string{"1", "0"} {
				req := Request{ReadOnly: true, Database: "tn_iso", Settings: []Setting{{Name: "enable_analyzer", Literal: an}, {Name: "additional_table_filters", Literal: filt}}}
				err := testEngine.Do(context.Background(), req, func(c Conn) error {
					return c.Query(sql, "TSVRaw", nil, func(r *chdb.Result) error {
						t.Logf("%.50s | %s %-70s => %s", filt, an, sql, strings.ReplaceAll(strings.TrimSpace(string(r.Data)), "\n", " | "))
						return nil
					})
				})
				if err != nil {
					t.Logf("%.50s | %s %-70s => ERR %.150v", filt, an, sql, err)
				}
			}
		}
	}
}

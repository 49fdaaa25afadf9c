package nexusexporter

import (
	"context"
	"testing"

	"github.com/nexus-otel/nexus/internal/semconv"
	"github.com/nexus-otel/nexus/internal/storetest"
)

// TestExportStoresTheTenant: a call is stored in the tenant on its
// resource (the cost processor's stamp), the default tenant without one.
// Two tenants sending the same trace and span ids both have their calls
// stored — a sender copying another's ids hides nothing — while the same
// calls sent again by one tenant are stored once.
func TestExportStoresTheTenant(t *testing.T) {
	s, h := storetest.Start(t, "exp_tenant")
	exp := newExporter(t, h, nil)
	ctx := context.Background()
	at := recent()
	for _, tenant := range []string{"acme", "globex", "", "acme"} {
		td := calls(2, at)
		if tenant != "" {
			td.ResourceSpans().At(0).Resource().Attributes().PutStr(semconv.Tenant, tenant)
		}
		if err := exp.ConsumeTraces(ctx, td); err != nil {
			t.Fatal(err)
		}
	}
	if err := exp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	got := storetest.Scalar(t, s, "SELECT arrayStringConcat(groupArray(concat(tenant, '=', toString(n))), ',') FROM "+
		"(SELECT tenant, count() AS n FROM exp_tenant.api_calls GROUP BY tenant ORDER BY tenant)")
	if want := "acme=2,default=2,globex=2"; got != want {
		t.Fatalf("calls by tenant: %s, want %s", got, want)
	}
}

package nexusapiextension

import "github.com/nexus-otel/nexus/internal/storetest"

// seedCall is one stored call for tests; zero fields get sensible values.
type seedCall = storetest.Call

// seed inserts calls into api_calls the way the exporter does (same table,
// same materialized views feeding the rollups).
func (ta *testAPI) seed(calls ...seedCall) {
	ta.t.Helper()
	storetest.SeedCalls(ta.t, ta.store, calls...)
}

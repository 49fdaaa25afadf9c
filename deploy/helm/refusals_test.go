package helmchart

import (
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
)

// TestRefusals: values that would deploy something that cannot work are
// refused at render time, with a message naming the value to change.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, values, want string
	}{
		{"unknown mode", "mode: standalone", "mode"},
		{"cluster without ClickHouse", "mode: cluster\nsecrets: {env: {NEXUS_ADMIN_KEY: " + adminKey + "}}", "clickhouse.endpoints"},
		{"cluster without an admin key", "mode: cluster\nclickhouse: {endpoints: [ch:9000]}", "secrets.env.NEXUS_ADMIN_KEY"},
		{"short admin key", "secrets: {env: {NEXUS_ADMIN_KEY: short}}", "at least 32 characters"},
		{"two evaluators without election", clusterValues + "alerting: {leaderElection: {enabled: false}}", "alerting.leaderElection.enabled"},
		{"election without a service account", clusterValues + "serviceAccount: {create: false}", "serviceAccount.name"},
		{"HTTP interface exposed without a password", "store: {http: {expose: true}}", "NEXUS_CH_PASSWORD"},
		{"no ingest", "ingest: {otlp: {enabled: false}, proxy: {enabled: false}}", "ingest"},
		{"secret key not a variable name", "secrets: {env: {not-a-name: x}}", "not an environment variable name"},
		{"replicas not a number (schema)", "replicaCount: three", "replicaCount"},
		{"pollers neither on, off nor auto (schema)", "ingest: {apiusage: {enabled: sometimes}}", "enabled"},
		{"ClickHouse endpoint without a port (schema)", "mode: cluster\nclickhouse: {endpoints: [ch-1]}", "endpoints"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderChart(values(t, tc.values))
			if err == nil {
				t.Fatalf("rendered; want a refusal naming %q", tc.want)
			}
			t.Logf("refused: %v", err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

// TestOldKubernetesRefused: the chart's kubeVersion range is enforced.
func TestOldKubernetesRefused(t *testing.T) {
	if _, err := renderFor(values(t, embeddedValues), "v1.26.0"); err == nil || !strings.Contains(err.Error(), "kubeVersion") {
		t.Errorf("rendered for Kubernetes 1.26: %v", err)
	}
}

// TestLint runs Helm's own chart linter (what `helm lint` runs) with the
// values of each mode: no warnings or errors. The refused mode shows the
// linter would report one.
func TestLint(t *testing.T) {
	for name, text := range map[string]string{
		"defaults": "",
		"embedded": embeddedValues,
		"cluster":  clusterValues,
		"ingress":  embeddedValues + "ingress: {enabled: true}",
	} {
		t.Run(name, func(t *testing.T) {
			res := lint.RunAll(chartDir, values(t, text), namespace)
			for _, m := range res.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %s", m)
				}
			}
		})
	}
	res := lint.RunAll(chartDir, values(t, "mode: standalone"), namespace)
	if res.HighestSeverity < support.ErrorSev {
		t.Errorf("lint passes an unknown mode: %v", res.Messages)
	}
}

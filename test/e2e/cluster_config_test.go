package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// clusterConfig is the shipped configs/cluster.yaml.
var clusterConfig = filepath.Join("..", "..", "configs", "cluster.yaml")

// clusterEnv is the environment cluster.yaml needs, over the test's own
// without any NEXUS_ or provider variable (so a developer's shell does not
// decide the outcome), with overrides applied ("" removes a variable).
func clusterEnv(t *testing.T, overrides map[string]string) []string {
	t.Helper()
	env := map[string]string{
		"NEXUS_DATA_DIR":             t.TempDir(),
		"NEXUS_CLICKHOUSE_ENDPOINTS": "[ch-1.internal:9440, ch-2.internal:9440]",
		"NEXUS_CLICKHOUSE_USER":      "nexus",
		"NEXUS_CLICKHOUSE_PASSWORD":  "s3cret",
		"NEXUS_CLICKHOUSE_CLUSTER":   "nexus_prod",
	}
	for k, v := range overrides {
		env[k] = v
	}
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "NEXUS_") || strings.HasSuffix(name, "_KEY") || strings.HasPrefix(name, "TWILIO_") {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range env {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func validateCluster(t *testing.T, overrides map[string]string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary(t), "validate", "--config", clusterConfig)
	cmd.Env = clusterEnv(t, overrides)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestClusterConfigValidates runs the built collector's validate command on
// configs/cluster.yaml with the environment its header documents, and
// checks that the environment is what decides: a missing endpoint list or
// a bad cluster name is refused, naming the key.
func TestClusterConfigValidates(t *testing.T) {
	if out, err := validateCluster(t, nil); err != nil {
		t.Fatalf("validate configs/cluster.yaml: %v\n%s", err, out)
	}
	// One endpoint, as a one-item list, with TLS off for a test cluster.
	if out, err := validateCluster(t, map[string]string{
		"NEXUS_CLICKHOUSE_ENDPOINTS": "[clickhouse:9000]", "NEXUS_CLICKHOUSE_INSECURE": "true",
	}); err != nil {
		t.Fatalf("validate with one endpoint: %v\n%s", err, out)
	}
	// What the collector resolves: the endpoint list split into servers,
	// and alerts evaluated by the holder of a Kubernetes Lease.
	for env, want := range map[string][]string{
		"ch-1.internal:9440,ch-2.internal:9440":    {"- ch-1.internal:9440\n", "- ch-2.internal:9440\n", "mode: kubernetes\n", "evaluate: true\n"},
		"[ch-1.internal:9440, ch-2.internal:9440]": {"- ch-1.internal:9440\n", "- ch-2.internal:9440\n"},
	} {
		cmd := exec.Command(binary(t), "print-config", "--config", clusterConfig)
		cmd.Env = clusterEnv(t, map[string]string{"NEXUS_CLICKHOUSE_ENDPOINTS": env})
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("print-config: %v\n%s", err, out)
		}
		for _, w := range append(want, "cluster: nexus_prod\n", "mode: remote\n") {
			if !strings.Contains(string(out), w) {
				t.Errorf("endpoints %q: resolved config lacks %q:\n%s", env, w, out)
			}
		}
		if strings.Contains(string(out), "s3cret") {
			t.Errorf("print-config shows the ClickHouse password:\n%s", out)
		}
	}
	cmd := exec.Command(binary(t), "print-config", "--config", clusterConfig)
	// Outside Kubernetes: no election, and this instance not evaluating.
	cmd.Env = clusterEnv(t, map[string]string{"NEXUS_LEADER_ELECTION": "none", "NEXUS_EVALUATE_ALERTS": "false"})
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "evaluate: false\n") || !strings.Contains(string(out), "mode: none\n") {
		t.Errorf("NEXUS_LEADER_ELECTION=none NEXUS_EVALUATE_ALERTS=false: err %v, output:\n%s", err, out)
	}
	if out, err := validateCluster(t, map[string]string{"NEXUS_LEADER_ELECTION": "zookeeper"}); err == nil || !strings.Contains(out, "leader_election") {
		t.Errorf("an unknown election mode: err %v, want a refusal naming leader_election:\n%s", err, out)
	}
	refused := map[string]struct {
		env  map[string]string
		want string
	}{
		"no endpoints":     {map[string]string{"NEXUS_CLICKHOUSE_ENDPOINTS": ""}, "remote.endpoints"},
		"bad cluster name": {map[string]string{"NEXUS_CLICKHOUSE_CLUSTER": "prod; DROP"}, "remote.cluster"},
		"bad database":     {map[string]string{"NEXUS_CLICKHOUSE_DATABASE": "nexus-prod"}, "database"},
	}
	for name, c := range refused {
		t.Run(name, func(t *testing.T) {
			out, err := validateCluster(t, c.env)
			if err == nil || !strings.Contains(out, c.want) {
				t.Fatalf("validate: err %v, want a refusal naming %q:\n%s", err, c.want, out)
			}
		})
	}
}

// TestClusterConfigShape checks what cluster.yaml promises against
// local.yaml: the same pipelines, processors and exporter, the store
// remote ON CLUSTER without the embedded HTTP interface, alerts evaluated
// by one instance only, and every listener reachable by the load balancer
// but authenticated.
func TestClusterConfigShape(t *testing.T) {
	cluster, local := readYAML(t, clusterConfig), readYAML(t, filepath.Join("..", "..", "configs", "local.yaml"))
	for _, path := range []string{"service.pipelines", "processors", "exporters"} {
		if got, want := at(cluster, path), at(local, path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s differs from local.yaml:\n got %v\nwant %v", path, got, want)
		}
	}
	checks := map[string]any{
		"extensions.chstore.mode":                           "remote",
		"extensions.chstore.remote.cluster":                 "${env:NEXUS_CLICKHOUSE_CLUSTER:-nexus}",
		"extensions.chstore.remote.endpoints":               "${env:NEXUS_CLICKHOUSE_ENDPOINTS}",
		"extensions.chstore.remote.password":                "${env:NEXUS_CLICKHOUSE_PASSWORD}",
		"extensions.chstore.http.enabled":                   false,
		"extensions.chstore.migrate":                        true,
		"extensions.nexusapi.alerting.evaluate":             "${env:NEXUS_EVALUATE_ALERTS:-true}",
		"extensions.nexusapi.alerting.leader_election.mode": "${env:NEXUS_LEADER_ELECTION:-kubernetes}",
		"receivers.otlp.protocols.grpc.auth.authenticator":  "nexusingestauth",
		"receivers.otlp.protocols.http.auth.authenticator":  "nexusingestauth",
		"receivers.apiusage.tenant_credentials":             "${env:NEXUS_POLL_TENANT_CREDENTIALS:-false}",
	}
	for path, want := range checks {
		if got := at(cluster, path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	if rules, want := at(cluster, "extensions.nexusapi.alerting.rules"), at(local, "extensions.nexusapi.alerting.rules"); !reflect.DeepEqual(rules, want) {
		t.Errorf("alert rules differ from local.yaml's")
	}
	// No secret in the file itself.
	raw, err := os.ReadFile(clusterConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") &&
			(strings.Contains(k, "password") || strings.Contains(k, "_key") || strings.Contains(k, "token")) &&
			strings.TrimSpace(v) != "" && !strings.Contains(v, "${env:") {
			t.Errorf("secret written into the config: %s", line)
		}
	}
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// at is the value at a dotted path of a YAML document, nil if absent.
func at(doc map[string]any, path string) any {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

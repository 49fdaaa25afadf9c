package helmchart

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestCollectorAcceptsRenderedConfig runs the built collector's own
// `validate` on each rendered config: every key must be one a component
// knows (the collector refuses unknown keys) and every component's
// Validate must pass, with the environment the Deployment gives it.
func TestCollectorAcceptsRenderedConfig(t *testing.T) {
	bin := withBinary()
	if bin == "" {
		t.Fatal("no collector binary: set NEXUS_BIN or run make build first (make test does)")
	}
	exposed := values(t, embeddedValues)
	exposed["store"] = map[string]any{"http": map[string]any{"expose": true}}
	exposed["secrets"].(map[string]any)["env"].(map[string]any)["NEXUS_CH_PASSWORD"] = "pw"
	for name, vals := range map[string]map[string]any{
		"embedded":           values(t, embeddedValues),
		"embedded-exposed":   exposed,
		"embedded-otlp-only": values(t, embeddedValues, "ingest: {proxy: {enabled: false}, apiusage: {enabled: false}}"),
		"cluster":            values(t, clusterValues),
		"cluster-tls":        values(t, clusterValues, "clickhouse: {endpoints: [ch:9440], tls: {enabled: true}, protocol: native}"),
		"cluster-no-eval":    values(t, clusterValues, "alerting: {evaluate: false}"),
		"cluster-auth-poll":  values(t, clusterValues, "replicaCount: 1\ningest: {auth: {enabled: true}, apiusage: {enabled: true}}"),
	} {
		t.Run(name, func(t *testing.T) {
			if err := validateWith(t, bin, mustRender(t, vals)); err != nil {
				t.Error(err)
			}
		})
	}

	// The check is live: a component's own Validate runs (the operator's
	// credentials of an exposed HTTP interface are both or neither) ...
	halfCreds := values(t, embeddedValues, "store: {http: {expose: true}}", "config: {extensions: {chstore: {http: {username: ''}}}}")
	halfCreds["secrets"].(map[string]any)["env"].(map[string]any)["NEXUS_CH_PASSWORD"] = "pw"
	if err := validateWith(t, bin, mustRender(t, halfCreds)); err == nil || !strings.Contains(err.Error(), "http.username") {
		t.Errorf("collector accepted a password without a user name: %v", err)
	}
	// ... and a key no component knows is refused.
	bad := values(t, embeddedValues, "config: {extensions: {chstore: {no_such_key: 1}}}")
	err := validateWith(t, bin, mustRender(t, bad))
	if err == nil || !strings.Contains(err.Error(), "no_such_key") {
		t.Errorf("collector accepted an unknown key: %v", err)
	}
}

// validateWith writes the rendered config to a file and runs
// `<bin> validate` on it with the Deployment's literal environment and
// stand-ins for what Secrets and the downward API would provide.
func validateWith(t *testing.T, bin string, r *rendered) error {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cm := one[*corev1.ConfigMap](t, r)
	if err := os.WriteFile(path, []byte(cm.Data["config.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "validate", "--config=file:"+path)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for _, e := range envOf(podContainer(t, r)) {
		v := e.Value
		if e.ValueFrom != nil {
			v = "from-" + e.Name
		}
		cmd.Env = append(cmd.Env, e.Name+"="+v)
	}
	cmd.Env = append(cmd.Env, "NEXUS_DATA_DIR="+dir, "NEXUS_CH_PASSWORD=pw", "NEXUS_ADMIN_KEY="+adminKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &validateError{err: err, out: string(out), config: cm.Data["config.yaml"]}
	}
	return nil
}

type validateError struct {
	err         error
	out, config string
}

func (e *validateError) Error() string {
	return "otelcol-nexus validate: " + e.err.Error() + "\n" + e.out + "\nconfig:\n" + e.config
}

func podContainer(t *testing.T, r *rendered) corev1.Container {
	t.Helper()
	return one[*appsv1.Deployment](t, r).Spec.Template.Spec.Containers[0]
}

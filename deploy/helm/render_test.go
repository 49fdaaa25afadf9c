// Package helmchart tests the Nexus Helm chart (nexus/) with the Helm SDK:
// it renders the chart the way `helm template` does (a client-only dry-run
// install, no cluster), decodes every manifest into its Kubernetes type
// with strict decoding, and checks what the chart promises per mode.
package helmchart

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/release"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

const (
	chartDir    = "nexus"
	releaseName = "nx"
	namespace   = "obs"
	// fullname is the chart's object name for releaseName.
	fullname = releaseName + "-nexus"
	// maxManifestBytes bounds what one render may produce: a runaway range
	// in a template fails the test instead of filling memory.
	maxManifestBytes = 1 << 20
)

// object is one rendered manifest: its raw YAML, its generic form and its
// typed form (strictly decoded: an unknown or duplicate field fails).
type object struct {
	raw   []byte
	kind  string
	name  string
	typed runtime.Object
}

// rendered is the chart rendered with one set of values.
type rendered struct {
	objects []object
	notes   string
}

// strict decodes into the client-go scheme's types and refuses unknown and
// duplicate fields: the offline stand-in for the API server's schema check.
var strict = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// values parses YAML literals of chart values, each deep-merged over the
// ones before it (maps merge, anything else replaces).
func values(t *testing.T, texts ...string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, text := range texts {
		v := map[string]any{}
		if err := yaml.UnmarshalStrict([]byte(text), &v); err != nil {
			t.Fatalf("test values do not parse: %v", err)
		}
		merge(out, v)
	}
	return out
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		sub, ok := v.(map[string]any)
		if cur, isMap := dst[k].(map[string]any); ok && isMap {
			merge(cur, sub)
			continue
		}
		dst[k] = v
	}
}

// kubeVersion is the cluster the chart is rendered for (the chart's
// kubeVersion range must admit it).
const kubeVersion = "v1.31.0"

// renderChart renders the chart as `helm template` would.
func renderChart(vals map[string]any) (*rendered, error) {
	return renderFor(vals, kubeVersion)
}

// renderFor renders the chart for a given Kubernetes version.
func renderFor(vals map[string]any, version string) (*rendered, error) {
	kv, err := common.ParseKubeVersion(version)
	if err != nil {
		return nil, fmt.Errorf("kube version %s: %w", version, err)
	}
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return nil, fmt.Errorf("load chart: %w", err)
	}
	install := action.NewInstall(action.NewConfiguration())
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = releaseName
	install.Namespace = namespace
	install.Replace = true
	install.KubeVersion = kv
	rel, err := install.Run(chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	acc, err := release.NewAccessor(rel)
	if err != nil {
		return nil, fmt.Errorf("read release: %w", err)
	}
	if len(acc.Hooks()) != 0 {
		return nil, fmt.Errorf("the chart renders %d hooks; it has none", len(acc.Hooks()))
	}
	manifest := acc.Manifest()
	if len(manifest) > maxManifestBytes {
		return nil, fmt.Errorf("manifest is %d bytes, over %d", len(manifest), maxManifestBytes)
	}
	objs, err := decodeAll(manifest)
	if err != nil {
		return nil, err
	}
	return &rendered{objects: objs, notes: acc.Notes()}, nil
}

// decodeAll splits a multi-document manifest and decodes each document.
func decodeAll(manifest string) ([]object, error) {
	var objs []object
	for i, doc := range strings.Split(manifest, "\n---") {
		doc = strings.TrimPrefix(strings.TrimSpace(doc), "---")
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			return nil, fmt.Errorf("document %d is not YAML: %w\n%s", i, err, doc)
		}
		if meta.APIVersion == "" || meta.Kind == "" || meta.Metadata.Name == "" {
			return nil, fmt.Errorf("document %d lacks apiVersion, kind or metadata.name:\n%s", i, doc)
		}
		typed, _, err := strict.Decode([]byte(doc), nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s %s does not decode strictly into its Kubernetes type: %w", meta.Kind, meta.Metadata.Name, err)
		}
		objs = append(objs, object{raw: []byte(doc), kind: meta.Kind, name: meta.Metadata.Name, typed: typed})
	}
	if len(objs) == 0 {
		return nil, errors.New("the chart rendered no objects")
	}
	return objs, nil
}

func stripComments(doc string) string {
	var b bytes.Buffer
	for line := range strings.SplitSeq(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// mustRender renders or fails the test.
func mustRender(t *testing.T, vals map[string]any) *rendered {
	t.Helper()
	r, err := renderChart(vals)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, r)
	return r
}

// kinds counts the rendered objects by kind.
func (r *rendered) kinds() map[string]int {
	m := map[string]int{}
	for _, o := range r.objects {
		m[o.kind]++
	}
	return m
}

// one returns the only object of type T, or fails.
func one[T runtime.Object](t *testing.T, r *rendered) T {
	t.Helper()
	all := all[T](r)
	if len(all) != 1 {
		var zero T
		t.Fatalf("want exactly one %T, rendered %d (kinds: %v)", zero, len(all), r.kinds())
	}
	return all[0]
}

// all returns the objects of type T in render order.
func all[T runtime.Object](r *rendered) []T {
	var out []T
	for _, o := range r.objects {
		if v, ok := o.typed.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// withBinary returns the built collector (NEXUS_BIN, else the
// repository's bin/otelcol-nexus), or "" when there is none.
func withBinary() string {
	if p := os.Getenv("NEXUS_BIN"); p != "" {
		return p
	}
	// Absolute: the collector runs in a temporary directory.
	repoBin, err := filepath.Abs("../../bin/otelcol-nexus")
	if err != nil {
		return ""
	}
	if _, err := os.Stat(repoBin); err == nil {
		return repoBin
	}
	return ""
}

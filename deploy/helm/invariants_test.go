package helmchart

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// externalPrefix marks objects the tests say exist outside the chart
// (existingSecret, existingClaim): references to them need not resolve.
const externalPrefix = "ext-"

// checkInvariants holds for every render, whatever the values: names and
// labels the API server accepts, and every reference between objects
// resolving to an object the chart renders (or one named as existing).
func checkInvariants(t *testing.T, r *rendered) {
	t.Helper()
	names := map[string]map[string]bool{}
	for _, o := range r.objects {
		m := metaOf(t, o)
		name, ns, lbls := m.GetName(), m.GetNamespace(), m.GetLabels()
		if names[o.kind] == nil {
			names[o.kind] = map[string]bool{}
		}
		if names[o.kind][name] {
			t.Errorf("%s %s rendered twice", o.kind, name)
		}
		names[o.kind][name] = true
		if ns != namespace {
			t.Errorf("%s %s: namespace %q, want the release's %q", o.kind, name, ns, namespace)
		}
		nameErrs := validation.IsDNS1123Subdomain(name)
		if o.kind == "Service" {
			nameErrs = validation.IsDNS1035Label(name)
		}
		for _, e := range nameErrs {
			t.Errorf("%s name %q: %s", o.kind, name, e)
		}
		checkLabels(t, o.kind+" "+name, lbls)
		for _, want := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "helm.sh/chart"} {
			if lbls[want] == "" {
				t.Errorf("%s %s: no label %s", o.kind, name, want)
			}
		}
	}
	resolves := func(kind, name string) bool {
		return names[kind][name] || strings.HasPrefix(name, externalPrefix)
	}

	deploy := one[*appsv1.Deployment](t, r)
	pod := deploy.Spec.Template
	sel, err := metav1.LabelSelectorAsSelector(deploy.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
		t.Errorf("Deployment selector %v does not select its own pods %v (%v)", deploy.Spec.Selector, pod.Labels, err)
	}
	checkLabels(t, "pod template", pod.Labels)
	if sa := pod.Spec.ServiceAccountName; !resolves("ServiceAccount", sa) && sa != "default" {
		t.Errorf("pods run as ServiceAccount %q, which the chart does not render", sa)
	}
	ports := checkPod(t, &pod.Spec, resolves)

	for _, svc := range all[*corev1.Service](r) {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) || len(svc.Spec.Selector) == 0 {
			t.Errorf("Service %s selector %v does not select the collectors %v", svc.Name, svc.Spec.Selector, pod.Labels)
		}
		for _, p := range svc.Spec.Ports {
			checkPortName(t, "Service "+svc.Name, p.Name)
			if p.TargetPort.StrVal == "" || ports[p.TargetPort.StrVal] == 0 {
				t.Errorf("Service %s port %s targets %q, not a named container port (%v)", svc.Name, p.Name, p.TargetPort.String(), ports)
			}
		}
	}
	for _, ing := range all[*networkingv1.Ingress](r) {
		for _, rule := range ing.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				b := p.Backend.Service
				if b == nil || !names["Service"][b.Name] {
					t.Errorf("Ingress %s path %s: backend %v is not the chart's Service", ing.Name, p.Path, b)
					continue
				}
				if b.Port.Name != "api" {
					t.Errorf("Ingress %s routes to port %q; only the API and console (api) may be routed", ing.Name, b.Port.Name)
				}
			}
		}
	}
	for _, rb := range all[*rbacv1.RoleBinding](r) {
		if rb.RoleRef.Kind != "Role" || !names["Role"][rb.RoleRef.Name] {
			t.Errorf("RoleBinding %s binds %s %s, not a Role the chart renders", rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name)
		}
		for _, s := range rb.Subjects {
			if s.Kind != "ServiceAccount" || s.Name != pod.Spec.ServiceAccountName || s.Namespace != namespace {
				t.Errorf("RoleBinding %s subject %+v is not the collectors' service account %s/%s", rb.Name, s, namespace, pod.Spec.ServiceAccountName)
			}
		}
	}
	cfg := collectorConfig(t, r)
	checkCollectorConfig(t, cfg, ports)
}

// checkPod checks the collector's pod spec and returns its container ports
// by name.
func checkPod(t *testing.T, spec *corev1.PodSpec, resolves func(kind, name string) bool) map[string]int32 {
	t.Helper()
	if len(spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(spec.Containers))
	}
	c := spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		checkPortName(t, "container", p.Name)
		if ports[p.Name] != 0 {
			t.Errorf("container port name %s used twice", p.Name)
		}
		ports[p.Name] = p.ContainerPort
	}
	for name, probe := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("%s probe: want an HTTP probe, got %+v", name, probe)
			continue
		}
		if ports[probe.HTTPGet.Port.StrVal] == 0 {
			t.Errorf("%s probe on port %q, not a named container port", name, probe.HTTPGet.Port.String())
		}
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
		switch {
		case v.ConfigMap != nil && !resolves("ConfigMap", v.ConfigMap.Name):
			t.Errorf("volume %s: ConfigMap %s is not rendered", v.Name, v.ConfigMap.Name)
		case v.PersistentVolumeClaim != nil && !resolves("PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName):
			t.Errorf("volume %s: claim %s is not rendered", v.Name, v.PersistentVolumeClaim.ClaimName)
		case v.Secret != nil && !resolves("Secret", v.Secret.SecretName):
			t.Errorf("volume %s: Secret %s is not rendered", v.Name, v.Secret.SecretName)
		}
	}
	mounted := map[string]bool{}
	for _, m := range c.VolumeMounts {
		if _, ok := volumes[m.Name]; !ok {
			t.Errorf("mount %s at %s: no such volume", m.Name, m.MountPath)
		}
		if mounted[m.MountPath] {
			t.Errorf("two mounts at %s", m.MountPath)
		}
		mounted[m.MountPath] = true
	}
	for _, e := range c.Env {
		for _, msg := range validation.IsEnvVarName(e.Name) {
			t.Errorf("env %q: %s", e.Name, msg)
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !resolves("Secret", e.ValueFrom.SecretKeyRef.Name) {
			t.Errorf("env %s reads Secret %s, which is not rendered", e.Name, e.ValueFrom.SecretKeyRef.Name)
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil && !resolves("Secret", ef.SecretRef.Name) {
			t.Errorf("envFrom Secret %s is not rendered", ef.SecretRef.Name)
		}
	}
	return ports
}

func checkPortName(t *testing.T, where, name string) {
	t.Helper()
	for _, msg := range validation.IsValidPortName(name) {
		t.Errorf("%s port name %q: %s", where, name, msg)
	}
}

func checkLabels(t *testing.T, where string, l map[string]string) {
	t.Helper()
	for k, v := range l {
		for _, msg := range validation.IsQualifiedName(k) {
			t.Errorf("%s label key %q: %s", where, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			t.Errorf("%s label %s=%q: %s", where, k, v, msg)
		}
	}
}

func metaOf(t *testing.T, o object) metav1.Object {
	t.Helper()
	m, ok := o.typed.(metav1.Object)
	if !ok {
		t.Fatalf("%s %s has no object metadata", o.kind, o.name)
	}
	return m
}

// collectorConfig is the collector config the ConfigMap carries, parsed.
func collectorConfig(t *testing.T, r *rendered) map[string]any {
	t.Helper()
	cm := one[*corev1.ConfigMap](t, r)
	text, ok := cm.Data["config.yaml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no config.yaml (keys: %v)", cm.Name, keysOf(cm.Data))
	}
	cfg := map[string]any{}
	if err := yaml.UnmarshalStrict([]byte(text), &cfg); err != nil {
		t.Fatalf("collector config does not parse as YAML: %v\n%s", err, text)
	}
	return cfg
}

// checkCollectorConfig checks the config's own wiring: what the pipelines
// and service.extensions name is defined, and every server listens on all
// addresses at a port the container declares (or on loopback, on purpose).
func checkCollectorConfig(t *testing.T, cfg map[string]any, ports map[string]int32) {
	t.Helper()
	declared := map[int32]bool{}
	for _, p := range ports {
		declared[p] = true
	}
	svc := mapAt(t, cfg, "service")
	for _, ext := range listAt(t, svc, "extensions") {
		if _, ok := mapAt(t, cfg, "extensions")[ext]; !ok {
			t.Errorf("service.extensions names %s, which is not configured", ext)
		}
	}
	pipelines := mapAt(t, svc, "pipelines")
	if len(pipelines) == 0 {
		t.Error("no pipelines")
	}
	for name := range pipelines {
		p := mapAt(t, pipelines, name)
		for _, section := range []string{"receivers", "processors", "exporters"} {
			list := listAt(t, p, section)
			if len(list) == 0 && section != "processors" {
				t.Errorf("pipeline %s has no %s", name, section)
			}
			for _, c := range list {
				if _, ok := mapAt(t, cfg, section)[c]; !ok {
					t.Errorf("pipeline %s names %s %s, which is not configured", name, section, c)
				}
			}
		}
	}
	for _, ep := range endpoints(cfg, "") {
		host, port, err := net.SplitHostPort(ep.value)
		if err != nil {
			t.Errorf("%s: %q is not host:port: %v", ep.path, ep.value, err)
			continue
		}
		n, _ := strconv.Atoi(port)
		switch {
		case host == "127.0.0.1":
			// On the pod's loopback: reachable with kubectl port-forward only.
		case host != "0.0.0.0":
			t.Errorf("%s: listens on %s; in a pod it must be 0.0.0.0 (or loopback on purpose)", ep.path, host)
		case !declared[int32(n)]:
			t.Errorf("%s: listens on port %d, which the container does not declare (%v)", ep.path, n, ports)
		}
	}
}

type endpoint struct{ path, value string }

// endpoints finds every server address in the config: endpoint keys, and
// the telemetry's host/port pair.
func endpoints(v any, path string) []endpoint {
	var out []endpoint
	switch v := v.(type) {
	case map[string]any:
		if h, ok := v["host"].(string); ok {
			if p, ok := v["port"].(float64); ok {
				out = append(out, endpoint{path, net.JoinHostPort(h, strconv.Itoa(int(p)))})
			}
		}
		for k, sub := range v {
			p := strings.TrimPrefix(path+"."+k, ".")
			// Providers' endpoints are upstream URLs from the environment.
			if s, ok := sub.(string); ok && k == "endpoint" && !strings.Contains(s, "${env:") {
				out = append(out, endpoint{p, s})
				continue
			}
			out = append(out, endpoints(sub, p)...)
		}
	case []any:
		for i, sub := range v {
			out = append(out, endpoints(sub, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

func mapAt(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("config: %s is not a map (%T) in %v", key, m[key], keysOf(m))
	}
	return v
}

func listAt(t *testing.T, m map[string]any, key string) []string {
	t.Helper()
	raw, ok := m[key].([]any)
	if !ok {
		t.Fatalf("config: %s is not a list (%T)", key, m[key])
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("config: %s holds %T, want names", key, v)
		}
		out = append(out, s)
	}
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

package helmchart

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// adminKey is a test admin key of the length the collector requires.
const adminKey = "0123456789abcdef0123456789abcdef-test"

const embeddedValues = `
mode: embedded
replicaCount: 5   # must be ignored: the engine takes one process per data directory
secrets:
  env:
    NEXUS_ADMIN_KEY: ` + adminKey + `
    NEXUS_KEK: a2V5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzLWxvbmchIQ==
`

const clusterValues = `
mode: cluster
replicaCount: 3
clickhouse:
  endpoints: [ch-1.clickhouse:9000, ch-2.clickhouse:9000]
  cluster: nexus
  username: nexus
  password: s3cret
secrets:
  env:
    NEXUS_ADMIN_KEY: ` + adminKey + `
`

func TestEmbeddedMode(t *testing.T) {
	r := mustRender(t, values(t, embeddedValues))

	wantKinds := map[string]int{"ConfigMap": 1, "Deployment": 1, "Service": 1, "PersistentVolumeClaim": 1, "ServiceAccount": 1, "Secret": 1}
	if got := r.kinds(); !maps.Equal(got, wantKinds) {
		t.Errorf("kinds: got %v, want %v (no RBAC, no Ingress, no ClickHouse Secret)", got, wantKinds)
	}

	d := one[*appsv1.Deployment](t, r)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas: got %v, want 1 whatever replicaCount says", d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType || d.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("strategy: got %+v, want Recreate (the old pod holds the engine's lock)", d.Spec.Strategy)
	}
	c := d.Spec.Template.Spec.Containers[0]
	checkCommon(t, d, c)
	if got := portsOf(c); !maps.Equal(got, map[string]int32{
		"otlp-grpc": 4317, "otlp-http": 4318, "proxy": 8787, "api": 8080, "health": 13133, "metrics": 8888,
	}) {
		t.Errorf("container ports: %v", got)
	}
	if d.Spec.Template.Spec.AutomountServiceAccountToken == nil || *d.Spec.Template.Spec.AutomountServiceAccountToken {
		t.Error("embedded mode mounts the service account token; nothing in the pod uses it")
	}

	pvc := one[*corev1.PersistentVolumeClaim](t, r)
	if pvc.Name != fullname+"-data" || !slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) {
		t.Errorf("PVC %s access modes %v", pvc.Name, pvc.Spec.AccessModes)
	}
	if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("20Gi")) != 0 {
		t.Errorf("PVC size %s, want 20Gi", got.String())
	}
	if pvc.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Error("the store's PVC is not kept on uninstall")
	}
	data := volumeAt(t, d, "/data")
	if data.PersistentVolumeClaim == nil || data.PersistentVolumeClaim.ClaimName != pvc.Name {
		t.Errorf("/data is %+v, want the PVC %s", data.VolumeSource, pvc.Name)
	}
	if env := envOf(c); env["NEXUS_DATA_DIR"].Value != "/data" {
		t.Errorf("NEXUS_DATA_DIR=%q, want /data", env["NEXUS_DATA_DIR"].Value)
	} else if _, ok := env["CLICKHOUSE_PASSWORD"]; ok {
		t.Error("embedded mode reads a ClickHouse password")
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != fullname {
		t.Errorf("envFrom: got %+v, want the chart's Secret %s", c.EnvFrom, fullname)
	}
	sec := one[*corev1.Secret](t, r)
	if string(sec.Data["NEXUS_ADMIN_KEY"]) != adminKey || len(sec.Data) != 2 {
		t.Errorf("Secret %s holds %v, want the two keys given", sec.Name, keysOf(sec.Data))
	}
	if got := resourcesOf(c); got != "requests cpu=1 memory=2Gi limits cpu=2 memory=4Gi" {
		t.Errorf("resources: %s, want the embedded defaults", got)
	}

	svc := one[*corev1.Service](t, r)
	if svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service type %s: the proxy must not be exposed beyond the cluster by default", svc.Spec.Type)
	}
	if got := servicePorts(svc); !maps.Equal(got, map[string]int32{"otlp-grpc": 4317, "otlp-http": 4318, "proxy": 8787, "api": 8080, "metrics": 8888}) {
		t.Errorf("Service ports: %v", got)
	}

	cfg := collectorConfig(t, r)
	if got := keysOf(mapAt(t, cfg, "extensions")); !slices.Equal(got, []string{"chstore", "file_storage", "health_check", "nexusapi"}) {
		t.Errorf("extensions: %v", got)
	}
	chstore := mapAt(t, mapAt(t, cfg, "extensions"), "chstore")
	if chstore["mode"] != "embedded" || mapAt(t, chstore, "embedded")["data_dir"] != "${env:NEXUS_DATA_DIR}/engine" {
		t.Errorf("chstore: %v", chstore)
	}
	if _, ok := chstore["remote"]; ok {
		t.Error("embedded chstore has a remote block")
	}
	if http := mapAt(t, chstore, "http"); http["endpoint"] != "127.0.0.1:8123" || http["read_only"] != true {
		t.Errorf("unexposed HTTP interface: %v, want read-only on loopback", http)
	}
	alerting := mapAt(t, mapAt(t, mapAt(t, cfg, "extensions"), "nexusapi"), "alerting")
	if alerting["evaluate"] != true || alerting["leader_election"] != nil {
		t.Errorf("alerting: %v, want the one pod evaluating, no election", alerting)
	}
	if rules, _ := alerting["rules"].([]any); len(rules) != 4 {
		t.Errorf("alert rules: %d, want the 4 defaults of configs/local.yaml", len(rules))
	}
	if proxy := mapAt(t, mapAt(t, cfg, "receivers"), "apiproxy"); proxy["allow_non_loopback"] != true {
		t.Errorf("apiproxy: %v", proxy)
	}
	traces := mapAt(t, mapAt(t, mapAt(t, cfg, "service"), "pipelines"), "traces")
	if got := listAt(t, traces, "receivers"); !slices.Equal(got, []string{"otlp", "apiproxy"}) {
		t.Errorf("traces receivers: %v", got)
	}
	// The queue must stay on the volume: a crash replays it.
	if dir := mapAt(t, mapAt(t, cfg, "extensions"), "file_storage")["directory"]; dir != "${env:NEXUS_DATA_DIR}/queue" {
		t.Errorf("file_storage directory: %v", dir)
	}

	// The pods roll when the config changes: the annotation is the config's hash.
	cm := one[*corev1.ConfigMap](t, r)
	sum := sha256.Sum256([]byte(strings.TrimSuffix(cm.Data["config.yaml"], "\n")))
	if got := d.Spec.Template.Annotations["checksum/config"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("checksum/config %q is not the ConfigMap's config hash %x", got, sum)
	}
	if !strings.Contains(r.notes, "port-forward deploy/"+fullname+" 8123:8123") || strings.Contains(r.notes, "No NEXUS_ADMIN_KEY") {
		t.Errorf("notes:\n%s", r.notes)
	}
}

func TestClusterMode(t *testing.T) {
	r := mustRender(t, values(t, clusterValues))

	wantKinds := map[string]int{"ConfigMap": 1, "Deployment": 1, "Service": 1, "ServiceAccount": 1, "Secret": 2, "Role": 1, "RoleBinding": 1}
	if got := r.kinds(); !maps.Equal(got, wantKinds) {
		t.Errorf("kinds: got %v, want %v (no PVC, no Ingress)", got, wantKinds)
	}
	d := one[*appsv1.Deployment](t, r)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
		t.Errorf("replicas: got %v, want 3", d.Spec.Replicas)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil || ru.MaxUnavailable.IntValue() != 0 || ru.MaxSurge.IntValue() != 1 {
		t.Errorf("strategy: %+v, want a rolling update that keeps every collector up", d.Spec.Strategy)
	}
	c := d.Spec.Template.Spec.Containers[0]
	checkCommon(t, d, c)
	data := volumeAt(t, d, "/data")
	if data.EmptyDir == nil || data.EmptyDir.SizeLimit == nil || data.EmptyDir.SizeLimit.Cmp(resource.MustParse("4Gi")) != 0 {
		t.Errorf("/data is %+v, want a bounded emptyDir", data.VolumeSource)
	}
	if tok := d.Spec.Template.Spec.AutomountServiceAccountToken; tok == nil || !*tok {
		t.Error("cluster mode does not mount the token leader election needs")
	}
	pw := envOf(c)["CLICKHOUSE_PASSWORD"]
	if pw.ValueFrom == nil || pw.ValueFrom.SecretKeyRef == nil || pw.ValueFrom.SecretKeyRef.Name != fullname+"-clickhouse" || pw.ValueFrom.SecretKeyRef.Key != "password" {
		t.Fatalf("CLICKHOUSE_PASSWORD: %+v", pw)
	}
	for _, s := range all[*corev1.Secret](r) {
		if s.Name == fullname+"-clickhouse" && string(s.Data["password"]) != "s3cret" {
			t.Errorf("ClickHouse Secret holds %q", s.Data["password"])
		}
	}
	if got := resourcesOf(c); got != "requests cpu=500m memory=1Gi limits cpu=2 memory=2Gi" {
		t.Errorf("resources: %s, want the cluster defaults", got)
	}

	role := one[*rbacv1.Role](t, r)
	lease := fullname + "-alerting"
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{lease}, Verbs: []string{"get", "update"}},
	}
	if !slices.EqualFunc(role.Rules, want, ruleEqual) {
		t.Errorf("Role rules: %+v, want %+v", role.Rules, want)
	}
	rb := one[*rbacv1.RoleBinding](t, r)
	if rb.RoleRef.Name != role.Name || len(rb.Subjects) != 1 || rb.Subjects[0].Name != d.Spec.Template.Spec.ServiceAccountName {
		t.Errorf("RoleBinding %+v does not bind %s to the collectors", rb, role.Name)
	}

	cfg := collectorConfig(t, r)
	ext := mapAt(t, cfg, "extensions")
	if got := keysOf(ext); !slices.Equal(got, []string{"chstore", "file_storage", "health_check", "nexusapi"}) {
		t.Errorf("extensions: %v", got)
	}
	chstore := mapAt(t, ext, "chstore")
	remote := mapAt(t, chstore, "remote")
	if chstore["mode"] != "remote" || remote["cluster"] != "nexus" || remote["password"] != "${env:CLICKHOUSE_PASSWORD:-}" ||
		!slices.Equal(listAt(t, remote, "endpoints"), []string{"ch-1.clickhouse:9000", "ch-2.clickhouse:9000"}) {
		t.Errorf("chstore: %v", chstore)
	}
	if _, ok := chstore["http"]; ok {
		t.Error("cluster mode configures the embedded store's HTTP interface (Validate refuses it in remote mode)")
	}
	if _, ok := chstore["embedded"]; ok {
		t.Error("cluster mode configures an embedded engine")
	}
	// Pollers off: each replica would store balances and key checks again.
	if _, ok := mapAt(t, cfg, "receivers")["apiusage"]; ok {
		t.Error("cluster mode polls usage from every replica by default")
	}
	if got := keysOf(mapAt(t, mapAt(t, cfg, "service"), "pipelines")); !slices.Equal(got, []string{"traces"}) {
		t.Errorf("pipelines: %v", got)
	}
	alerting := mapAt(t, mapAt(t, ext, "nexusapi"), "alerting")
	le, _ := alerting["leader_election"].(map[string]any)
	if alerting["evaluate"] != true || le["mode"] != "kubernetes" || le["lease_name"] != lease {
		t.Errorf("alerting: %v, want every pod ready to evaluate behind the Lease %s", alerting, lease)
	}
}

// checkCommon checks what both modes share: image, args, probes, the
// config mount and the downward-API identity.
func checkCommon(t *testing.T, d *appsv1.Deployment, c corev1.Container) {
	t.Helper()
	if c.Image != "nexus:0.1.0" {
		t.Errorf("image %q, want the repository placeholder and the appVersion", c.Image)
	}
	if !slices.Contains(c.Args, "--config=/etc/nexus/config.yaml") {
		t.Errorf("args %v do not name the mounted config", c.Args)
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p.HTTPGet.Path != "/" || p.HTTPGet.Port.StrVal != "health" {
			t.Errorf("%s probe: %+v, want the health_check extension", name, p.HTTPGet)
		}
	}
	cfgVol := volumeAt(t, d, "/etc/nexus")
	if cfgVol.ConfigMap == nil || cfgVol.ConfigMap.Name != fullname {
		t.Errorf("/etc/nexus is %+v, want the ConfigMap", cfgVol.VolumeSource)
	}
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/etc/nexus" && !m.ReadOnly {
			t.Error("the config is mounted writable")
		}
	}
	env := envOf(c)
	for name, field := range map[string]string{"NEXUS_POD_NAME": "metadata.name", "NEXUS_POD_NAMESPACE": "metadata.namespace"} {
		e := env[name]
		if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != field {
			t.Errorf("%s: %+v, want the downward API's %s", name, e, field)
		}
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container security context: %+v", sc)
	}
	if psc := d.Spec.Template.Spec.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("pod security context: %+v, want non-root", psc)
	}
}

func TestIngress(t *testing.T) {
	r := mustRender(t, values(t, embeddedValues, `
ingress:
  enabled: true
  className: nginx
  annotations: {nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"}
  hosts:
    - host: nexus.test
      paths: [{path: /}]
  tls:
    - secretName: nexus-tls
      hosts: [nexus.test]
`))
	ing := one[*networkingv1.Ingress](t, r)
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
		t.Errorf("ingress class: %v", ing.Spec.IngressClassName)
	}
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "nexus-tls" || !slices.Equal(ing.Spec.TLS[0].Hosts, []string{"nexus.test"}) {
		t.Errorf("tls: %+v", ing.Spec.TLS)
	}
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "nexus.test" {
		t.Fatalf("rules: %+v", ing.Spec.Rules)
	}
	p := ing.Spec.Rules[0].HTTP.Paths[0]
	if p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix || p.Backend.Service.Name != fullname || p.Backend.Service.Port.Name != "api" {
		t.Errorf("path: %+v", p)
	}
	if !strings.Contains(r.notes, "https://nexus.test/") {
		t.Errorf("notes do not give the console's URL:\n%s", r.notes)
	}
	// Off by default.
	if n := len(all[*networkingv1.Ingress](mustRender(t, values(t, embeddedValues)))); n != 0 {
		t.Errorf("%d Ingress rendered with ingress off", n)
	}
}

func TestExistingSecrets(t *testing.T) {
	r := mustRender(t, values(t, `
mode: cluster
clickhouse:
  endpoints: [ch:9440]
  existingSecret: ext-clickhouse
  existingSecretPasswordKey: pw
  password: ignored-when-existing
  tls: {enabled: true, caFile: /etc/ch-ca/ca.pem}
secrets:
  existingSecret: ext-nexus
`))
	if n := len(all[*corev1.Secret](r)); n != 0 {
		t.Errorf("%d Secrets rendered; both are existing", n)
	}
	c := one[*appsv1.Deployment](t, r).Spec.Template.Spec.Containers[0]
	ref := envOf(c)["CLICKHOUSE_PASSWORD"].ValueFrom.SecretKeyRef
	if ref.Name != "ext-clickhouse" || ref.Key != "pw" {
		t.Errorf("CLICKHOUSE_PASSWORD from %s/%s", ref.Name, ref.Key)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != "ext-nexus" {
		t.Errorf("envFrom: %+v", c.EnvFrom)
	}
	tls := mapAt(t, mapAt(t, mapAt(t, mapAt(t, collectorConfig(t, r), "extensions"), "chstore"), "remote"), "tls")
	if tls["insecure"] != false || tls["ca_file"] != "/etc/ch-ca/ca.pem" {
		t.Errorf("remote tls: %v", tls)
	}
	if _, ok := one[*appsv1.Deployment](t, r).Spec.Template.Annotations["checksum/secret"]; ok {
		t.Error("checksum/secret over a Secret the chart does not own")
	}
}

func TestHTTPInterfaceExposed(t *testing.T) {
	vals := values(t, embeddedValues)
	vals["store"] = map[string]any{"http": map[string]any{"expose": true}}
	vals["secrets"].(map[string]any)["env"].(map[string]any)["NEXUS_CH_PASSWORD"] = "pw"
	r := mustRender(t, vals)
	svc := one[*corev1.Service](t, r)
	if servicePorts(svc)["ch-http"] != 8123 {
		t.Errorf("Service ports %v lack ch-http 8123", servicePorts(svc))
	}
	http := mapAt(t, mapAt(t, mapAt(t, collectorConfig(t, r), "extensions"), "chstore"), "http")
	hosts := listAt(t, http, "allowed_hosts")
	if http["endpoint"] != "0.0.0.0:8123" || http["username"] != "operator" || http["password"] != "${env:NEXUS_CH_PASSWORD}" ||
		!slices.Contains(hosts, fullname+"."+namespace+".svc.cluster.local") {
		t.Errorf("exposed HTTP interface: %v", http)
	}
}

func TestIngestToggles(t *testing.T) {
	vals := values(t, embeddedValues, `
ingest:
  proxy: {enabled: false}
  apiusage: {enabled: false}
`)
	r := mustRender(t, vals)
	c := one[*appsv1.Deployment](t, r).Spec.Template.Spec.Containers[0]
	if _, ok := portsOf(c)["proxy"]; ok {
		t.Error("proxy port declared with the proxy off")
	}
	if _, ok := servicePorts(one[*corev1.Service](t, r))["proxy"]; ok {
		t.Error("Service routes the proxy port with the proxy off")
	}
	cfg := collectorConfig(t, r)
	if got := keysOf(mapAt(t, cfg, "receivers")); !slices.Equal(got, []string{"otlp"}) {
		t.Errorf("receivers: %v", got)
	}
	if got := keysOf(mapAt(t, mapAt(t, cfg, "service"), "pipelines")); !slices.Equal(got, []string{"traces"}) {
		t.Errorf("pipelines: %v, want traces only (the metrics pipeline has no receiver left)", got)
	}
}

func TestConfigOverrideMerges(t *testing.T) {
	r := mustRender(t, values(t, embeddedValues, `
config:
  extensions:
    nexusapi:
      sessions: {cookie_secure: true}
  exporters:
    nexus:
      sending_queue: {num_consumers: 4}
`))
	ext := mapAt(t, collectorConfig(t, r), "extensions")
	api := mapAt(t, ext, "nexusapi")
	if mapAt(t, api, "sessions")["cookie_secure"] != true || api["endpoint"] != "0.0.0.0:8080" {
		t.Errorf("nexusapi after the override: %v", api)
	}
	q := mapAt(t, mapAt(t, mapAt(t, collectorConfig(t, r), "exporters"), "nexus"), "sending_queue")
	// The number must survive the round trip through the template as an
	// integer, and its siblings must stay.
	if q["num_consumers"] != float64(4) || q["queue_size"] != float64(1073741824) || q["storage"] != "file_storage" {
		t.Errorf("sending_queue after the override: %v", q)
	}
	if !strings.Contains(one[*corev1.ConfigMap](t, r).Data["config.yaml"], "queue_size: 1073741824\n") {
		t.Error("queue_size is not written as a plain integer")
	}
}

func TestConfigChangeRollsPods(t *testing.T) {
	a := one[*appsv1.Deployment](t, mustRender(t, values(t, embeddedValues)))
	b := one[*appsv1.Deployment](t, mustRender(t, values(t, embeddedValues, "alerting: {rules: []}\n")))
	if a.Spec.Template.Annotations["checksum/config"] == b.Spec.Template.Annotations["checksum/config"] {
		t.Error("a different config leaves the pod template unchanged: pods would keep the old config")
	}
	if a.Spec.Template.Annotations["checksum/secret"] == "" {
		t.Error("no checksum/secret with a chart-made Secret")
	}
}

func TestResourcesOverride(t *testing.T) {
	r := mustRender(t, values(t, embeddedValues, `
resources:
  requests: {cpu: 250m, memory: 512Mi}
`))
	if got := resourcesOf(one[*appsv1.Deployment](t, r).Spec.Template.Spec.Containers[0]); got != "requests cpu=250m memory=512Mi limits" {
		t.Errorf("resources: %s, want the values' own", got)
	}
}

func portsOf(c corev1.Container) map[string]int32 {
	m := map[string]int32{}
	for _, p := range c.Ports {
		m[p.Name] = p.ContainerPort
	}
	return m
}

func servicePorts(s *corev1.Service) map[string]int32 {
	m := map[string]int32{}
	for _, p := range s.Spec.Ports {
		m[p.Name] = p.Port
	}
	return m
}

func envOf(c corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

func volumeAt(t *testing.T, d *appsv1.Deployment, path string) corev1.Volume {
	t.Helper()
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == m.Name {
				return v
			}
		}
	}
	t.Fatalf("nothing mounted at %s", path)
	return corev1.Volume{}
}

func resourcesOf(c corev1.Container) string {
	list := func(l corev1.ResourceList) string {
		var b strings.Builder
		for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := l[k]; ok {
				b.WriteString(" " + string(k) + "=" + q.String())
			}
		}
		return b.String()
	}
	return "requests" + list(c.Resources.Requests) + " limits" + list(c.Resources.Limits)
}

func ruleEqual(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.ResourceNames, b.ResourceNames) && slices.Equal(a.Verbs, b.Verbs) && len(a.NonResourceURLs) == 0
}

func TestIngestAuth(t *testing.T) {
	cfg := collectorConfig(t, mustRender(t, values(t, embeddedValues, "ingest: {auth: {enabled: true}}")))
	if auth := mapAt(t, mapAt(t, cfg, "extensions"), "nexusingestauth"); auth["store"] != "chstore" {
		t.Errorf("nexusingestauth: %v", auth)
	}
	if got := listAt(t, mapAt(t, cfg, "service"), "extensions"); !slices.Contains(got, "nexusingestauth") {
		t.Errorf("service.extensions %v lack nexusingestauth", got)
	}
	protocols := mapAt(t, mapAt(t, mapAt(t, cfg, "receivers"), "otlp"), "protocols")
	for _, p := range []string{"grpc", "http"} {
		if a := mapAt(t, mapAt(t, protocols, p), "auth"); a["authenticator"] != "nexusingestauth" {
			t.Errorf("otlp %s auth: %v", p, a)
		}
	}
	if a := mapAt(t, mapAt(t, mapAt(t, cfg, "receivers"), "apiproxy"), "auth"); a["authenticator"] != "nexusingestauth" {
		t.Errorf("apiproxy auth: %v", a)
	}
	// Off by default: the one-tenant quickstart needs no keys.
	cfg = collectorConfig(t, mustRender(t, values(t, embeddedValues)))
	if _, ok := mapAt(t, cfg, "extensions")["nexusingestauth"]; ok {
		t.Error("ingest keys required by default")
	}
}

{{/* Names and labels. */}}
{{- define "nexus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nexus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "nexus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nexus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "nexus.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "nexus.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: collector
{{- end -}}

{{- define "nexus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "nexus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nexus.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret whose keys become environment variables; empty: none. */}}
{{- define "nexus.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else if .Values.secrets.env -}}
{{- include "nexus.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the ClickHouse password; empty: no password. */}}
{{- define "nexus.clickhouseSecretName" -}}
{{- if .Values.clickhouse.existingSecret -}}
{{- .Values.clickhouse.existingSecret -}}
{{- else if .Values.clickhouse.password -}}
{{- printf "%s-clickhouse" (include "nexus.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "nexus.clickhouseSecretKey" -}}
{{- if .Values.clickhouse.existingSecret -}}
{{- .Values.clickhouse.existingSecretPasswordKey -}}
{{- else -}}
password
{{- end -}}
{{- end -}}

{{- define "nexus.leaseName" -}}
{{- default (printf "%s-alerting" (include "nexus.fullname" .)) .Values.alerting.leaderElection.leaseName | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Leader election takes part: cluster mode, evaluating, election on. */}}
{{- define "nexus.leaderElection" -}}
{{- if and (eq .Values.mode "cluster") .Values.alerting.evaluate .Values.alerting.leaderElection.enabled -}}
true
{{- end -}}
{{- end -}}

{{- define "nexus.replicas" -}}
{{- if eq .Values.mode "embedded" -}}1{{- else -}}{{ .Values.replicaCount }}{{- end -}}
{{- end -}}

{{/* The usage pollers run: enabled, or auto in embedded mode. */}}
{{- define "nexus.apiusage" -}}
{{- $e := .Values.ingest.apiusage.enabled -}}
{{- if or (eq (toString $e) "true") (and (eq (toString $e) "auto") (eq .Values.mode "embedded")) -}}
true
{{- end -}}
{{- end -}}

{{- define "nexus.exposeClickhouseHTTP" -}}
{{- if and (eq .Values.mode "embedded") .Values.store.http.enabled .Values.store.http.expose -}}
true
{{- end -}}
{{- end -}}

{{/*
Refusals: settings that would render a release that cannot work. Each
message names the value to change.
*/}}
{{- define "nexus.validate" -}}
{{- if not (has .Values.mode (list "embedded" "cluster")) -}}
{{- fail (printf "mode: must be embedded or cluster, got %q" (toString .Values.mode)) -}}
{{- end -}}
{{- if eq .Values.mode "cluster" -}}
{{- if not .Values.clickhouse.endpoints -}}
{{- fail "clickhouse.endpoints: cluster mode needs at least one ClickHouse host:port" -}}
{{- end -}}
{{- if lt (int .Values.replicaCount) 1 -}}
{{- fail "replicaCount: must be at least 1" -}}
{{- end -}}
{{- if and .Values.alerting.evaluate (not .Values.alerting.leaderElection.enabled) (gt (int .Values.replicaCount) 1) -}}
{{- fail "alerting.leaderElection.enabled: with several collectors evaluating alerts each alert is sent once per collector; turn leader election on, or alerting.evaluate off and evaluate elsewhere" -}}
{{- end -}}
{{- if and .Values.alerting.evaluate .Values.alerting.leaderElection.enabled (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) -}}
{{- fail "serviceAccount.name: leader election needs a service account allowed to take the Lease; create one (serviceAccount.create) or name it" -}}
{{- end -}}
{{- end -}}
{{- if and (include "nexus.exposeClickhouseHTTP" .) (not .Values.secrets.existingSecret) (not (hasKey .Values.secrets.env "NEXUS_CH_PASSWORD")) -}}
{{- fail "secrets.env.NEXUS_CH_PASSWORD: store.http.expose serves all of Nexus's data beyond the pod and needs a password (or secrets.existingSecret holding NEXUS_CH_PASSWORD)" -}}
{{- end -}}
{{- if not (or .Values.ingest.otlp.enabled .Values.ingest.proxy.enabled) -}}
{{- fail "ingest: turn on ingest.otlp or ingest.proxy, or the collector has no traces to store" -}}
{{- end -}}
{{- if and (eq .Values.mode "cluster") (not .Values.secrets.existingSecret) (not (hasKey .Values.secrets.env "NEXUS_ADMIN_KEY")) -}}
{{- fail "secrets.env.NEXUS_ADMIN_KEY: cluster mode needs the first admin key given (32+ characters), or each collector generates its own into a volume that goes with the pod; or name secrets.existingSecret holding it" -}}
{{- end -}}
{{- with .Values.secrets.env.NEXUS_ADMIN_KEY -}}
{{- if lt (len (toString .)) 32 -}}
{{- fail "secrets.env.NEXUS_ADMIN_KEY: must be at least 32 characters (the collector refuses a shorter one at start)" -}}
{{- end -}}
{{- end -}}
{{- range $k, $v := .Values.secrets.env -}}
{{- if not (regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" $k) -}}
{{- fail (printf "secrets.env: %q is not an environment variable name" $k) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The collector config, as YAML text before the values' config overrides.
Endpoints listen on all addresses: the pod's network is the boundary, and
the kubelet probes the health check on the pod's IP. Components mirror
configs/local.yaml (embedded) and the chstore remote mode (cluster).
*/}}
{{- define "nexus.configBase" -}}
{{- $embedded := eq .Values.mode "embedded" -}}
extensions:
  health_check:
    endpoint: 0.0.0.0:13133
  file_storage:
    directory: ${env:NEXUS_DATA_DIR}/queue
    create_directory: true
  chstore:
    database: {{ .Values.store.database | toJson }}
    migrate: {{ .Values.store.migrate | toJson }}
    max_query_time: {{ .Values.store.maxQueryTime | toJson }}
    {{- if .Values.store.retention }}
    retention: {{ .Values.store.retention | toJson }}
    {{- end }}
    credentials:
      kek_file: ${env:NEXUS_KEK_FILE:-}
    {{- if $embedded }}
    mode: embedded
    embedded:
      data_dir: ${env:NEXUS_DATA_DIR}/engine
    {{- if .Values.store.http.enabled }}
    http:
      enabled: true
      read_only: true
      {{- if .Values.store.http.expose }}
      endpoint: 0.0.0.0:8123
      username: {{ .Values.store.http.username | toJson }}
      password: ${env:NEXUS_CH_PASSWORD}
      {{- $svc := include "nexus.fullname" . }}
      allowed_hosts: {{ list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) | toJson }}
      {{- else }}
      endpoint: 127.0.0.1:8123
      {{- end }}
    {{- end }}
    {{- else }}
    mode: remote
    remote:
      endpoints: {{ .Values.clickhouse.endpoints | toJson }}
      protocol: {{ .Values.clickhouse.protocol | toJson }}
      username: {{ .Values.clickhouse.username | toJson }}
      password: ${env:CLICKHOUSE_PASSWORD:-}
      tls:
        insecure: {{ not .Values.clickhouse.tls.enabled }}
        {{- if .Values.clickhouse.tls.enabled }}
        insecure_skip_verify: {{ .Values.clickhouse.tls.insecureSkipVerify | toJson }}
        {{- if .Values.clickhouse.tls.caFile }}
        ca_file: {{ .Values.clickhouse.tls.caFile | toJson }}
        {{- end }}
        {{- end }}
      dial_timeout: {{ .Values.clickhouse.dialTimeout | toJson }}
      max_open_conns: {{ .Values.clickhouse.maxOpenConns | toJson }}
      {{- if .Values.clickhouse.cluster }}
      cluster: {{ .Values.clickhouse.cluster | toJson }}
      {{- end }}
    {{- end }}
  {{- if .Values.ingest.auth.enabled }}
  nexusingestauth:
    store: chstore
  {{- end }}
  nexusapi:
    endpoint: 0.0.0.0:8080
    store: chstore
    time_zone: ${env:NEXUS_TIME_ZONE:-UTC}
    alerting:
      evaluate: {{ .Values.alerting.evaluate | toJson }}
      {{- if include "nexus.leaderElection" . }}
      leader_election:
        mode: kubernetes
        lease_name: {{ include "nexus.leaseName" . | toJson }}
      {{- end }}
      {{- if .Values.alerting.linkBaseURL }}
      link_base_url: {{ .Values.alerting.linkBaseURL | toJson }}
      {{- end }}
      {{- if .Values.alerting.channels }}
      channels: {{ .Values.alerting.channels | toJson }}
      {{- end }}
      rules: {{ .Values.alerting.rules | default list | toJson }}
    providers: {{ include "nexus.providers" . | fromYaml | toJson }}
receivers:
  {{- if .Values.ingest.otlp.enabled }}
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
        {{- if .Values.ingest.auth.enabled }}
        auth:
          authenticator: nexusingestauth
        {{- end }}
      http:
        endpoint: 0.0.0.0:4318
        {{- if .Values.ingest.auth.enabled }}
        auth:
          authenticator: nexusingestauth
        {{- end }}
  {{- end }}
  {{- if .Values.ingest.proxy.enabled }}
  apiproxy:
    endpoint: 0.0.0.0:8787
    # Reachable through the Service only; see ingest.proxy in values.yaml.
    allow_non_loopback: true
    {{- if .Values.ingest.auth.enabled }}
    auth:
      authenticator: nexusingestauth
    {{- end }}
    service_name: apiproxy
    service_name_header: X-Nexus-Service
    max_request_body_size: 67108864
    budgets:
      enforce: {{ .Values.ingest.proxy.budgets.enforce | toJson }}
      refresh: ${env:NEXUS_BUDGETS_REFRESH:-5s}
      live_feed: nexusapi
    upstream:
      response_header_timeout: 10m
      idle_timeout: 5m
    openai:
      endpoint: ${env:NEXUS_OPENAI_BASE_URL:-}
    openrouter:
      endpoint: ${env:NEXUS_OPENROUTER_BASE_URL:-}
    exa:
      endpoint: ${env:NEXUS_EXA_BASE_URL:-}
    twilio:
      endpoint: ${env:NEXUS_TWILIO_BASE_URL:-}
    apollo:
      endpoint: ${env:NEXUS_APOLLO_BASE_URL:-}
  {{- end }}
  {{- if include "nexus.apiusage" . }}
  apiusage:
    collection_interval: {{ .Values.ingest.apiusage.collectionInterval | toJson }}
    credentials_refresh: ${env:NEXUS_CREDENTIALS_REFRESH:-30s}
    {{- include "nexus.providers" . | nindent 4 }}
  {{- end }}
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  cost:
    live_feed: nexusapi
    prices:
      store: chstore
      api: nexusapi
      refresh: ${env:NEXUS_PRICES_REFRESH:-2s}
      openrouter_sync:
        enabled: ${env:NEXUS_OPENROUTER_PRICE_SYNC:-true}
        endpoint: ${env:NEXUS_OPENROUTER_BASE_URL:-}
exporters:
  nexus:
    store: chstore
    sending_queue:
      storage: file_storage
      sizer: bytes
      queue_size: 1073741824
      block_on_overflow: false
      batch:
        sizer: items
        min_size: 8192
        flush_timeout: 200ms
      num_consumers: 2
    retry_on_failure:
      enabled: true
      initial_interval: 5s
      max_interval: 30s
      max_elapsed_time: 0
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 0.0.0.0
                port: 8888
  extensions: [health_check, file_storage, chstore, {{ if .Values.ingest.auth.enabled }}nexusingestauth, {{ end }}nexusapi]
  pipelines:
    traces:
      receivers:
        {{- if .Values.ingest.otlp.enabled }}
        - otlp
        {{- end }}
        {{- if .Values.ingest.proxy.enabled }}
        - apiproxy
        {{- end }}
      processors: [memory_limiter, cost]
      exporters: [nexus]
    {{- if include "nexus.apiusage" . }}
    metrics:
      receivers: [apiusage]
      processors: [memory_limiter]
      exporters: [nexus]
    {{- end }}
{{- end -}}

{{/* Provider blocks shared by the API's key test and the usage pollers. */}}
{{- define "nexus.providers" -}}
openai:
  endpoint: ${env:NEXUS_OPENAI_BASE_URL:-}
  admin_key: ${env:OPENAI_ADMIN_KEY:-}
openrouter:
  endpoint: ${env:NEXUS_OPENROUTER_BASE_URL:-}
  api_key: ${env:OPENROUTER_API_KEY:-}
  management_key: ${env:OPENROUTER_MANAGEMENT_KEY:-}
exa:
  endpoint: ${env:NEXUS_EXA_BASE_URL:-}
  admin_endpoint: ${env:NEXUS_EXA_ADMIN_BASE_URL:-}
  api_key: ${env:EXA_API_KEY:-}
  service_key: ${env:EXA_SERVICE_KEY:-}
twilio:
  endpoint: ${env:NEXUS_TWILIO_BASE_URL:-}
  account_sid: ${env:TWILIO_ACCOUNT_SID:-}
  auth_token: ${env:TWILIO_AUTH_TOKEN:-}
apollo:
  endpoint: ${env:NEXUS_APOLLO_BASE_URL:-}
  api_key: ${env:APOLLO_API_KEY:-}
{{- end -}}

{{/* The collector config: the base with the values' config merged over it. */}}
{{- define "nexus.config" -}}
{{- $base := include "nexus.configBase" . | fromYaml -}}
{{- if hasKey $base "Error" -}}
{{- fail (printf "the chart's collector config does not parse: %s" (get $base "Error")) -}}
{{- end -}}
{{- mustMergeOverwrite $base (deepCopy (.Values.config | default dict)) | toYaml -}}
{{- end -}}

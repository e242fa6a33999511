{{/* The chart name, for the app.kubernetes.io/name label. */}}
{{- define "psasync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name prefix: the release name, unless it already holds the chart name. */}}
{{- define "psasync.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "psasync.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "psasync.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "psasync.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "psasync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: psasync
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one role; call with (dict "root" $ "component" "worker"). */}}
{{- define "psasync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "psasync.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The image reference. */}}
{{- define "psasync.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The ConfigMap holding psasync.yaml. */}}
{{- define "psasync.configMapName" -}}
{{- printf "%s-config" (include "psasync.fullname" .) }}
{{- end }}

{{/*
psasync.yaml: .Values.config with the Redis of .Values.redis (redis.addr,
redis.sentinel or redis.cluster, by mode) and, for every entry of
.Values.secretFiles ("dotted.key": secret key), the config key
dotted.key_file pointing at the mounted Secret's file. The secretFiles
entry redis.password is the data nodes' password in every mode: it becomes
redis.sentinel.password_file or redis.cluster.password_file there.
*/}}
{{- define "psasync.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $redis := get $cfg "redis" | default (dict) }}
{{- $mode := .Values.redis.mode }}
{{- if eq $mode "sentinel" }}
{{- $v := .Values.redis.sentinel }}
{{- $s := dict "master_name" $v.masterName "addrs" $v.addrs }}
{{- with $v.username }}{{ $_ := set $s "username" . }}{{ end }}
{{- with $v.sentinelUsername }}{{ $_ := set $s "sentinel_username" . }}{{ end }}
{{- with $v.db }}{{ $_ := set $s "db" . }}{{ end }}
{{- with $v.replicaAcks }}{{ $_ := set $s "replica_acks" . }}{{ end }}
{{- with $v.replicaAckTimeout }}{{ $_ := set $s "replica_ack_timeout" . }}{{ end }}
{{- $_ := set $redis "sentinel" $s }}
{{- else if eq $mode "cluster" }}
{{- $v := .Values.redis.cluster }}
{{- $c := dict "addrs" $v.addrs }}
{{- with $v.username }}{{ $_ := set $c "username" . }}{{ end }}
{{- $_ := set $redis "cluster" $c }}
{{- else }}
{{- $_ := set $redis "addr" .Values.redis.addr }}
{{- end }}
{{- $_ := set $cfg "redis" $redis }}
{{- $mount := .Values.secretMountPath }}
{{- range $key, $secretKey := .Values.secretFiles }}
{{- if and (eq $key "redis.password") (ne $mode "single") }}
{{- $key = printf "redis.%s.password" $mode }}
{{- end }}
{{- $parts := splitList "." $key }}
{{- $node := $cfg }}
{{- range $p := initial $parts }}
{{- if not (hasKey $node $p) }}
{{- $_ := set $node $p (dict) }}
{{- end }}
{{- $node = get $node $p }}
{{- end }}
{{- $_ := set $node (printf "%s_file" (last $parts)) (printf "%s/%s" $mount $secretKey) }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* Pod-level settings every psasync pod shares. */}}
{{- define "psasync.podSpec" -}}
automountServiceAccountToken: false
terminationGracePeriodSeconds: {{ .root.Values.terminationGracePeriodSeconds }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  fsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "psasync.selectorLabels" . | nindent 8 }}
{{- with .root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: config
    configMap:
      name: {{ include "psasync.configMapName" .root }}
  - name: secrets
    secret:
      secretName: {{ .root.Values.secretName }}
      defaultMode: 0440
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end }}

{{/* Container settings every psasync container shares: image, secrets, GOMEMLIMIT, security, mounts. */}}
{{- define "psasync.containerCommon" -}}
image: {{ include "psasync.image" .root }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
{{- if .root.Values.secretEnvFrom }}
envFrom:
  - secretRef:
      name: {{ .root.Values.secretName }}
{{- end }}
env:
  - name: GOMEMLIMIT
    valueFrom:
      resourceFieldRef:
        resource: limits.memory
resources:
  {{- toYaml .values.resources | nindent 2 }}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop:
      - ALL
volumeMounts:
  - name: config
    mountPath: /etc/psasync
    readOnly: true
  - name: secrets
    mountPath: {{ .root.Values.secretMountPath }}
    readOnly: true
  - name: tmp
    mountPath: /tmp
{{- end }}

{{/* Pod annotations: the config checksum, so a config change rolls the pods. */}}
{{- define "psasync.podAnnotations" -}}
checksum/config: {{ include "psasync.config" . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

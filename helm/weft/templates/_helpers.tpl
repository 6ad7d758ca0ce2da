{{/* Chart name and version, as used in the helm.sh/chart label. */}}
{{- define "weft.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object of the release carries. */}}
{{- define "weft.labels" -}}
helm.sh/chart: {{ include "weft.chart" . }}
app.kubernetes.io/part-of: weft
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "operator"). */}}
{{- define "weft.selectorLabels" -}}
app.kubernetes.io/name: weft-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component's objects. */}}
{{- define "weft.componentLabels" -}}
{{ include "weft.labels" .root }}
app.kubernetes.io/name: weft-{{ .component }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image reference of one component; call with (dict "root" $ "component" "operator"|"xds"). */}}
{{- define "weft.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := (index $img .component).repository -}}
{{- $tag := default .root.Chart.AppVersion $img.tag -}}
{{- if $img.registry -}}
{{- printf "%s/%s:%s" $img.registry $repo $tag -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/*
The prefix of every name the release creates, so that two releases in one cluster never share a
ClusterRole, a Lease or a Service name: fullnameOverride if set, else the release name, with
"-weft" added unless the release name already contains "weft" (the release "weft" keeps the names
weft-operator and weft-xds; "weft-b" gets weft-b-operator; "mesh" gets mesh-weft-operator). At most
54 characters, so that "<prefix>-operator" is still a valid Service name (63).
*/}}
{{- define "weft.fullname" -}}
{{- $name := "" -}}
{{- if .Values.fullnameOverride -}}
{{- $name = .Values.fullnameOverride -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- $name = .Release.Name -}}
{{- else -}}
{{- $name = printf "%s-%s" .Release.Name .Chart.Name -}}
{{- end -}}
{{- $name | trunc 54 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the operator's Deployment, ServiceAccount, Service, roles and Lease. */}}
{{- define "weft.operator.fullname" -}}{{ include "weft.fullname" . }}-operator{{- end -}}
{{/* Name of the xds-server's Deployment, ServiceAccount, Service (the ADS address), roles and PDB. */}}
{{- define "weft.xds.fullname" -}}{{ include "weft.fullname" . }}-xds{{- end -}}

{{/*
One release per namespace: the operator aggregates every xds-server sync report in its namespace
(WEFT_XDS_NAMESPACE), so a second release there would count the first one's proxies as its own.
lookup sees nothing under helm template or --dry-run=client, so this only stops a real install.
*/}}
{{- define "weft.checkOneReleasePerNamespace" -}}
{{- $deployments := lookup "apps/v1" "Deployment" .Release.Namespace "" -}}
{{- range ($deployments.items | default list) -}}
{{- $labels := .metadata.labels | default dict -}}
{{- $other := get $labels "app.kubernetes.io/instance" -}}
{{- if and (eq (get $labels "app.kubernetes.io/part-of") "weft") (ne $other $.Release.Name) -}}
{{- fail (printf "namespace %s already holds the Weft release %s; install each Weft release into its own namespace (the operator reads every xds-server sync report in its namespace)" $.Release.Namespace $other) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Pod security context shared by both components. */}}
{{- define "weft.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context shared by both components. */}}
{{- define "weft.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "weft.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The CA Secret in the release namespace: the user's own, else "<prefix>-ca", created by the operator. */}}
{{- define "weft.caSecret" -}}
{{- default (printf "%s-ca" (include "weft.fullname" .)) .Values.identity.ca.existingSecret -}}
{{- end -}}

{{/* Whether workload certificates are issued through cert-manager (identity.certManager.issuerRef.name set). */}}
{{- define "weft.certManager.enabled" -}}
{{- if and .Values.identity.enabled .Values.identity.certManager.issuerRef.name -}}true{{- end -}}
{{- end -}}

{{/* Whether the release injects sidecars: injection needs identity (the sidecar mounts its certificate). */}}
{{- define "weft.injection.enabled" -}}
{{- if and .Values.injection.enabled .Values.identity.enabled -}}true{{- end -}}
{{- end -}}

{{/* Name of the Mutating- and ValidatingWebhookConfiguration (cluster-scoped, so per release). */}}
{{- define "weft.injection.fullname" -}}{{ include "weft.fullname" . }}-injection{{- end -}}
{{/* Name of the Service the kube-apiserver calls the operator's webhook through. */}}
{{- define "weft.webhook.fullname" -}}{{ include "weft.fullname" . }}-webhook{{- end -}}

{{/* The namespaces both injection webhooks see: labelled ones, never kube-system or the release namespace. */}}
{{- define "weft.injection.namespaceSelector" }}
    namespaceSelector:
      matchExpressions:
        - key: weft.dev/inject
          operator: In
          values: ["enabled"]
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values: ["kube-system", {{ .Release.Namespace | quote }}]
{{- end }}

{{/*
Whether the ADS port serves mTLS: xds.tls.enabled, which needs the mesh CA (identity.enabled).
*/}}
{{- define "weft.xds.tls" -}}
{{- if .Values.xds.tls.enabled -}}
{{- if not .Values.identity.enabled -}}
{{- fail "xds.tls.enabled=true needs identity.enabled=true (the operator's mesh CA issues the ADS port's certificate); set xds.tls.enabled=false as well to run without identities (plaintext xDS, for migration only)" -}}
{{- end -}}
true
{{- end -}}
{{- end -}}

{{/* The Secret holding the xds-server's certificate, written by the operator: weft-identity-<xds ServiceAccount>. */}}
{{- define "weft.xds.tlsSecret" -}}weft-identity-{{ include "weft.xds.fullname" . }}{{- end -}}

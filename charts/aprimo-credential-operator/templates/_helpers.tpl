{{/*
The chart's name, or nameOverride.
*/}}
{{- define "aprimo-credential-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: fullnameOverride, or the release name
followed by the chart's name unless it already contains it. At most 63
characters, the limit of a label value and of most names.
*/}}
{{- define "aprimo-credential-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "aprimo-credential-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "aprimo-credential-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the manager's Pods.
*/}}
{{- define "aprimo-credential-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aprimo-credential-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The manager's ServiceAccount.
*/}}
{{- define "aprimo-credential-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aprimo-credential-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The manager's image.
*/}}
{{- define "aprimo-credential-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The metrics Service's port name: https or http.
*/}}
{{- define "aprimo-credential-operator.metricsPortName" -}}
{{- ternary "https" "http" .Values.metrics.secure }}
{{- end }}

{{/*
The rules of the manager's role, generated from the +kubebuilder:rbac markers
into config/rbac/role.yaml and copied into files/ by 'make helm-sync'.
*/}}
{{- define "aprimo-credential-operator.managerRules" -}}
{{- $role := .Files.Get "files/manager-role.yaml" | fromYaml }}
{{- if not $role.rules }}
{{- fail "files/manager-role.yaml has no rules: run 'make helm-sync'" }}
{{- end }}
{{- toYaml $role.rules }}
{{- end }}

/**
 * Vigil's default notification texts, as named templates so a user's template file can replace any
 * of them by defining the same name (Alertmanager's names where it has one: `slack.default.title`,
 * `email.default.subject`, …). They are written to be read at 3 a.m.: what is broken, where, how
 * bad, since when, and where to look.
 *
 * The `__vigil_*` templates are the building blocks. `__subject`, `__text_alert_list`,
 * `__alertmanager`, `__alertmanagerURL` and `__description` exist because Alertmanager users'
 * templates call them; `__subject` and `__text_alert_list` print what Alertmanager's do.
 */
/** The name the defaults are parsed under (it locates errors in them). */
export const DEFAULT_TEMPLATES_NAME = 'vigil-defaults.tmpl';

/** The default templates' source. */
export const DEFAULT_TEMPLATES = `
{{- /* Label values in name order, space separated. */ -}}
{{ define "__vigil_values" }}{{ $sep := "" }}{{ range . }}{{ $sep }}{{ . }}{{ $sep = " " }}{{ end }}{{ end }}

{{- /* name=value pairs in name order, space separated. */ -}}
{{ define "__vigil_labels" }}{{ $sep := "" }}{{ range $k, $v := . }}{{ $sep }}{{ $k }}={{ $v }}{{ $sep = " " }}{{ end }}{{ end }}

{{- /* [FIRING:2] HighErrorRate payment (critical): status, count, group label values, then the other common label values. */ -}}
{{ define "__vigil_title" -}}
{{ if eq .Status "firing" }}[FIRING:{{ len .Alerts.Firing }}]{{ else }}[RESOLVED]{{ end }}
{{- if .GroupLabels }} {{ template "__vigil_values" .GroupLabels }}{{ else }} {{ or .CommonLabels.alertname "alerts" }}{{ end }}
{{- with .CommonLabels.Remove .GroupLabels.Names }} ({{ template "__vigil_values" . }}){{ end }}
{{- end }}

{{- /* One alert in a line: its summary annotation, else its name and labels. */ -}}
{{ define "__vigil_summary" -}}
{{ if .Annotations.summary }}{{ .Annotations.summary }}
{{- else if .Annotations.message }}{{ .Annotations.message }}
{{- else if .Annotations.description }}{{ .Annotations.description }}
{{- else }}{{ or .Labels.alertname "alert" }} {{ template "__vigil_labels" (.Labels.Remove (stringSlice "alertname")) }}{{ end }}
{{- end }}

{{ define "__vigil_time" }}{{ .UTC.Format "2006-01-02 15:04:05 UTC" }}{{ end }}

{{- /* One alert: state, severity, summary, description, when, who acknowledged, labels, runbook, source. */ -}}
{{ define "__vigil_alert" -}}
{{ if eq .Status "firing" }}🔥 FIRING{{ else }}✅ RESOLVED{{ end }}{{ with .Labels.severity }} [{{ . }}]{{ end }}: {{ template "__vigil_summary" . }}
{{- $short := or .Annotations.summary .Annotations.message }}
{{- if and .Annotations.description $short (ne .Annotations.description $short) }}
  {{ .Annotations.description }}
{{- end }}
{{ if eq .Status "firing" -}}
{{ "  " }}since {{ template "__vigil_time" .StartsAt }} ({{ since .StartsAt | shortDuration }} ago)
{{- else -}}
{{ "  " }}from {{ template "__vigil_time" .StartsAt }} to {{ template "__vigil_time" .EndsAt }} (lasted {{ .EndsAt.Sub .StartsAt | shortDuration }})
{{- end }}
{{- with .AcknowledgedBy }}
  acknowledged by {{ . }}
{{- end }}
  labels: {{ template "__vigil_labels" .Labels }}
{{- with .Annotations.runbook_url }}
  runbook: {{ . }}
{{- end }}
{{- with .GeneratorURL }}
  source: {{ . }}
{{- end }}
{{- end }}

{{- /* A list of alerts, oldest first. */ -}}
{{ define "__vigil_alert_list" }}{{ $sep := "" }}{{ range .SortedByStart }}{{ $sep }}{{ template "__vigil_alert" . }}{{ $sep = "\\n" }}{{ end }}{{ end }}

{{- /* The plain-text body: firing alerts first, then resolved ones. */ -}}
{{ define "__vigil_text" -}}
{{ template "__vigil_alert_list" .Alerts.Firing }}
{{- if and .Alerts.Firing .Alerts.Resolved }}{{ "\\n" }}{{ end }}
{{- template "__vigil_alert_list" .Alerts.Resolved }}
{{- with .TruncatedAlerts }}{{ "\\n" }}…and {{ . }} more{{ end }}
{{- end }}

{{- /* Slack colour: green when resolved, else by the highest severity among firing alerts. */ -}}
{{ define "slack.default.color" -}}
{{ $color := "#439FE0" }}
{{- if eq .Status "resolved" }}{{ $color = "good" }}{{ else }}
{{- range .Alerts.Firing }}{{ $sev := toLower .Labels.severity }}
{{- if or (eq $sev "critical") (eq $sev "page") (eq $sev "error") }}{{ $color = "danger" }}
{{- else if and (ne $color "danger") (or (eq $sev "high") (eq $sev "warning")) }}{{ $color = "warning" }}{{ end }}
{{- end }}{{ end }}{{ $color }}
{{- end }}

{{ define "slack.default.title" }}{{ template "__vigil_title" . }}{{ end }}
{{ define "slack.default.text" }}{{ template "__vigil_text" . }}{{ end }}
{{ define "slack.default.titlelink" }}{{ .ExternalURL }}{{ end }}
{{ define "slack.default.fallback" }}{{ template "slack.default.title" . }}{{ end }}
{{ define "slack.default.pretext" }}{{ end }}
{{ define "slack.default.footer" }}Vigil{{ end }}
{{ define "slack.default.username" }}{{ end }}
{{ define "slack.default.iconemoji" }}{{ end }}
{{ define "slack.default.iconurl" }}{{ end }}

{{ define "email.default.subject" }}{{ template "__vigil_title" . }}{{ end }}
{{ define "email.default.text" }}{{ template "__vigil_text" . }}{{ end }}
{{ define "email.default.html" -}}
<html><body><h2 style="color:{{ if eq .Status "firing" }}#D00000{{ else }}#2EB886{{ end }}">{{ template "email.default.subject" . }}</h2>
{{- "" }}<pre style="font-size:14px">{{ template "email.default.text" . }}</pre>
{{- with .ExternalURL }}<p><a href="{{ . }}">Open Vigil</a></p>{{ end }}</body></html>
{{- end }}

{{ define "pagerduty.default.description" }}{{ template "__vigil_title" . }}{{ end }}
{{ define "pagerduty.default.client" }}Vigil{{ end }}
{{ define "pagerduty.default.clientURL" }}{{ .ExternalURL }}{{ end }}
{{ define "pagerduty.default.instances" }}{{ template "__vigil_alert_list" . }}{{ end }}

{{ define "discord.default.title" }}{{ template "__vigil_title" . }}{{ end }}
{{ define "discord.default.message" }}{{ template "__vigil_text" . }}{{ end }}

{{ define "msteams.default.title" }}{{ template "__vigil_title" . }}{{ end }}
{{ define "msteams.default.summary" }}{{ template "msteams.default.title" . }}{{ end }}
{{ define "msteams.default.text" }}{{ template "__vigil_text" . }}{{ end }}

{{- /* What Alertmanager's templates provide to theirs. */ -}}
{{ define "__alertmanager" }}Vigil{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/ui/alerts{{ end }}
{{ define "__description" }}{{ end }}
{{ define "__subject" -}}
[{{ toUpper .Status }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}] {{ join " " .GroupLabels.SortedPairs.Values }} {{ with .CommonLabels.Remove .GroupLabels.Names }}({{ join " " .Values }}){{ end }}
{{- end }}
{{ define "__vigil_pair_lines" }}{{ range .SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}{{ end }}
{{ define "__text_alert_list" }}{{ range . }}Labels:
{{ template "__vigil_pair_lines" .Labels }}Annotations:
{{ template "__vigil_pair_lines" .Annotations }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}
`;

/**
 * Notification content: the data every integration renders (Alertmanager's template data) and the
 * default texts, written to be read at 3 a.m.: what is broken, where, how bad, since when, and
 * where to look. User texts may use simple `{{ .Field.name }}` references; anything richer falls
 * back to the default (Vigil does not run Go templates).
 */
import { formatGoTime, type Alert, type LabelSet } from './types.js';

/** One alert as integrations see it. */
export interface TemplateAlert {
  status: 'firing' | 'resolved';
  labels: LabelSet;
  annotations: LabelSet;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
  /** Epoch ms, for rendering durations. */
  startsAtMs: number;
  endsAtMs: number;
  acknowledgedBy?: string;
}

/** Alertmanager's template data. */
export interface TemplateData {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: TemplateAlert[];
  groupLabels: LabelSet;
  commonLabels: LabelSet;
  commonAnnotations: LabelSet;
  externalURL: string;
  groupKey: string;
  /** Alerts cut off by max_alerts. */
  truncatedAlerts: number;
  /** Render time, epoch ms. */
  now: number;
}

function common(sets: LabelSet[]): Record<string, string> {
  if (sets.length === 0) return {};
  const out: Record<string, string> = { ...sets[0] };
  for (const s of sets.slice(1)) for (const k of Object.keys(out)) if (s[k] !== out[k]) delete out[k];
  return out;
}

/** Builds the template data for a group's alerts at `now`. */
export function templateData(opts: { receiver: string; groupKey: string; groupLabels: LabelSet; externalURL: string; alerts: readonly Alert[]; now: number; ackedBy?: (a: Alert) => string | undefined }): TemplateData {
  const alerts = opts.alerts.map((a): TemplateAlert => {
    const resolved = a.endsAt <= opts.now;
    const t: TemplateAlert = {
      status: resolved ? 'resolved' : 'firing',
      labels: a.labels,
      annotations: a.annotations,
      startsAt: formatGoTime(a.startsAt),
      // Alertmanager shows Go's zero time as the end of a firing alert.
      endsAt: resolved ? formatGoTime(a.endsAt) : formatGoTime(0),
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
      startsAtMs: a.startsAt,
      endsAtMs: a.endsAt,
    };
    const by = opts.ackedBy?.(a);
    if (by !== undefined) t.acknowledgedBy = by;
    return t;
  });
  return {
    receiver: opts.receiver,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: opts.groupLabels,
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: opts.externalURL,
    groupKey: opts.groupKey,
    truncatedAlerts: 0,
    now: opts.now,
  };
}

/** "12m", "3h4m", "2d5h": how long ago, roughly. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** `[FIRING:2] HighErrorRate payment (critical)`: status, count, group labels, then the other common labels. */
export function defaultTitle(d: TemplateData): string {
  const firing = d.alerts.filter((a) => a.status === 'firing').length;
  const head = d.status === 'firing' ? `[FIRING:${firing}]` : '[RESOLVED]';
  const groupVals = Object.keys(d.groupLabels)
    .sort()
    .map((k) => d.groupLabels[k]);
  const extra = Object.keys(d.commonLabels)
    .filter((k) => !(k in d.groupLabels))
    .sort()
    .map((k) => d.commonLabels[k]);
  const name = groupVals.length ? groupVals.join(' ') : (d.commonLabels['alertname'] ?? 'alerts');
  return `${head} ${name}${extra.length ? ` (${extra.join(' ')})` : ''}`;
}

/** A short summary line for one alert: its summary annotation, else its alertname and labels. */
export function alertSummary(a: TemplateAlert): string {
  return a.annotations['summary'] ?? a.annotations['message'] ?? a.annotations['description'] ?? `${a.labels['alertname'] ?? 'alert'} ${labelsLine(a.labels, ['alertname'])}`;
}

function labelsLine(l: LabelSet, skip: string[] = []): string {
  return Object.keys(l)
    .filter((k) => !skip.includes(k))
    .sort()
    .map((k) => `${k}=${l[k]}`)
    .join(' ');
}

/** The plain-text body: one block per alert, firing first. */
export function defaultText(d: TemplateData): string {
  const lines: string[] = [];
  const sorted = [...d.alerts].sort((a, b) => (a.status === b.status ? a.startsAtMs - b.startsAtMs : a.status === 'firing' ? -1 : 1));
  for (const a of sorted) {
    const sev = a.labels['severity'] ? ` [${a.labels['severity']}]` : '';
    lines.push(`${a.status === 'firing' ? '🔥 FIRING' : '✅ RESOLVED'}${sev}: ${alertSummary(a)}`);
    if (a.annotations['description'] && a.annotations['description'] !== alertSummary(a)) lines.push(`  ${a.annotations['description']}`);
    lines.push(
      a.status === 'firing'
        ? `  since ${utc(a.startsAtMs)} (${ago(d.now - a.startsAtMs)} ago)`
        : `  from ${utc(a.startsAtMs)} to ${utc(a.endsAtMs)} (lasted ${ago(a.endsAtMs - a.startsAtMs)})`,
    );
    if (a.acknowledgedBy) lines.push(`  acknowledged by ${a.acknowledgedBy}`);
    lines.push(`  labels: ${labelsLine(a.labels)}`);
    if (a.annotations['runbook_url']) lines.push(`  runbook: ${a.annotations['runbook_url']}`);
    if (a.generatorURL) lines.push(`  source: ${a.generatorURL}`);
  }
  if (d.truncatedAlerts > 0) lines.push(`…and ${d.truncatedAlerts} more`);
  return lines.join('\n');
}

/**
 * Renders a user text with `{{ .Status }}`, `{{ .Receiver }}`, `{{ .ExternalURL }}` and
 * `{{ .GroupLabels.x }}` / `{{ .CommonLabels.x }}` / `{{ .CommonAnnotations.x }}`; returns undefined
 * when the text uses anything else, so the caller can fall back to its default.
 */
export function renderSimple(text: string, d: TemplateData): string | undefined {
  if (!text) return undefined;
  let unsupported = false;
  const out = text.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, expr: string) => {
    const e = /^\.(Status|Receiver|ExternalURL)$|^\.(GroupLabels|CommonLabels|CommonAnnotations)\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(expr);
    if (!e) {
      unsupported = true;
      return '';
    }
    if (e[1] === 'Status') return d.status;
    if (e[1] === 'Receiver') return d.receiver;
    if (e[1] === 'ExternalURL') return d.externalURL;
    const set = e[2] === 'GroupLabels' ? d.groupLabels : e[2] === 'CommonLabels' ? d.commonLabels : d.commonAnnotations;
    return set[e[3]!] ?? '';
  });
  return unsupported ? undefined : out;
}

/**
 * Notification data: what every integration renders. {@link TemplateData} is the JavaScript view
 * (the webhook payload is built from it); {@link goData} is the same data as Alertmanager's
 * notification templates see it (`.Receiver`, `.Alerts.Firing`, `.CommonLabels.SortedPairs`,
 * `.StartsAt.Format …`). Rendering through templates is in `receivers/templates.ts`.
 */
import { alertList, GO_ZERO_TIME_MS, goTime, kv, withGoType, type GoType, type TStruct } from '../template/index.js';
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

/** Go's model.LabelSet.Before: fewer labels first, then by the first differing name or value. */
function labelsBefore(a: LabelSet, b: LabelSet): number {
  const na = Object.keys(a);
  const nb = Object.keys(b);
  if (na.length !== nb.length) return na.length - nb.length;
  for (const n of [...new Set([...na, ...nb])].sort()) {
    const x = a[n];
    const y = b[n];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Alertmanager's order of a group's alerts (types.AlertSlice): by job, then instance, then labels. */
export function compareAlerts(a: Alert, b: Alert): number {
  for (const k of ['job', 'instance']) {
    const x = a.labels[k];
    const y = b.labels[k];
    if (x === undefined && y === undefined) continue;
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return labelsBefore(a.labels, b.labels);
}

/** Builds the template data for a group's alerts at `now`, in Alertmanager's alert order. */
export function templateData(opts: {
  receiver: string;
  groupKey: string;
  groupLabels: LabelSet;
  externalURL: string;
  alerts: readonly Alert[];
  now: number;
  ackedBy?: (a: Alert) => string | undefined;
}): TemplateData {
  const alerts = [...opts.alerts].sort(compareAlerts).map((a): TemplateAlert => {
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

/** Go's regexp.QuoteMeta: Alertmanager passes the receiver name through it (`.Receiver` of `team.a` is `team\.a`). */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** Vigil's additions to Alertmanager's Alert, as methods so that printing an alert stays as Alertmanager prints it. */
const ALERT_TYPE: GoType = {
  name: 'template.Alert',
  methods: new Map([['AcknowledgedBy', { minArgs: 0, maxArgs: 0, call: (a) => alertExtras.get(a as TStruct) ?? '' }]]),
};
const alertExtras = new WeakMap<TStruct, string>();

/** Vigil's additions to Alertmanager's Data: `.GroupKey` and `.TruncatedAlerts`. */
const DATA_TYPE: GoType = {
  name: '*template.Data',
  methods: new Map([
    ['GroupKey', { minArgs: 0, maxArgs: 0, call: (d) => dataExtras.get(d as TStruct)?.groupKey ?? '' }],
    ['TruncatedAlerts', { minArgs: 0, maxArgs: 0, call: (d) => BigInt(dataExtras.get(d as TStruct)?.truncatedAlerts ?? 0) }],
  ]),
};
const dataExtras = new WeakMap<TStruct, TemplateData>();

const goDataCache = new WeakMap<TemplateData, TStruct>();

/**
 * The data as notification templates see it: Alertmanager's `template.Data`, fields in its order
 * (so `{{ . }}` prints alike), label sets as KV, times as time.Time. Built once per notification.
 */
export function goData(d: TemplateData): TStruct {
  let g = goDataCache.get(d);
  if (g !== undefined) return g;
  const alerts = d.alerts.map((a) => {
    const s = withGoType(
      {
        Status: a.status,
        Labels: kv(a.labels),
        Annotations: kv(a.annotations),
        StartsAt: goTime(a.startsAtMs),
        EndsAt: goTime(a.status === 'resolved' ? a.endsAtMs : GO_ZERO_TIME_MS),
        GeneratorURL: a.generatorURL,
        Fingerprint: a.fingerprint,
      },
      ALERT_TYPE,
    );
    if (a.acknowledgedBy !== undefined) alertExtras.set(s, a.acknowledgedBy);
    return s;
  });
  g = withGoType(
    {
      Receiver: quoteMeta(d.receiver),
      Status: d.status,
      Alerts: alertList(alerts),
      GroupLabels: kv(d.groupLabels),
      CommonLabels: kv(d.commonLabels),
      CommonAnnotations: kv(d.commonAnnotations),
      ExternalURL: d.externalURL,
    },
    DATA_TYPE,
  );
  dataExtras.set(g, d);
  goDataCache.set(d, g);
  return g;
}

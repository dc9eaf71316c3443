/** The overview's model: which rows exist, which signals they show, and how each is judged. */
import { windowMs, type SloRow } from './slo.js';

/** A card's colour. */
export type Level = 'ok' | 'warning' | 'critical' | 'unknown';

/** A signal of the overview, with its PromQL per row and the thresholds that colour it. */
export interface Signal {
  readonly id: 'latency' | 'rps' | 'errors' | 'span_latency' | 'span_rps' | 'span_errors' | 'cpu' | 'memory' | 'eventloop' | 'pool' | 'up';
  readonly title: string;
  /** The golden signal (Google SRE book, chapter 6) the card is under. */
  readonly golden: Golden['id'];
  readonly unit: string;
  /** The query for all rows at once: `{{by}}` is the grouping label (`service` or `job`). */
  readonly expr: (by: 'service' | 'job') => string;
  /** The query for one row, for the click-through to Explore. */
  readonly detail: (sel: string) => string;
  readonly warn?: number;
  readonly crit?: number;
  /** True when low values are bad (up). */
  readonly lowIsBad?: boolean;
  /** Alert names or labels that point at this card. */
  readonly alertPattern?: RegExp;
  /**
   * Shown only when the row lacks this signal: the span-metrics RED cards stand in for the
   * service's own HTTP metrics when it sends traces but exposes no /metrics.
   */
  readonly fallbackFor?: Signal['id'];
}

/** One of the four golden signals: a section of each overview row. */
export interface Golden {
  readonly id: 'latency' | 'traffic' | 'errors' | 'saturation';
  readonly title: string;
  /** What the section shows when a row has no metric for it. */
  readonly missing: string;
}

/** The four golden signals, as section headings of each row. */
export const GOLDEN: readonly Golden[] = [
  { id: 'latency', title: 'Latency', missing: 'no request-duration histogram' },
  { id: 'traffic', title: 'Traffic', missing: 'no request counter' },
  { id: 'errors', title: 'Errors', missing: 'no error or up series' },
  { id: 'saturation', title: 'Saturation', missing: 'no CPU, memory or pool metrics' },
];

const dur = 'http_server_request_duration_seconds';
const sm = 'traces_spanmetrics';
/** Spans that serve a request: the server side of a call, or a consumer of a message. */
const served = 'span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER"';
// 1m windows: the demo scrapes every 5 s, and a short window makes an incident visible fast.
const w = '[1m]';

/** The signals, in card order. */
export const SIGNALS: readonly Signal[] = [
  {
    id: 'latency',
    golden: 'latency',
    title: 'Latency p95',
    unit: 's',
    expr: (by) => `histogram_quantile(0.95, sum by (${by}, le) (rate(${dur}_bucket${w})))`,
    detail: (sel) => `histogram_quantile(0.95, sum by (le, route) (rate(${dur}_bucket{${sel}}${w})))`,
    warn: 0.5,
    crit: 1,
    alertPattern: /latency|slow/i,
  },
  {
    id: 'rps',
    golden: 'traffic',
    title: 'Requests/s',
    unit: 'reqps',
    expr: (by) => `sum by (${by}) (rate(${dur}_count${w}))`,
    detail: (sel) => `sum by (route, status_code) (rate(${dur}_count{${sel}}${w}))`,
  },
  {
    id: 'errors',
    golden: 'errors',
    title: 'Errors',
    unit: 'percent',
    // `or 0 * total`: with no 5xx series at all the ratio is 0 %, not absent.
    expr: (by) =>
      `100 * (sum by (${by}) (rate(${dur}_count{status_code=~"5.."}${w})) or 0 * sum by (${by}) (rate(${dur}_count${w}))) / sum by (${by}) (rate(${dur}_count${w}))`,
    detail: (sel) =>
      `100 * (sum by (route) (rate(${dur}_count{${sel},status_code=~"5.."}${w})) or 0 * sum by (route) (rate(${dur}_count{${sel}}${w}))) / sum by (route) (rate(${dur}_count{${sel}}${w}))`,
    warn: 1,
    crit: 5,
    alertPattern: /error|fail|success/i,
  },
  // RED from span metrics (the trace metrics generator, Tempo's names), by the spans that serve requests.
  {
    id: 'span_latency',
    golden: 'latency',
    // p99, as Tempo's and Grafana's RED views from span metrics show it.
    title: 'Latency p99 (traces)',
    unit: 's',
    expr: (by) => `histogram_quantile(0.99, sum by (${by}, le) (rate(${sm}_latency_bucket{${served}}${w})))`,
    detail: (sel) => `histogram_quantile(0.99, sum by (le, span_name) (rate(${sm}_latency_bucket{${sel},${served}}${w})))`,
    warn: 0.5,
    crit: 1,
    alertPattern: /latency|slow/i,
    fallbackFor: 'latency',
  },
  {
    id: 'span_rps',
    golden: 'traffic',
    title: 'Requests/s (traces)',
    unit: 'reqps',
    expr: (by) => `sum by (${by}) (rate(${sm}_calls_total{${served}}${w}))`,
    detail: (sel) => `sum by (span_name, status_code) (rate(${sm}_calls_total{${sel},${served}}${w}))`,
    fallbackFor: 'rps',
  },
  {
    id: 'span_errors',
    golden: 'errors',
    title: 'Errors (traces)',
    unit: 'percent',
    expr: (by) =>
      `100 * (sum by (${by}) (rate(${sm}_calls_total{${served},status_code="STATUS_CODE_ERROR"}${w})) or 0 * sum by (${by}) (rate(${sm}_calls_total{${served}}${w}))) / sum by (${by}) (rate(${sm}_calls_total{${served}}${w}))`,
    detail: (sel) =>
      `100 * (sum by (span_name) (rate(${sm}_calls_total{${sel},${served},status_code="STATUS_CODE_ERROR"}${w})) or 0 * sum by (span_name) (rate(${sm}_calls_total{${sel},${served}}${w}))) / sum by (span_name) (rate(${sm}_calls_total{${sel},${served}}${w}))`,
    warn: 1,
    crit: 5,
    alertPattern: /error|fail|success/i,
    fallbackFor: 'errors',
  },
  {
    id: 'cpu',
    golden: 'saturation',
    title: 'CPU',
    unit: 'percentunit',
    expr: (by) => `sum by (${by}) (rate(process_cpu_seconds_total${w}))`,
    detail: (sel) => `rate(process_cpu_seconds_total{${sel}}${w})`,
    warn: 0.8,
    crit: 0.95,
    alertPattern: /cpu/i,
  },
  {
    id: 'memory',
    golden: 'saturation',
    title: 'Memory (RSS)',
    unit: 'bytes',
    expr: (by) => `sum by (${by}) (process_resident_memory_bytes)`,
    detail: (sel) => `process_resident_memory_bytes{${sel}}`,
    warn: 1.5 * 2 ** 30,
    crit: 3 * 2 ** 30,
    alertPattern: /memory|oom/i,
  },
  {
    id: 'eventloop',
    golden: 'saturation',
    title: 'Event loop lag p99',
    unit: 's',
    expr: (by) => `max by (${by}) (nodejs_eventloop_lag_p99_seconds)`,
    detail: (sel) => `nodejs_eventloop_lag_p99_seconds{${sel}}`,
    warn: 0.1,
    crit: 0.5,
    alertPattern: /event.?loop|lag/i,
  },
  {
    id: 'pool',
    golden: 'saturation',
    title: 'DB pool use',
    unit: 'percentunit',
    expr: (by) => `max by (${by}) (database_connections_active / database_connections_max)`,
    detail: (sel) => `database_connections_active{${sel}} / database_connections_max{${sel}}`,
    warn: 0.7,
    crit: 0.9,
    alertPattern: /pool|connection/i,
  },
  {
    id: 'up',
    golden: 'errors',
    title: 'Targets up',
    unit: 'percentunit',
    expr: (by) => `avg by (${by}) (up)`,
    detail: (sel) => `up{${sel}}`,
    warn: 1,
    crit: 0.5,
    lowIsBad: true,
    alertPattern: /down|unreachable|^up$/i,
  },
];

/** The cards of a row that has data for the signals `has` says: a fallback only where its signal is missing. */
export function rowSignals(has: (id: Signal['id']) => boolean): Signal[] {
  return SIGNALS.filter((s) => has(s.id) && (s.fallbackFor === undefined || !has(s.fallbackFor)));
}

/** Colours a value by a signal's thresholds. */
export function levelOf(v: number | undefined, s: Pick<Signal, 'warn' | 'crit' | 'lowIsBad'>): Level {
  if (v === undefined || Number.isNaN(v)) return 'unknown';
  if (s.lowIsBad) {
    if (s.crit !== undefined && v < s.crit) return 'critical';
    if (s.warn !== undefined && v < s.warn) return 'warning';
    return 'ok';
  }
  if (s.crit !== undefined && v >= s.crit) return 'critical';
  if (s.warn !== undefined && v >= s.warn) return 'warning';
  return 'ok';
}

/** The worse of two levels. */
export function worst(a: Level, b: Level): Level {
  const rank: Record<Level, number> = { unknown: 0, ok: 1, warning: 2, critical: 3 };
  return rank[b] > rank[a] ? b : a;
}

/** Minimal view of a firing alert. */
export interface AlertLike {
  readonly labels: Readonly<Record<string, string>>;
}

/** The level an alert gives: severities critical/page/high are critical, the rest warning. */
export function alertLevel(a: AlertLike): Level {
  return /^(critical|page|high|error|p1)$/i.test(a.labels['severity'] ?? '') ? 'critical' : 'warning';
}

/** Whether an alert concerns a row (its `service` or `job` label names the row). */
export function alertForRow(a: AlertLike, row: string): boolean {
  return a.labels['service'] === row || (a.labels['service'] === undefined && a.labels['job'] === row);
}

/** The signal an alert points at, by its name and labels; undefined when it concerns the row as a whole. */
export function signalOfAlert(a: AlertLike): Signal['id'] | undefined {
  const text = `${a.labels['alertname'] ?? ''} ${a.labels['pool'] !== undefined ? 'pool' : ''}`;
  return SIGNALS.find((s) => s.alertPattern?.test(text))?.id;
}

/** A service's SLOs in one line of the overview. */
export interface ServiceSloStatus {
  /** How many SLOs the service has. */
  readonly count: number;
  /** The least budget left among them (a share; negative once overspent); undefined before any is recorded. */
  readonly remaining: number | undefined;
  /** The highest burn rate over any alert window of any of them, with its window and SLO. */
  readonly worstBurn: { readonly value: number; readonly window: string; readonly slo: string } | undefined;
}

/** The SLO status of each service (by `sloth_service`), from the SLO page's rows. */
export function serviceSloStatus(rows: ReadonlyArray<Pick<SloRow, 'service' | 'slo' | 'remaining' | 'burn' | 'periodMs'>>): Map<string, ServiceSloStatus> {
  const out = new Map<string, ServiceSloStatus>();
  for (const r of rows) {
    const prev = out.get(r.service);
    let worstBurn = prev?.worstBurn;
    for (const [window, value] of r.burn) {
      // The period's own rate is the budget spent so far, not a burn to act on: alert windows only.
      if (r.periodMs > 0 && windowMs(window) === r.periodMs) continue;
      if (Number.isFinite(value) && (worstBurn === undefined || value > worstBurn.value)) worstBurn = { value, window, slo: r.slo };
    }
    const rems = [prev?.remaining, r.remaining].filter((x): x is number => x !== undefined);
    out.set(r.service, { count: (prev?.count ?? 0) + 1, remaining: rems.length ? Math.min(...rems) : undefined, worstBurn });
  }
  return out;
}

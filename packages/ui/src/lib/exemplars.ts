/**
 * Exemplars as chart points: each one from `/api/v1/query_exemplars` becomes a point at its time
 * and value, with the trace id (OpenMetrics' `trace_id`, or `traceID`/`traceId` as some SDKs name
 * it) and a link to the trace page, a title that names its series and labels, and whether its
 * series counts failures.
 */

// The UI's base path (router.ts's BASE), repeated so this module stays free of Preact for the Node tests.
const BASE = '/ui';

/** One series' exemplars as the API returns them. */
export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

/** An exemplar placed on a chart. */
export interface ExemplarPoint {
  /** Seconds since the epoch (the chart's x). */
  t: number;
  v: number;
  traceId: string | undefined;
  /** The trace page, when there is a trace id. */
  href: string | undefined;
  title: string;
  /**
   * The exemplar's series counts failures: an HTTP 5xx, a span metric's error status, or a tracked
   * call's error outcome. Drawn red, so the failing requests stand out among the slow ones.
   */
  error: boolean;
}

/** Whether a series' labels say its observations are failures. */
export function failedSeries(labels: Readonly<Record<string, string>>): boolean {
  const code = labels['status_code'] ?? labels['http_response_status_code'] ?? labels['code'] ?? '';
  return /^5\d\d$/.test(code) || code === 'STATUS_CODE_ERROR' || labels['outcome'] === 'error';
}

const TRACE_ID_LABELS = ['trace_id', 'traceID', 'traceId'];

/** The link that opens a trace in Vigil's UI. */
export function traceHref(traceId: string): string {
  return `${BASE}/traces/${encodeURIComponent(traceId)}`;
}

/** Chart points for every exemplar with a finite value, oldest first. */
export function exemplarPoints(series: readonly ExemplarSeries[] | null): ExemplarPoint[] {
  const out: ExemplarPoint[] = [];
  for (const s of series ?? []) {
    const name = s.seriesLabels['__name__'] ?? '';
    const error = failedSeries(s.seriesLabels);
    const sel = Object.entries(s.seriesLabels)
      .filter(([k]) => k !== '__name__')
      .map(([k, v]) => `${k}="${v}"`)
      .join(', ');
    for (const e of s.exemplars) {
      const v = Number(e.value);
      if (!Number.isFinite(v)) continue;
      // The title rounds the value to 4 digits: 1.4101237229999997 is noise to whoever hovers it.
      const traceId = TRACE_ID_LABELS.map((k) => e.labels[k]).find((x) => x !== undefined && x !== '');
      const labels = Object.entries(e.labels)
        .map(([k, x]) => `${k}=${x}`)
        .join(' ');
      out.push({
        t: e.timestamp,
        v,
        traceId,
        href: traceId ? traceHref(traceId) : undefined,
        title: `${name}{${sel}} ${Number(v.toPrecision(4))}\n${labels}`,
        error,
      });
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

/**
 * At most `slots` exemplars, spread over time: the range they cover is cut into `slots` equal
 * slices and each keeps its slowest (highest) exemplar, a failed one winning a tie. For small
 * charts (the overview's sparklines), where hundreds of diamonds would hide the line and each other;
 * the slowest are the ones an on-call engineer opens first.
 */
export function thinExemplars(points: readonly ExemplarPoint[], slots: number): ExemplarPoint[] {
  if (points.length <= slots || slots < 1) return [...points];
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p.t);
    hi = Math.max(hi, p.t);
  }
  const width = (hi - lo) / slots || 1;
  const best = new Map<number, ExemplarPoint>();
  for (const p of points) {
    const i = Math.min(slots - 1, Math.floor((p.t - lo) / width));
    const b = best.get(i);
    if (!b || p.v > b.v || (p.v === b.v && p.error && !b.error)) best.set(i, p);
  }
  return [...best.values()].sort((a, b) => a.t - b.t);
}

/**
 * Exemplars as chart points: each one from `/api/v1/query_exemplars` becomes a point at its time
 * and value, with the trace id (OpenMetrics' `trace_id`, or `traceID`/`traceId` as some SDKs name
 * it) and a link to the trace page, and a title that names its series and labels.
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
    const sel = Object.entries(s.seriesLabels)
      .filter(([k]) => k !== '__name__')
      .map(([k, v]) => `${k}="${v}"`)
      .join(', ');
    for (const e of s.exemplars) {
      const v = Number(e.value);
      if (!Number.isFinite(v)) continue;
      const traceId = TRACE_ID_LABELS.map((k) => e.labels[k]).find((x) => x !== undefined && x !== '');
      const labels = Object.entries(e.labels)
        .map(([k, x]) => `${k}=${x}`)
        .join(' ');
      out.push({ t: e.timestamp, v, traceId, href: traceId ? traceHref(traceId) : undefined, title: `${name}{${sel}} ${e.value}\n${labels}` });
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

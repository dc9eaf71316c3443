/**
 * The query benchmark's results: per-server latencies, a side-by-side table with Vigil's ratios,
 * (the JSON record is written by report.ts' writeJson).
 */
import type { PeerId } from './peers.js';

/** Latency of one query on one server; figures are null when it failed (`error` says why). */
export interface QueryResult {
  readonly name: string;
  readonly expr: string;
  readonly kind: 'instant' | 'range';
  readonly medianMs: number | null;
  readonly p90Ms: number | null;
  readonly minMs: number | null;
  /** Measured runs (fewer than asked for very slow queries). */
  readonly reps: number;
  /** Series in the answer (1 for a scalar), to spot a server that answers something else. */
  readonly series: number | null;
  readonly error: string | null;
}

/** Everything measured on one server. Filled in as the run goes, hence mutable. */
export interface ServerQueryResult {
  id: PeerId;
  title: string;
  error: string | null;
  loadSeconds: number | null;
  ackedSamples: number | null;
  /** RSS once the data is loaded, before any query. */
  rssAfterLoadBytes: number | null;
  /** VmHWM after all queries: the peak over loading and querying. */
  peakRssBytes: number | null;
  queries: QueryResult[];
}

/** Vigil's median latency divided by a peer's, per query (≤ 1: Vigil is as fast or faster). */
export interface QueryRatio {
  readonly peer: PeerId;
  readonly query: string;
  readonly ratio: number | null;
}

/** Vigil's ratios to every other server, query by query. */
export function queryRatios(results: readonly ServerQueryResult[]): QueryRatio[] {
  const v = results.find((r) => r.id === 'vigil');
  if (!v) return [];
  const out: QueryRatio[] = [];
  for (const p of results) {
    if (p.id === 'vigil') continue;
    for (const q of v.queries) {
      const pq = p.queries.find((x) => x.name === q.name);
      const ratio = q.medianMs !== null && pq?.medianMs ? q.medianMs / pq.medianMs : null;
      out.push({ peer: p.id, query: q.name, ratio });
    }
  }
  return out;
}

const ms = (n: number | null): string => (n === null ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const mib = (n: number | null): string => (n === null ? '–' : (n / 1048576).toFixed(1));

/**
 * One row per query: each server's median and p90 (ms) and Vigil's ratio to each peer; then memory.
 * A differing series count between servers is flagged with `!`, as the answers should agree.
 */
export function formatQueryTable(results: readonly ServerQueryResult[]): string {
  const names = [...new Set(results.flatMap((r) => r.queries.map((q) => q.name)))];
  const v = results.find((r) => r.id === 'vigil');
  const peers = results.filter((r) => r.id !== 'vigil');
  const header = ['query (median / p90 ms)', ...results.map((r) => r.title), ...(v ? peers.map((p) => `Vigil/${p.title}`) : [])];
  const rows: string[][] = names.map((name) => {
    const cells = results.map((r) => {
      const q = r.queries.find((x) => x.name === name);
      if (!q || q.error !== null) return 'error';
      return `${ms(q.medianMs)} / ${ms(q.p90Ms)}`;
    });
    const counts = new Set(results.map((r) => r.queries.find((x) => x.name === name)?.series).filter((n) => n !== null && n !== undefined));
    const vq = v?.queries.find((x) => x.name === name);
    const ratios = v
      ? peers.map((p) => {
          const pq = p.queries.find((x) => x.name === name);
          return vq?.medianMs != null && pq?.medianMs ? `${(vq.medianMs / pq.medianMs).toFixed(2)}×` : '–';
        })
      : [];
    return [counts.size > 1 ? `${name} !` : name, ...cells, ...ratios];
  });
  rows.push(['RSS after load (MiB)', ...results.map((r) => mib(r.rssAfterLoadBytes)), ...(v ? peers.map(() => '') : [])]);
  rows.push([
    'peak RSS (MiB)',
    ...results.map((r) => mib(r.peakRssBytes)),
    ...(v ? peers.map((p) => (v.peakRssBytes && p.peakRssBytes ? `${(v.peakRssBytes / p.peakRssBytes).toFixed(2)}×` : '–')) : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const notes = ['ratios: Vigil median ÷ peer median (≤ 1.00× means Vigil is as fast or faster)'];
  if (rows.some((r) => r[0]!.endsWith(' !'))) notes.push('!: the servers returned different numbers of series for this query');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', ...notes].join('\n');
}

/**
 * Log volume (Loki's `/index/volume` and `/index/volume_range`): the bytes of the lines of the
 * streams a selector matches, summed into series or label names, largest first.
 */
import type { Matcher } from '../../core/model/matcher.js';
import type { LogQueryable } from '../storage/interface.js';

/** `series`: one total per combination of label values; `labels`: one per label name. */
export type VolumeAggregation = 'series' | 'labels';

/** How volumes are grouped and how many groups are kept. */
export interface VolumeOptions {
  /** The labels to group by; when absent, the labels the selector names (series) or every label (labels). */
  readonly targetLabels?: readonly string[];
  readonly aggregateBy?: VolumeAggregation;
  /** Most groups returned, the largest kept (Loki's default is 100). */
  readonly limit?: number;
  /** Bucket width in ms for a range; absent, one total over [start, end). */
  readonly stepMs?: number;
}

/** One group's volume: its labels, its total bytes and, for a range, bytes per bucket start (ms). */
export interface VolumeSeries {
  readonly labels: Record<string, string>;
  readonly bytes: number;
  /** Bucket start (ms) to bytes, buckets with no line left out; empty without a step. */
  readonly points: [number, number][];
}

const NS_PER_MS = 1_000_000n;

/**
 * Volumes over [start, end) (ns). Bytes are the lines' UTF-8 bytes, the uncompressed size Loki's
 * index sums (the store's own stats also count a separator per line, which no client wrote).
 */
export function logVolume(store: LogQueryable, matchers: readonly Matcher[], start: bigint, end: bigint, opts: VolumeOptions = {}): VolumeSeries[] {
  const by = opts.aggregateBy ?? 'series';
  const target = opts.targetLabels?.length ? new Set(opts.targetLabels) : undefined;
  // Loki's default for series: the labels the query names, so `{job="foo", env=~".+"}` splits by job and env.
  const named = new Set(matchers.map((m) => m.name));
  const groups = new Map<string, { labels: Record<string, string>; bytes: number; buckets: Map<number, number> }>();
  const add = (key: string, labels: Record<string, string>, tMs: number, bytes: number): void => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { labels, bytes: 0, buckets: new Map() }));
    g.bytes += bytes;
    if (opts.stepMs) g.buckets.set(tMs, (g.buckets.get(tMs) ?? 0) + bytes);
  };
  const startMs = Number(start / NS_PER_MS);
  for (const s of store.selectStreams(matchers, start, end)) {
    const keep = s.labels.filter((l) => (target ? target.has(l.name) : by === 'labels' || named.has(l.name)));
    // A stream with none of the grouping labels has no group to count into, as in Loki.
    if (!keep.length) continue;
    for (const e of store.entries(s, start, end, 'forward')) {
      const bytes = Buffer.byteLength(e.line, 'utf8');
      const tMs = opts.stepMs ? startMs + Math.floor((Number(e.t / NS_PER_MS) - startMs) / opts.stepMs) * opts.stepMs : 0;
      if (by === 'labels') for (const l of keep) add(l.name, { [l.name]: '' }, tMs, bytes);
      else add(JSON.stringify(keep), Object.fromEntries(keep.map((l) => [l.name, l.value])), tMs, bytes);
    }
  }
  return [...groups.values()]
    .sort((a, b) => b.bytes - a.bytes || JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)))
    .slice(0, opts.limit ?? 100)
    .map((g) => ({ labels: g.labels, bytes: g.bytes, points: [...g.buckets].sort((a, b) => a[0] - b[0]) }));
}

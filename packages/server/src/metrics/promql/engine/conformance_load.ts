/**
 * The `load` and `load_with_nhcb` commands of the conformance runner: series lines into a head,
 * and for `load_with_nhcb` classic histograms (`_bucket` with `le`, `_count`, `_sum`) converted
 * into native histograms with custom buckets, stored under the name without the suffix, as
 * Prometheus' test storage does.
 */
import { FloatHistogram } from '../../../core/model/histogram.js';
import { getLabel, type Labels, labelsKey, sortLabels } from '../../../core/model/labels.js';
import type { Head } from '../../tsdb/head.js';
import { parseGoFloat } from './functions.js';

/** One value of a loaded series. */
export type LoadValue = number | FloatHistogram;

/** The samples of one series, by time. */
export interface LoadSeries {
  labels: Labels;
  samples: Map<number, LoadValue>;
}

interface ClassicGroup {
  labels: Labels;
  buckets: Map<number, Map<number, number>>;
  count?: Map<number, number>;
  sum?: Map<number, number>;
}

/** Native histograms with custom buckets made from the classic histogram series of `block`. */
export function classicToNhcb(input: Iterable<LoadSeries>): LoadSeries[] {
  const block = [...input];
  const groups = new Map<string, ClassicGroup>();
  const groupOf = (labels: Labels, base: string): ClassicGroup => {
    const ls = sortLabels(labels.filter((l) => l.name !== 'le').map((l) => (l.name === '__name__' ? { name: l.name, value: base } : l)));
    const k = labelsKey(ls);
    let g = groups.get(k);
    if (g === undefined) {
      g = { labels: ls, buckets: new Map() };
      groups.set(k, g);
    }
    return g;
  };
  const floats = (m: Map<number, LoadValue>): Map<number, number> => {
    const out = new Map<number, number>();
    for (const [t, v] of m) if (typeof v === 'number') out.set(t, v);
    return out;
  };
  for (const s of block) {
    const name = getLabel(s.labels, '__name__');
    if (name.endsWith('_bucket')) {
      const le = parseGoFloat(getLabel(s.labels, 'le'));
      if (le === undefined || Number.isNaN(le)) continue;
      groupOf(s.labels, name.slice(0, -7)).buckets.set(le, floats(s.samples));
    }
  }
  for (const s of block) {
    const name = getLabel(s.labels, '__name__');
    for (const [suffix, field] of [
      ['_count', 'count'],
      ['_sum', 'sum'],
    ] as const) {
      if (!name.endsWith(suffix)) continue;
      const ls = sortLabels(s.labels.map((l) => (l.name === '__name__' ? { name: l.name, value: name.slice(0, -suffix.length) } : l)));
      const g = groups.get(labelsKey(ls));
      if (g !== undefined) g[field] = floats(s.samples);
    }
  }
  const out: LoadSeries[] = [];
  for (const g of groups.values()) {
    const bounds = [...g.buckets.keys()].sort((a, b) => a - b);
    // Without a +Inf bucket every bound is a custom bound, and nothing lies above the last.
    const custom = bounds[bounds.length - 1] === Infinity ? bounds.slice(0, -1) : bounds;
    const times = new Set<number>();
    for (const m of g.buckets.values()) for (const t of m.keys()) times.add(t);
    const samples = new Map<number, LoadValue>();
    for (const t of [...times].sort((a, b) => a - b)) {
      const cum = bounds.map((b) => g.buckets.get(b)!.get(t));
      if (cum.some((c) => c === undefined)) continue;
      const counts = cum.map((c, i) => c! - (i === 0 ? 0 : cum[i - 1]!));
      samples.set(
        t,
        FloatHistogram.of({
          schema: -53,
          customValues: custom,
          count: g.count?.get(t) ?? cum[cum.length - 1]!,
          sum: g.sum?.get(t) ?? 0,
          positiveSpans: [{ offset: 0, length: counts.length }],
          positiveBuckets: counts,
        }).compact(),
      );
    }
    if (samples.size > 0) out.push({ labels: g.labels, samples });
  }
  return out;
}

/** Appends the loaded series to the head; samples the head refuses are left out, as Prometheus' test storage does. */
export function appendLoaded(head: Head, series: Iterable<LoadSeries>): void {
  const app = head.appender();
  for (const { labels, samples } of series) {
    let ref = 0;
    for (const [t, v] of [...samples].sort((a, b) => a[0] - b[0])) {
      try {
        ref = typeof v === 'number' ? app.append(ref, labels, t, v) : app.appendHistogram(ref, labels, t, v);
      } catch {
        // Rejected by the store (e.g. older than data of an earlier block).
      }
    }
  }
  app.commit();
}

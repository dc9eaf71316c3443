/** A convenience read over any {@link LogQueryable}, for tests, tools and benchmarks. */
import type { Matcher } from '../../core/model/matcher.js';
import type { LogQueryable } from './interface.js';
import type { Direction, LineFilterHint, LogEntry, StreamInfo } from './types.js';

/** What {@link queryLines} reads: `filter.test` is applied after the hints. */
export interface LineQuery {
  readonly matchers: readonly Matcher[];
  readonly start: bigint;
  readonly end: bigint;
  /** Default backward (newest first), as Loki's. */
  readonly direction?: Direction;
  /** Default 100. */
  readonly limit?: number;
  readonly filter?: LineFilterHint & { test?: (line: string) => boolean };
}

/**
 * Up to `limit` lines per the direction across all matching streams, grouped by stream, each
 * stream's lines in `direction` order.
 */
export function queryLines(store: LogQueryable, q: LineQuery): { stream: StreamInfo; entries: LogEntry[] }[] {
  const direction = q.direction ?? 'backward';
  const limit = q.limit ?? 100;
  const all: { s: StreamInfo; e: LogEntry }[] = [];
  for (const s of store.selectStreams(q.matchers, q.start, q.end)) {
    // No stream can contribute more than `limit` lines.
    let n = 0;
    for (const e of store.entries(s, q.start, q.end, direction, q.filter)) {
      if (q.filter?.test && !q.filter.test(e.line)) continue;
      all.push({ s, e });
      if (++n >= limit) break;
    }
  }
  all.sort((a, b) => (a.e.t < b.e.t ? -1 : a.e.t > b.e.t ? 1 : 0) * (direction === 'forward' ? 1 : -1));
  const out = new Map<number, { stream: StreamInfo; entries: LogEntry[] }>();
  for (const { s, e } of all.slice(0, limit)) {
    let g = out.get(s.id);
    if (!g) out.set(s.id, (g = { stream: s, entries: [] }));
    g.entries.push(e);
  }
  return [...out.values()];
}

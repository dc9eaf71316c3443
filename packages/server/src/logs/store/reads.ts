/**
 * Reading one stream: its sealed chunks (skipped by bloom filter when the hint's tokens rule them
 * out, decoded through the cache) and then its head, in either direction.
 */
import type { Direction, LineFilterHint, LogEntry } from '../storage/types.js';
import { tokenHash } from '../../core/util/bloom.js';
import type { ChunkFiles, ChunkMeta } from './chunkfiles.js';
import type { StreamState } from './streams.js';

/** The store's counters this module moves. */
export interface ReadCounters {
  chunksSkippedByBloom: number;
}

/**
 * A chunk decoded (through the cache) with the row range of [start, end), or undefined when its
 * bloom filter rules out the tokens (counted) or it is corrupt (skipped, reported by ChunkFiles).
 */
function openInRange(
  files: ChunkFiles,
  counters: ReadCounters,
  c: ChunkMeta,
  hashes: readonly number[],
  start: bigint,
  end: bigint,
): { d: NonNullable<ReturnType<ChunkFiles['view']>>; lo: number; hi: number } | undefined {
  if (hashes.length && !c.bloom.hasAll(hashes)) {
    counters.chunksSkippedByBloom++;
    return undefined;
  }
  const d = files.view(c);
  if (!d) return undefined;
  return { d, lo: d.lowerBound(start), hi: d.lowerBound(end) };
}

/** The lines of `s` in [start, end) in `direction`, in time order even when chunks overlap. */
export function* streamEntries(
  files: ChunkFiles,
  counters: ReadCounters,
  s: StreamState,
  start: bigint,
  end: bigint,
  direction: Direction,
  hint?: LineFilterHint,
): Generator<LogEntry> {
  if (s.overlap) {
    // Rare (late lines older than a sealed chunk): merge by sorting everything in range.
    const all = [...orderedEntries(files, counters, s, start, end, 'forward', hint)].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    if (direction === 'backward') all.reverse();
    yield* all;
    return;
  }
  yield* orderedEntries(files, counters, s, start, end, direction, hint);
}

/** Chunk by chunk, then the head (reversed for backward): time order when no chunks overlap. */
function* orderedEntries(
  files: ChunkFiles,
  counters: ReadCounters,
  s: StreamState,
  start: bigint,
  end: bigint,
  direction: Direction,
  hint?: LineFilterHint,
): Generator<LogEntry> {
  const hashes = hint?.tokens?.map(tokenHash) ?? [];
  const needles = hint?.needle ? [Buffer.from(hint.needle)] : [];
  const chunks = s.chunks.filter((c) => c.maxT >= start && c.minT < end);
  const fromChunk = function* (c: ChunkMeta): Generator<LogEntry> {
    const open = openInRange(files, counters, c, hashes, start, end);
    if (!open) return;
    const { d, lo, hi } = open;
    if (needles.length) {
      // Only the matching lines are rebuilt.
      const hits = d.match(needles, lo, hi);
      if (direction === 'forward') for (const i of hits) yield d.entry(i);
      else for (let j = hits.length - 1; j >= 0; j--) yield d.entry(hits[j]!);
    } else if (direction === 'forward') for (let i = lo; i < hi; i++) yield d.entry(i);
    else for (let i = hi - 1; i >= lo; i--) yield d.entry(i);
  };
  const needleB = needles[0];
  const fromHead = function* (): Generator<LogEntry> {
    const h = s.head.snapshot();
    const n = h.n;
    for (let k = 0; k < n; k++) {
      const j = direction === 'forward' ? k : n - 1 - k;
      const i = h.order ? h.order[j]! : j;
      const t = h.ts[i]!;
      if (t < start || t >= end) continue;
      const a = h.offs[i]!;
      const b = h.offs[i + 1]!;
      if (needleB && h.buf.subarray(a, b).indexOf(needleB) < 0) continue;
      const line = h.buf.toString('utf8', a, b);
      const meta = h.metas?.[i];
      yield meta ? { t, line, meta } : { t, line };
    }
  };
  if (direction === 'forward') {
    for (const c of chunks) yield* fromChunk(c);
    yield* fromHead();
  } else {
    yield* fromHead();
    for (let i = chunks.length - 1; i >= 0; i--) yield* fromChunk(chunks[i]!);
  }
}

/**
 * The times (ms, as `Number(t / 1000n) / 1000`) of the lines of `s` in [start, end) that contain
 * every needle, in time order, and (`withBytes`) their total UTF-8 bytes. No line is rebuilt:
 * sealed chunks answer from their columns.
 */
export function streamMatchTimes(
  files: ChunkFiles,
  counters: ReadCounters,
  s: StreamState,
  start: bigint,
  end: bigint,
  needles: readonly string[],
  tokens: readonly string[],
  withBytes: boolean,
): { times: number[]; bytes: number } {
  const times: number[] = [];
  let bytes = 0;
  const hashes = tokens.map(tokenHash);
  const nb = needles.map((x) => Buffer.from(x));
  for (const c of s.chunks) {
    if (c.maxT < start || c.minT >= end) continue;
    const open = openInRange(files, counters, c, hashes, start, end);
    if (!open) continue;
    const { d, lo, hi } = open;
    if (nb.length) {
      const hits = d.match(nb, lo, hi);
      d.pushTimesMs(hits, lo, hi, times);
      if (withBytes) for (let j = 0; j < hits.length; j++) bytes += d.lineBytes(hits[j]!);
    } else {
      d.pushTimesMs(undefined, lo, hi, times);
      if (withBytes) for (let i = lo; i < hi; i++) bytes += d.lineBytes(i);
    }
  }
  const h = s.head.snapshot();
  for (let k = 0; k < h.n; k++) {
    const i = h.order ? h.order[k]! : k;
    const t = h.ts[i]!;
    if (t < start || t >= end) continue;
    const line = h.buf.subarray(h.offs[i]!, h.offs[i + 1]!);
    if (!nb.every((x) => line.indexOf(x) >= 0)) continue;
    times.push(Number(t / 1000n) / 1000);
    bytes += line.length;
  }
  if (s.overlap) times.sort((a, b) => a - b);
  return { times, bytes };
}

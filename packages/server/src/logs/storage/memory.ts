/**
 * An in-memory log store with the disk store's semantics: streams by label set, lines kept in time
 * order, the same refusals (admission.ts: too far behind the stream, too far ahead of the clock,
 * past retention, over the stream limit), and none of its machinery (no WAL, chunks or bloom
 * filters). For tests, rule unit tests and anything that wants real log storage without a
 * directory. Nothing survives the process; filter hints are ignored (they are hints: callers apply
 * their own filter).
 */
import { labelsKey, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { admissionBounds, refusal, streamLimitReason } from './admission.js';
import type { LogStorage, TailListener } from './interface.js';
import type { Direction, LineFilterHint, LogEntry, PushResult, PushStream, RejectedEntry, StoreStats, StreamInfo } from './types.js';

/** Options of {@link MemoryLogStore}; the defaults are the disk store's. */
export interface MemoryLogStoreOptions {
  /** Accept lines up to this far behind the newest line of their stream (default 1 h). */
  readonly outOfOrderWindowMs?: number;
  /** Refuse lines stamped more than this far ahead of the clock (default 10 min). */
  readonly maxFutureMs?: number;
  /** Refuse lines older than this (0: keep forever). Stored lines are never dropped. */
  readonly retentionMs?: number;
  /** Most streams (0: no limit). */
  readonly maxStreams?: number;
  /** The clock (ms), for tests. */
  readonly now?: () => number;
}

class MemoryStream implements StreamInfo {
  /** The stream's lines sorted by time; equal times keep their arrival order. */
  readonly lines: LogEntry[] = [];
  bytes = 0;
  constructor(
    readonly id: number,
    readonly labels: Labels,
  ) {}
  get minT(): bigint {
    return this.lines.length ? this.lines[0]!.t : -1n;
  }
  get maxT(): bigint {
    return this.lines.length ? this.lines[this.lines.length - 1]!.t : -1n;
  }
}

/** First index whose time is >= t (`after`: > t). */
function bound(lines: readonly LogEntry[], t: bigint, after: boolean): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const mt = lines[mid]!.t;
    if (mt < t || (after && mt === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A copy of an entry as the disk store returns it: no `meta` key when the line has no structured metadata. */
function normalized(e: LogEntry): LogEntry {
  return e.meta && e.meta.length ? { t: e.t, line: e.line, meta: e.meta } : { t: e.t, line: e.line };
}

/** Log storage in memory. Stores the pushed entry objects themselves (callers must not mutate them). */
export class MemoryLogStore implements LogStorage {
  private readonly streams: MemoryStream[] = [];
  private readonly byKey = new Map<string, MemoryStream>();
  private readonly listeners = new Set<TailListener>();
  private readonly outOfOrderWindowMs: number;
  private readonly maxFutureMs: number;
  private readonly retentionMs: number;
  private readonly maxStreams: number;
  private readonly now: () => number;

  constructor(opts: MemoryLogStoreOptions = {}) {
    this.outOfOrderWindowMs = opts.outOfOrderWindowMs ?? 3_600_000;
    this.maxFutureMs = opts.maxFutureMs ?? 600_000;
    this.retentionMs = opts.retentionMs ?? 0;
    this.maxStreams = opts.maxStreams ?? 0;
    this.now = opts.now ?? Date.now;
  }

  /** Never fails: there is no disk to fill. */
  writeProblem(): string | undefined {
    return undefined;
  }

  push(batch: readonly PushStream[]): PushResult {
    const rejected: RejectedEntry[] = [];
    const accepted: { s: MemoryStream; entries: LogEntry[] }[] = [];
    const bounds = admissionBounds(this.now(), this.outOfOrderWindowMs, this.maxFutureMs, this.retentionMs);
    let count = 0;
    let bytes = 0;
    for (const ps of batch) {
      if (ps.entries.length === 0) continue;
      const key = labelsKey(ps.labels);
      let s = this.byKey.get(key);
      if (!s) {
        if (this.maxStreams > 0 && this.byKey.size >= this.maxStreams) {
          const reason = streamLimitReason(this.maxStreams);
          for (const e of ps.entries) rejected.push({ labels: ps.labels, t: e.t, reason });
          continue;
        }
        s = new MemoryStream(this.streams.length, ps.labels);
        this.streams.push(s);
        this.byKey.set(key, s);
      }
      const ok: LogEntry[] = [];
      for (const e of ps.entries) {
        const reason = refusal(e.t, s.maxT, bounds);
        if (reason !== undefined) {
          rejected.push({ labels: ps.labels, t: e.t, reason });
          continue;
        }
        ok.push(e);
        bytes += e.line.length;
        this.insert(s, e);
      }
      count += ok.length;
      if (ok.length) accepted.push({ s, entries: ok });
    }
    if (this.listeners.size) for (const { s, entries } of accepted) for (const l of this.listeners) l(s, entries);
    return { accepted: count, acceptedBytes: bytes, rejected };
  }

  /** Places a line in time order. An exact resend of the newest line is dropped, as Loki (and the disk store's head) drops it. */
  private insert(s: MemoryStream, e: LogEntry): void {
    const lines = s.lines;
    const last = lines[lines.length - 1];
    if (last && e.t === last.t && e.line === last.line) return;
    if (!last || e.t >= last.t) lines.push(e);
    else lines.splice(bound(lines, e.t, true), 0, e);
    s.bytes += Buffer.byteLength(e.line) + 1;
  }

  selectStreams(matchers: readonly Matcher[], start?: bigint, end?: bigint): StreamInfo[] {
    const out: StreamInfo[] = [];
    for (const s of this.streams) {
      if (start !== undefined && s.maxT < start) continue;
      if (end !== undefined && s.minT >= end) continue;
      if (matchers.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? ''))) out.push(s);
    }
    return out;
  }

  labelNames(start?: bigint, end?: bigint): string[] {
    const names = new Set<string>();
    for (const s of start === undefined ? this.streams : this.selectStreams([], start, end)) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  labelValues(name: string, matchers: readonly Matcher[] = [], start?: bigint, end?: bigint): string[] {
    const values = new Set<string>();
    for (const s of this.selectStreams(matchers, start, end)) for (const l of s.labels) if (l.name === name) values.add(l.value);
    return [...values].sort();
  }

  *entries(stream: StreamInfo, start: bigint, end: bigint, direction: Direction = 'forward', _hint?: LineFilterHint): Generator<LogEntry> {
    const s = this.streams[stream.id];
    if (!s) return;
    const lo = bound(s.lines, start, false);
    const hi = bound(s.lines, end, false);
    if (direction === 'forward') for (let i = lo; i < hi; i++) yield normalized(s.lines[i]!);
    else for (let i = hi - 1; i >= lo; i--) yield normalized(s.lines[i]!);
  }

  matchTimes(
    stream: StreamInfo,
    start: bigint,
    end: bigint,
    needles: readonly string[],
    _tokens?: readonly string[],
    withBytes = true,
  ): { times: number[]; bytes: number } {
    const times: number[] = [];
    let bytes = 0;
    const s = this.streams[stream.id];
    if (!s) return { times, bytes };
    const hi = bound(s.lines, end, false);
    for (let i = bound(s.lines, start, false); i < hi; i++) {
      const e = s.lines[i]!;
      if (!needles.every((n) => e.line.includes(n))) continue;
      // The same rounding as the disk store (whole microseconds), so both answer alike.
      times.push(Number(e.t / 1000n) / 1000);
      if (withBytes) bytes += Buffer.byteLength(e.line);
    }
    return { times, bytes };
  }

  /** Counts; a stream's lines count as one chunk. `bytes` counts line bytes plus one per line, as the disk store's head does. */
  stats(matchers?: readonly Matcher[], start?: bigint, end?: bigint): StoreStats {
    const st: StoreStats = { streams: 0, chunks: 0, entries: 0, bytes: 0, diskBytes: 0 };
    for (const si of matchers ? this.selectStreams(matchers, start, end) : this.streams) {
      const s = this.streams[si.id]!;
      st.streams++;
      if (!s.lines.length) continue;
      st.chunks++;
      st.entries += s.lines.length;
      st.bytes += s.bytes;
    }
    return st;
  }

  subscribe(fn: TailListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

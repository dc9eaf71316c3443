/**
 * The log storage seam. Ingest depends on {@link LogAppendable}, LogQL, the Loki API and log rules
 * on {@link LogQueryable}; only the wiring module builds a concrete store. Every implementation
 * (the disk store, the in-memory one) passes the same contract suite
 * (testkit/contracts/log_storage.ts).
 */
import type { Matcher } from '../../core/model/matcher.js';
import type { Direction, LineFilterHint, LogEntry, PushResult, PushStream, StoreStats, StreamInfo } from './types.js';

/** Listener for newly accepted lines (live tail). */
export type TailListener = (stream: StreamInfo, entries: readonly LogEntry[]) => void;

/** Takes log lines. */
export interface LogAppendable {
  /**
   * Appends lines. Label sets must be valid and sorted (the ingest layer checks them). Lines the
   * store refuses (too far behind or ahead, past retention, over a limit) are reported in the
   * result; the rest are durable when this returns. Throws a StorageError when nothing could be
   * written (a full disk: 'disk_full').
   */
  push(batch: readonly PushStream[]): PushResult;
  /** Why pushes are being refused (a full disk, an I/O error), or undefined while they succeed. */
  writeProblem(): string | undefined;
}

/** Answers questions about stored lines. Times are nanoseconds; ranges are [start, end). */
export interface LogQueryable {
  /** Streams whose labels match all matchers and whose lines may overlap [start, end). */
  selectStreams(matchers: readonly Matcher[], start?: bigint, end?: bigint): StreamInfo[];
  /** Sorted label names over all streams (or those in the time range). */
  labelNames(start?: bigint, end?: bigint): string[];
  /** Sorted values of label `name` over streams matching `matchers` in the range. */
  labelValues(name: string, matchers?: readonly Matcher[], start?: bigint, end?: bigint): string[];
  /**
   * The lines of one stream in [start, end), in `direction`, in time order. `hint` lets the store
   * skip lines that cannot match; callers still apply their own filter. A pull iterator: stop early freely.
   */
  entries(stream: StreamInfo, start: bigint, end: bigint, direction?: Direction, hint?: LineFilterHint): Iterable<LogEntry>;
  /**
   * For queries that only count lines: the times (ms) of the lines of `stream` in [start, end) that
   * contain every needle, in time order, and (`withBytes`) their total UTF-8 bytes.
   */
  matchTimes(
    stream: StreamInfo,
    start: bigint,
    end: bigint,
    needles: readonly string[],
    tokens?: readonly string[],
    withBytes?: boolean,
  ): { times: number[]; bytes: number };
  /** Counts over all streams, or those matching `matchers` in the range. */
  stats(matchers?: readonly Matcher[], start?: bigint, end?: bigint): StoreStats;
  /** Registers a listener for accepted lines (live tail); returns the unsubscribe function. */
  subscribe(fn: TailListener): () => void;
}

/** A complete log store: both sides of the seam. */
export type LogStorage = LogAppendable & LogQueryable;

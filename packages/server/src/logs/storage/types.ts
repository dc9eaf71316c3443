/** The data model of the log store: streams of timestamped lines, with optional structured metadata. */
import type { Labels } from '../../core/model/labels.js';

/** One log line. `t` is nanoseconds since the Unix epoch (exact: Loki timestamps need all 19 digits). */
export interface LogEntry {
  readonly t: bigint;
  readonly line: string;
  /** Structured metadata (Loki 3): per-line labels that are not part of the stream identity. */
  readonly meta?: Labels | undefined;
}

/** A stream: a label set and its id. */
export interface StreamInfo {
  readonly id: number;
  readonly labels: Labels;
}

/** Lines for one stream in a push. */
export interface PushStream {
  readonly labels: Labels;
  readonly entries: readonly LogEntry[];
}

/** Why a line was refused. */
export interface RejectedEntry {
  readonly labels: Labels;
  readonly t: bigint;
  readonly reason: string;
}

/** The outcome of a push: refused lines are reported, the rest are durable. */
export interface PushResult {
  accepted: number;
  acceptedBytes: number;
  rejected: RejectedEntry[];
}

/** Direction of a log query. */
export type Direction = 'forward' | 'backward';

/** A line predicate with the hints the store uses to skip chunks and lines cheaply. */
export interface LineFilterHint {
  /** Tokens every matching line contains whole (checked against chunk bloom filters). */
  readonly tokens?: readonly string[];
  /** A substring every matching line contains (searched in the decompressed bytes). */
  readonly needle?: string;
}

/** Store-level counters for `/index/stats` and self-monitoring. */
export interface StoreStats {
  streams: number;
  chunks: number;
  entries: number;
  /** Uncompressed line bytes. */
  bytes: number;
  /** Bytes on disk (chunks, WAL, stream index). */
  diskBytes: number;
}

/**
 * What every trace store refuses, in one place so the in-memory and the disk store agree: spans
 * stamped too far ahead of the clock, spans that ended before the retention period, and spans past
 * the per-trace limit. A refusal costs only that span; the rest of the batch is kept.
 */
import type { Span } from './types.js';

/** The admission bounds a store is built with. */
export interface TraceAdmissionOptions {
  /** The clock (ms). */
  readonly now?: () => number;
  /** Refuse spans starting more than this far ahead of the clock (default 10 min). */
  readonly maxFutureMs?: number;
  /** Refuse spans that ended longer ago than this (0: keep forever; default 0). */
  readonly retentionMs?: number;
  /** Most spans one trace may have (0: no limit; default 0). */
  readonly maxSpansPerTrace?: number;
}

const MS = 1_000_000n;

/** Decides span by span; `stored(traceId)` is how many spans the store already holds for the trace. */
export class TraceAdmission {
  private readonly now: () => number;
  private readonly maxFutureMs: number;
  private readonly retentionMs: number;
  private readonly maxSpansPerTrace: number;

  constructor(opts: TraceAdmissionOptions) {
    this.now = opts.now ?? Date.now;
    this.maxFutureMs = opts.maxFutureMs ?? 600_000;
    this.retentionMs = opts.retentionMs ?? 0;
    this.maxSpansPerTrace = opts.maxSpansPerTrace ?? 0;
  }

  /** The spans to keep, and one reason per kind of refusal with its count. */
  admit(spans: readonly Span[], stored: (traceId: string) => number): { kept: Span[]; rejected: number; reasons: string[] } {
    const nowNs = BigInt(Math.floor(this.now())) * MS;
    const maxStart = nowNs + BigInt(this.maxFutureMs) * MS;
    const minEnd = this.retentionMs > 0 ? nowNs - BigInt(this.retentionMs) * MS : -1n;
    const added = new Map<string, number>();
    const counts = new Map<string, number>();
    const kept: Span[] = [];
    const refuse = (reason: string): void => {
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    };
    for (const s of spans) {
      if (s.startTimeUnixNano > maxStart) {
        refuse(`span starts more than ${this.maxFutureMs / 1000}s ahead of the clock`);
        continue;
      }
      if (s.endTimeUnixNano < minEnd) {
        refuse(`span ended before the retention period (${this.retentionMs / 1000}s)`);
        continue;
      }
      if (this.maxSpansPerTrace > 0) {
        const n = (added.get(s.traceId) ?? stored(s.traceId)) + 1;
        if (n > this.maxSpansPerTrace) {
          refuse(`trace has more than max_spans_per_trace (${this.maxSpansPerTrace}) spans`);
          continue;
        }
        added.set(s.traceId, n);
      }
      kept.push(s);
    }
    const reasons = [...counts].map(([r, n]) => `${n} span${n === 1 ? '' : 's'} refused: ${r}`);
    return { kept, rejected: spans.length - kept.length, reasons };
  }
}

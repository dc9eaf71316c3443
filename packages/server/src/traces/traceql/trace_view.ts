/**
 * One trace as TraceQL reads it: its spans by index, and (built on first use) each span's parent
 * index and child count, the root span and the trace's duration. Spansets are lists of indices into
 * `spans`, so the structural operators work on typed arrays rather than on maps of objects.
 */
import type { Span } from '../storage/types.js';

export class TraceView {
  private parentOf: Int32Array | undefined;
  private children: Int32Array | undefined;
  private rootSpan: Span | null | undefined;
  private duration: number | undefined;

  constructor(readonly spans: readonly Span[]) {}

  /** Each span's parent index, or -1 for a root or a span whose parent is not in the trace. */
  parents(): Int32Array {
    if (this.parentOf === undefined) {
      const byId = new Map<string, number>();
      this.spans.forEach((s, i) => byId.set(s.spanId, i));
      const p = new Int32Array(this.spans.length).fill(-1);
      this.spans.forEach((s, i) => {
        if (s.parentSpanId === '') return;
        const j = byId.get(s.parentSpanId);
        if (j !== undefined && j !== i) p[i] = j;
      });
      this.parentOf = p;
    }
    return this.parentOf;
  }

  childCount(i: number): number {
    if (this.children === undefined) {
      const c = new Int32Array(this.spans.length);
      for (const p of this.parents()) if (p >= 0) c[p]!++;
      this.children = c;
    }
    return this.children[i]!;
  }

  /** The root span (no parent id); when several claim it, the earliest; null while none arrived. */
  root(): Span | null {
    if (this.rootSpan === undefined) {
      let root: Span | null = null;
      for (const s of this.spans) if (s.parentSpanId === '' && (root === null || s.startTimeUnixNano < root.startTimeUnixNano)) root = s;
      this.rootSpan = root;
    }
    return this.rootSpan;
  }

  /** Earliest start of any span, in nanoseconds since the epoch. */
  startNanos(): bigint {
    let min: bigint | undefined;
    for (const s of this.spans) if (min === undefined || s.startTimeUnixNano < min) min = s.startTimeUnixNano;
    return min ?? 0n;
  }

  /** From the earliest start to the latest end, in nanoseconds. */
  durationNanos(): number {
    if (this.duration === undefined) {
      let min: bigint | undefined;
      let max: bigint | undefined;
      for (const s of this.spans) {
        if (min === undefined || s.startTimeUnixNano < min) min = s.startTimeUnixNano;
        if (max === undefined || s.endTimeUnixNano > max) max = s.endTimeUnixNano;
      }
      this.duration = min === undefined ? 0 : Number(max! - min);
    }
    return this.duration;
  }
}

/** The span's own duration in nanoseconds (0 when its end precedes its start). */
export function spanDurationNanos(s: Span): number {
  const d = s.endTimeUnixNano - s.startTimeUnixNano;
  return d > 0n ? Number(d) : 0;
}

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
  private nested: NestedSet | undefined;

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

  /**
   * Tempo's nested-set numbering: a depth-first walk from each root (children by start time)
   * numbers a span's entry (`left`) and exit (`right`); `parent` is the parent's `left`, -1 for a
   * root. Spans not connected to a root keep 0, as in Tempo. Grafana's trace drilldown selects
   * root spans with `nestedSetParent < 0`.
   */
  nestedSet(): NestedSet {
    if (this.nested === undefined) {
      const n = this.spans.length;
      const p = this.parents();
      const kids: number[][] = Array.from({ length: n }, () => []);
      for (let i = 0; i < n; i++) if (p[i]! >= 0) kids[p[i]!]!.push(i);
      const byStart = (a: number, b: number): number => {
        const x = this.spans[a]!.startTimeUnixNano;
        const y = this.spans[b]!.startTimeUnixNano;
        return x < y ? -1 : x > y ? 1 : a - b;
      };
      const left = new Int32Array(n);
      const right = new Int32Array(n);
      const parent = new Int32Array(n);
      let counter = 0;
      const roots = [...Array(n).keys()].filter((i) => this.spans[i]!.parentSpanId === '').sort(byStart);
      for (const root of roots) {
        // An explicit stack: a trace may be deeper than the call stack allows.
        const stack: [number, number][] = [[root, 0]];
        left[root] = ++counter;
        parent[root] = -1;
        while (stack.length > 0) {
          const top = stack[stack.length - 1]!;
          const [node, next] = top;
          const children = kids[node]!;
          if (next === 0) children.sort(byStart);
          if (next < children.length) {
            top[1]++;
            const c = children[next]!;
            if (left[c] !== 0) continue;
            left[c] = ++counter;
            parent[c] = left[node]!;
            stack.push([c, 0]);
          } else {
            right[node] = ++counter;
            stack.pop();
          }
        }
      }
      this.nested = { left, right, parent };
    }
    return this.nested;
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

export interface NestedSet {
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly parent: Int32Array;
}

/** The span's own duration in nanoseconds (0 when its end precedes its start). */
export function spanDurationNanos(s: Span): number {
  const d = s.endTimeUnixNano - s.startTimeUnixNano;
  return d > 0n ? Number(d) : 0;
}

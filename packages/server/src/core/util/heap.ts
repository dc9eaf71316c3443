/**
 * How close the V8 heap is to its limit (`--max-old-space-size`, set from the memory budget by
 * bin/vigil.js). Work that would grow the heap (queries, new series and streams) is refused near
 * the limit, so Vigil answers 503 instead of dying of an out-of-memory crash.
 *
 * Garbage counts as used until collected, so "near the limit" needs both the current use and the
 * use left after the last full collection to be above the threshold: a heap that is merely due for
 * a collection is not refused.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** Heap in use and the heap limit, bytes. */
export interface HeapUse {
  readonly used: number;
  readonly limit: number;
}

function heapUse(): HeapUse {
  const h = getHeapStatistics();
  return { used: h.used_heap_size, limit: h.heap_size_limit };
}

/** Watches full collections and says when the heap is near its limit. */
export class HeapWatch {
  private afterFullGc = 0;
  private readonly observer: PerformanceObserver;

  constructor(
    /** Fraction of the heap limit past which work is refused (default 0.9)… */
    readonly refuseRatio = 0.9,
    /**
     * …but at least this much is kept free (default 64 MiB): one request or query step can
     * allocate tens of MiB before anything checks again, which a small heap's 10% would not hold.
     */
    readonly minHeadroomBytes = 64 * 1024 * 1024,
    private readonly use: () => HeapUse = heapUse,
  ) {
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.afterFullGc = this.use().used;
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Heap use past which work is refused, bytes. */
  threshold(limit: number): number {
    return limit - Math.max(limit * (1 - this.refuseRatio), this.minHeadroomBytes);
  }

  /** Why new work is refused, or undefined while the heap has room. */
  pressure(): string | undefined {
    const { used, limit } = this.use();
    const max = this.threshold(limit);
    if (used <= max || this.afterFullGc <= max) return undefined;
    return `memory use is at ${Math.round((used / limit) * 100)}% of the heap limit (set from memory_budget); retry later`;
  }

  /** Stops watching. */
  close(): void {
    this.observer.disconnect();
  }
}

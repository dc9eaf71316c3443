/**
 * Every configured limit with its current usage and refusals, on /metrics
 * (`vigil_limit`, `vigil_limit_usage`, `vigil_limit_refusals_total`, each by `limit`) and for the
 * status API, so an operator sees a limit coming before it refuses anything.
 */
import type { LimitReading, LimitRefusals } from '../../core/limits/refusals.js';
import type { SelfRegistry } from '../../core/selfmon/registry.js';

/** One limit as the status API reports it. */
export interface LimitStatus {
  limit: string;
  /** The configured value; 0: no limit. */
  value: number;
  /** What is used of it now, for limits on a level (series, streams, alerts); absent for per-item bounds. */
  usage?: number;
  /** Writes refused by it since start. */
  refused: number;
}

/** The limits of one server and where their refusals are counted. */
export class LimitsReport {
  constructor(
    private readonly readings: readonly LimitReading[],
    /** Refusal counters of the components (head, receiver, log ingest); their counts add up. */
    private readonly refusals: ReadonlyArray<LimitRefusals | (() => Iterable<[string, number]>)>,
  ) {}

  /** Refusals by limit, summed over the components. */
  refusedByLimit(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.readings) out.set(r.limit, 0);
    for (const source of this.refusals) {
      for (const [limit, n] of typeof source === 'function' ? source() : source.entries()) out.set(limit, (out.get(limit) ?? 0) + n);
    }
    return out;
  }

  status(): LimitStatus[] {
    const refused = this.refusedByLimit();
    return this.readings.map((r) => ({ limit: r.limit, value: r.value, ...(r.usage ? { usage: r.usage() } : {}), refused: refused.get(r.limit) ?? 0 }));
  }

  register(reg: SelfRegistry): void {
    reg.register('vigil_limit', 'gauge', 'Configured limits by name (0: no limit); rates per second.', () =>
      this.readings.map((r) => ({ labels: { limit: r.limit }, value: r.value })),
    );
    reg.register('vigil_limit_usage', 'gauge', 'Current usage of the limits that bound a level (series, streams, alerts, silences).', () =>
      this.readings.filter((r) => r.usage).map((r) => ({ labels: { limit: r.limit }, value: r.usage!() })),
    );
    reg.register(
      'vigil_limit_refusals_total',
      'counter',
      'Writes refused by each limit: new series, log lines of new streams, requests, alerts or silences.',
      () => [...this.refusedByLimit()].map(([limit, value]) => ({ labels: { limit }, value })),
    );
  }
}

/**
 * Business metrics (the seed's BusinessMetricsTracker): named events counted and their values
 * summed (revenue), with conversion rates along a funnel such as page view → add to cart → purchase.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { labelKey, type CardinalityGuard, type LabelSetCache } from './cardinality.js';

/** One occurrence of a business event. */
export interface BusinessEventOptions {
  /** A value to sum, e.g. the order total; must not be negative. */
  readonly value?: number;
  /** Labels; their names are fixed by the event's first use or by {@link BusinessMetrics.define}. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Declares an event up front. */
export interface BusinessEventDefinition {
  readonly help?: string;
  readonly labelNames?: readonly string[];
}

interface EventMetrics {
  readonly count: Counter<string>;
  readonly value: Counter<string>;
  readonly labelNames: readonly string[];
  readonly children: LabelSetCache<true>;
  total: number;
}

const NAME_OK = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A funnel: ordered steps whose counts give conversion rates. */
export interface Funnel {
  /** The funnel's name (the `funnel` label). */
  readonly name: string;
  /** The steps, first to last. */
  readonly steps: readonly string[];
  /** Counts one entry into `step`. */
  step(step: string): void;
  /** Entries into `to` divided by entries into `from`, since start (0 when `from` has none). Default first → last. */
  conversion(from?: string, to?: string): number;
  /** The PromQL for the same ratio over a window, e.g. `5m`. */
  conversionQuery(from?: string, to?: string, window?: string): string;
}

/** Counts business events; see {@link BusinessMetrics.event}. */
export class BusinessMetrics {
  private readonly events = new Map<string, EventMetrics>();
  private readonly funnelSteps: Counter<'funnel' | 'step'>;
  private readonly funnels = new Map<string, { steps: readonly string[]; counts: Map<string, number> }>();

  constructor(
    private readonly registry: Registry,
    private readonly guard: CardinalityGuard,
  ) {
    this.funnelSteps = new Counter({
      name: 'business_funnel_steps_total',
      help: 'Entries into each step of each business funnel.',
      labelNames: ['funnel', 'step'],
      registers: [registry],
    });
    const ratio: Gauge<'funnel' | 'from' | 'to'> = new Gauge({
      name: 'business_funnel_conversion_ratio',
      help: 'Entries into each funnel step divided by entries into the first step, since start.',
      labelNames: ['funnel', 'from', 'to'],
      registers: [registry],
      collect: () => {
        for (const [name, f] of this.funnels) {
          const first = f.steps[0] as string;
          for (const s of f.steps.slice(1)) ratio.set({ funnel: name, from: first, to: s }, this.funnel(name, f.steps).conversion(first, s));
        }
      },
    });
  }

  /** Declares an event: `business_<name>_total` and `business_<name>_value_total` with these labels. */
  define(name: string, def: BusinessEventDefinition = {}): void {
    if (this.events.has(name)) return;
    if (!NAME_OK.test(name)) throw new TypeError(`business event name ${JSON.stringify(name)} is not a valid metric name part`);
    const labelNames = [...(def.labelNames ?? [])];
    const help = def.help ?? `Business event "${name}".`;
    this.events.set(name, {
      count: new Counter({ name: `business_${name}_total`, help: `${help} Occurrences.`, labelNames, registers: [this.registry] }),
      value: new Counter({ name: `business_${name}_value_total`, help: `${help} Sum of values.`, labelNames, registers: [this.registry] }),
      labelNames,
      children: this.guard.cache(`business_${name}_total`),
      total: 0,
    });
  }

  /** Records one event, e.g. `event('purchase', { value: 42.5, labels: { method: 'card' } })`. */
  event(name: string, opts: BusinessEventOptions = {}): void {
    let m = this.events.get(name);
    if (!m) {
      this.define(name, { labelNames: Object.keys(opts.labels ?? {}) });
      m = this.events.get(name) as EventMetrics;
    }
    m.total++;
    const labels = opts.labels ?? {};
    if (m.children.get(labelKey(labels), () => true) === undefined) return;
    m.count.inc(labels);
    if (opts.value !== undefined && opts.value > 0) m.value.inc(labels, opts.value);
  }

  /** Occurrences of an event since start (all label sets). */
  count(name: string): number {
    return this.events.get(name)?.total ?? 0;
  }

  /** Occurrences of `to` divided by occurrences of `from`, since start (0 when `from` has none). */
  conversionRate(from: string, to: string): number {
    const f = this.count(from);
    return f === 0 ? 0 : this.count(to) / f;
  }

  /** Defines (or returns) a funnel over ordered steps. */
  funnel(name: string, steps: readonly string[]): Funnel {
    let f = this.funnels.get(name);
    if (!f) {
      if (steps.length < 2) throw new TypeError('a funnel needs at least two steps');
      f = { steps: [...steps], counts: new Map(steps.map((s) => [s, 0])) };
      this.funnels.set(name, f);
    }
    const state = f;
    const first = state.steps[0] as string;
    const last = state.steps[state.steps.length - 1] as string;
    return {
      name,
      steps: state.steps,
      step: (step) => {
        const n = state.counts.get(step);
        if (n === undefined) throw new RangeError(`funnel ${name} has no step ${step}`);
        state.counts.set(step, n + 1);
        this.funnelSteps.inc({ funnel: name, step });
      },
      conversion: (from = first, to = last) => {
        const a = state.counts.get(from) ?? 0;
        return a === 0 ? 0 : (state.counts.get(to) ?? 0) / a;
      },
      conversionQuery: (from = first, to = last, window = '5m') =>
        `sum(rate(business_funnel_steps_total{funnel="${name}",step="${to}"}[${window}])) / sum(rate(business_funnel_steps_total{funnel="${name}",step="${from}"}[${window}]))`,
    };
  }
}

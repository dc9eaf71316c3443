/**
 * Vigil's own metrics, in the Prometheus text format. Values are read when scraped (collect
 * callbacks), so instrumented code pays nothing per event beyond what it already counts.
 */

/** The metric types the text format knows. */
export type SelfMetricType = 'counter' | 'gauge' | 'histogram';

/** One sample: label pairs and a value; `name` overrides the family name (histogram parts). */
export interface SelfSample {
  name?: string;
  labels?: Readonly<Record<string, string>>;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: SelfMetricType;
  collect: () => readonly SelfSample[] | number;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** A set of metric families rendered together. */
export class SelfRegistry {
  private readonly families: Family[] = [];

  /** Adds a family whose samples `collect` returns at scrape time (a number: one unlabelled sample). */
  register(name: string, type: SelfMetricType, help: string, collect: () => readonly SelfSample[] | number): void {
    if (this.families.some((f) => f.name === name)) throw new Error(`metric ${name} registered twice`);
    this.families.push({ name, help, type, collect });
  }

  /** The text exposition format 0.0.4. */
  render(): string {
    let out = '';
    for (const f of this.families) {
      const got = f.collect();
      const samples = typeof got === 'number' ? [{ value: got }] : got;
      out += `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} ${f.type}\n`;
      for (const s of samples) {
        const entries = Object.entries(s.labels ?? {});
        const lbl = entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
        out += `${s.name ?? f.name}${lbl} ${formatValue(s.value)}\n`;
      }
    }
    return out;
  }
}

/**
 * A histogram with fixed label names, kept as cumulative bucket counts per label-value tuple, so an
 * observation is a few array increments.
 */
export class SelfHistogram {
  private readonly series = new Map<string, { values: readonly string[]; counts: Float64Array; sum: number; count: number }>();

  constructor(
    reg: SelfRegistry,
    name: string,
    help: string,
    private readonly labels: readonly string[],
    private readonly buckets: readonly number[],
  ) {
    reg.register(name, 'histogram', help, () => this.samples(name));
  }

  /** Records `v` for the label values, given in the order of the label names. */
  observe(labelValues: readonly string[], v: number): void {
    // A separator no label value is expected to hold, so distinct tuples never share a key.
    const key = labelValues.join('\u0000');
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { values: [...labelValues], counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }

  private samples(name: string): SelfSample[] {
    const out: SelfSample[] = [];
    for (const s of this.series.values()) {
      const labels = Object.fromEntries(this.labels.map((l, i) => [l, s.values[i] ?? '']));
      this.buckets.forEach((le, i) => out.push({ name: `${name}_bucket`, labels: { ...labels, le: String(le) }, value: s.counts[i]! }));
      out.push({ name: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: s.count });
      out.push({ name: `${name}_sum`, labels, value: s.sum });
      out.push({ name: `${name}_count`, labels, value: s.count });
    }
    return out;
  }
}

/** Registers the process metrics every Prometheus client exposes, plus Node's heap figures. */
export function registerProcessMetrics(reg: SelfRegistry, startedAt: number): void {
  reg.register('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  reg.register('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  reg.register('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', () => startedAt / 1000);
  reg.register('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap in use, in bytes.', () => process.memoryUsage().heapUsed);
  reg.register('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap reserved, in bytes.', () => process.memoryUsage().heapTotal);
  reg.register('nodejs_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JavaScript objects, in bytes.', () => process.memoryUsage().external);
  reg.register('nodejs_array_buffers_bytes', 'gauge', 'Memory of ArrayBuffers and Buffers, in bytes.', () => process.memoryUsage().arrayBuffers);
}

/**
 * Benchmark data: a deterministic set of series that look like real exporter output, pre-encoded as
 * snappy-compressed remote_write requests.
 *
 * Every request is built before any server starts, so encoding and compression are paid once and
 * never show up in a server's measured CPU or wall time, and all servers receive the same bytes.
 * Requests are arranged the way Prometheus' own remote_write sends them: many series per request,
 * one (the newest) sample of each.
 */
import { snappyEncode } from '../../core/util/snappy.js';
import type { Label, Labels } from '../../core/model/labels.js';
import { WriteRequestEncoder, encodeLabels } from '../../metrics/remotewrite/proto.js';

/** Shape of the generated data. */
export interface DataOptions {
  /** Number of distinct series. */
  readonly series: number;
  /** Samples per series. */
  readonly samples: number;
  /** Series per remote_write request; series are split into groups of this size. */
  readonly seriesPerRequest: number;
  /** Spacing of a series' samples in milliseconds (the scrape interval). */
  readonly stepMs: number;
  /** The newest timestamp of the data set (ms). Every timestamp is at or before it. */
  readonly endMs: number;
  /** PRNG seed; the same seed and options give byte-identical requests. */
  readonly seed: number;
}

/**
 * The requests of one group of series, in time order. A group's requests must be delivered one after
 * another (each only after the previous was acknowledged), or a server may see an older sample of a
 * series after a newer one and reject it as out of order.
 */
export interface RequestGroup {
  /** Index of the first series of the group in {@link Dataset.labels}. */
  readonly firstSeries: number;
  /** Number of series in the group (and so samples per request). */
  readonly seriesCount: number;
  /** Snappy-compressed WriteRequest bodies, oldest first. */
  readonly requests: readonly Buffer[];
}

/** The whole pre-encoded data set. */
export interface Dataset {
  readonly options: DataOptions;
  /** Label sets of all series, sorted, including `__name__`. */
  readonly labels: readonly Labels[];
  readonly groups: readonly RequestGroup[];
  /** Total samples across all requests. */
  readonly totalSamples: number;
  readonly totalRequests: number;
  /** Sum of WriteRequest sizes before compression. */
  readonly rawBytes: number;
  /** Sum of request bodies as sent. */
  readonly compressedBytes: number;
  /** Oldest and newest timestamp in the data. */
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
}

/**
 * mulberry32: a tiny, fast 32-bit PRNG. Good enough to make data look varied, and unlike
 * Math.random it is seedable, which is what makes the data set reproducible.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = 'counter' | 'gauge' | 'constant';
type Job = 'node' | 'api' | 'postgres' | 'redis' | 'nginx';

/** How a metric's values move. `unit` is the granularity values are rounded to (0: no rounding). */
interface MetricDef {
  readonly name: string;
  readonly job: Job;
  readonly kind: Kind;
  /**
   * Metric-specific labels (0–3), with their value pools. Every series also gets `region`, and most
   * an `env`: 1–5 labels besides `__name__`, `instance` and `job`, about 6 in all.
   */
  readonly labels: ReadonlyArray<readonly [string, readonly string[]]>;
  /** Typical magnitude: counter increase per step, or gauge level. */
  readonly scale: number;
  readonly unit: number;
}

const CPUS = ['0', '1', '2', '3', '4', '5', '6', '7'];
const MODES = ['idle', 'user', 'system', 'iowait', 'irq', 'softirq', 'steal', 'nice'];
const DEVICES = ['sda', 'sdb', 'nvme0n1', 'nvme1n1', 'dm-0'];
const NICS = ['eth0', 'eth1', 'lo', 'docker0', 'veth1a2b3c'];
const MOUNTS = ['/', '/var', '/home', '/data', '/boot'];
const FSTYPES = ['ext4', 'xfs', 'tmpfs'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const CODES = ['200', '201', '204', '301', '400', '404', '500', '503'];
const HANDLERS = ['/api/v1/orders', '/api/v1/cart', '/api/v1/payments', '/api/v1/users', '/healthz', '/metrics', '/login', '/search'];
const LE = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];
const DBS = ['shop', 'payments', 'inventory', 'postgres'];
const PG_STATES = ['active', 'idle', 'idle in transaction', 'disabled'];
const REDIS_CMDS = ['get', 'set', 'del', 'hget', 'hset', 'expire', 'incr', 'lpush'];
const NGINX_STATES = ['active', 'reading', 'writing', 'waiting'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-1'];

/** About fifty metrics from common exporters, with their jobs, label schemas and value models. */
const METRICS: readonly MetricDef[] = [
  {
    name: 'node_cpu_seconds_total',
    job: 'node',
    kind: 'counter',
    labels: [
      ['cpu', CPUS],
      ['mode', MODES],
    ],
    scale: 3,
    unit: 0.01,
  },
  { name: 'node_memory_MemAvailable_bytes', job: 'node', kind: 'gauge', labels: [], scale: 8e9, unit: 4096 },
  { name: 'node_memory_MemTotal_bytes', job: 'node', kind: 'constant', labels: [], scale: 16e9, unit: 4096 },
  { name: 'node_memory_Cached_bytes', job: 'node', kind: 'gauge', labels: [], scale: 3e9, unit: 4096 },
  { name: 'node_load1', job: 'node', kind: 'gauge', labels: [], scale: 2, unit: 0.01 },
  { name: 'node_load5', job: 'node', kind: 'gauge', labels: [], scale: 1.5, unit: 0.01 },
  { name: 'node_load15', job: 'node', kind: 'gauge', labels: [], scale: 1.2, unit: 0.01 },
  { name: 'node_disk_read_bytes_total', job: 'node', kind: 'counter', labels: [['device', DEVICES]], scale: 2e6, unit: 512 },
  { name: 'node_disk_written_bytes_total', job: 'node', kind: 'counter', labels: [['device', DEVICES]], scale: 5e6, unit: 512 },
  { name: 'node_disk_io_time_seconds_total', job: 'node', kind: 'counter', labels: [['device', DEVICES]], scale: 1, unit: 0.001 },
  { name: 'node_network_receive_bytes_total', job: 'node', kind: 'counter', labels: [['device', NICS]], scale: 3e6, unit: 1 },
  { name: 'node_network_transmit_bytes_total', job: 'node', kind: 'counter', labels: [['device', NICS]], scale: 2e6, unit: 1 },
  { name: 'node_network_receive_errs_total', job: 'node', kind: 'counter', labels: [['device', NICS]], scale: 0.05, unit: 1 },
  {
    name: 'node_filesystem_avail_bytes',
    job: 'node',
    kind: 'gauge',
    labels: [
      ['mountpoint', MOUNTS],
      ['fstype', FSTYPES],
    ],
    scale: 5e10,
    unit: 4096,
  },
  {
    name: 'node_filesystem_size_bytes',
    job: 'node',
    kind: 'constant',
    labels: [
      ['mountpoint', MOUNTS],
      ['fstype', FSTYPES],
    ],
    scale: 1e11,
    unit: 4096,
  },
  { name: 'node_context_switches_total', job: 'node', kind: 'counter', labels: [], scale: 40000, unit: 1 },
  { name: 'node_boot_time_seconds', job: 'node', kind: 'constant', labels: [], scale: 1.7e9, unit: 1 },
  { name: 'node_procs_running', job: 'node', kind: 'gauge', labels: [], scale: 4, unit: 1 },
  {
    name: 'http_requests_total',
    job: 'api',
    kind: 'counter',
    labels: [
      ['method', METHODS],
      ['code', CODES],
      ['handler', HANDLERS],
    ],
    scale: 50,
    unit: 1,
  },
  {
    name: 'http_request_duration_seconds_bucket',
    job: 'api',
    kind: 'counter',
    labels: [
      ['handler', HANDLERS],
      ['le', LE],
    ],
    scale: 30,
    unit: 1,
  },
  { name: 'http_request_duration_seconds_sum', job: 'api', kind: 'counter', labels: [['handler', HANDLERS]], scale: 4, unit: 0 },
  { name: 'http_request_duration_seconds_count', job: 'api', kind: 'counter', labels: [['handler', HANDLERS]], scale: 40, unit: 1 },
  { name: 'http_requests_in_flight', job: 'api', kind: 'gauge', labels: [['handler', HANDLERS]], scale: 6, unit: 1 },
  { name: 'process_cpu_seconds_total', job: 'api', kind: 'counter', labels: [], scale: 1.5, unit: 0.01 },
  { name: 'process_resident_memory_bytes', job: 'api', kind: 'gauge', labels: [], scale: 3e8, unit: 4096 },
  { name: 'process_open_fds', job: 'api', kind: 'gauge', labels: [], scale: 80, unit: 1 },
  { name: 'process_start_time_seconds', job: 'api', kind: 'constant', labels: [], scale: 1.7e9, unit: 0.01 },
  { name: 'nodejs_heap_size_used_bytes', job: 'api', kind: 'gauge', labels: [], scale: 1.2e8, unit: 8 },
  { name: 'nodejs_eventloop_lag_seconds', job: 'api', kind: 'gauge', labels: [], scale: 0.004, unit: 0 },
  { name: 'nodejs_gc_duration_seconds_count', job: 'api', kind: 'counter', labels: [['kind', ['major', 'minor', 'incremental', 'weakcb']]], scale: 5, unit: 1 },
  { name: 'db_pool_connections', job: 'api', kind: 'gauge', labels: [['state', ['idle', 'used', 'pending']]], scale: 10, unit: 1 },
  { name: 'build_info', job: 'api', kind: 'constant', labels: [['version', ['1.4.2', '1.5.0', '1.5.1']]], scale: 1, unit: 1 },
  { name: 'up', job: 'api', kind: 'constant', labels: [], scale: 1, unit: 1 },
  { name: 'pg_stat_database_xact_commit', job: 'postgres', kind: 'counter', labels: [['datname', DBS]], scale: 300, unit: 1 },
  { name: 'pg_stat_database_xact_rollback', job: 'postgres', kind: 'counter', labels: [['datname', DBS]], scale: 2, unit: 1 },
  { name: 'pg_stat_database_blks_hit', job: 'postgres', kind: 'counter', labels: [['datname', DBS]], scale: 20000, unit: 1 },
  { name: 'pg_stat_database_tup_fetched', job: 'postgres', kind: 'counter', labels: [['datname', DBS]], scale: 9000, unit: 1 },
  {
    name: 'pg_stat_activity_count',
    job: 'postgres',
    kind: 'gauge',
    labels: [
      ['datname', DBS],
      ['state', PG_STATES],
    ],
    scale: 12,
    unit: 1,
  },
  { name: 'pg_database_size_bytes', job: 'postgres', kind: 'gauge', labels: [['datname', DBS]], scale: 2e10, unit: 8192 },
  { name: 'pg_up', job: 'postgres', kind: 'constant', labels: [], scale: 1, unit: 1 },
  { name: 'redis_commands_total', job: 'redis', kind: 'counter', labels: [['cmd', REDIS_CMDS]], scale: 800, unit: 1 },
  { name: 'redis_commands_duration_seconds_total', job: 'redis', kind: 'counter', labels: [['cmd', REDIS_CMDS]], scale: 0.05, unit: 0.000001 },
  { name: 'redis_connected_clients', job: 'redis', kind: 'gauge', labels: [], scale: 40, unit: 1 },
  { name: 'redis_memory_used_bytes', job: 'redis', kind: 'gauge', labels: [], scale: 5e8, unit: 8 },
  { name: 'redis_keyspace_hits_total', job: 'redis', kind: 'counter', labels: [['db', ['db0', 'db1', 'db2']]], scale: 900, unit: 1 },
  { name: 'redis_keyspace_misses_total', job: 'redis', kind: 'counter', labels: [['db', ['db0', 'db1', 'db2']]], scale: 60, unit: 1 },
  { name: 'nginx_connections', job: 'nginx', kind: 'gauge', labels: [['state', NGINX_STATES]], scale: 100, unit: 1 },
  {
    name: 'nginx_http_requests_total',
    job: 'nginx',
    kind: 'counter',
    labels: [
      ['status', CODES],
      ['host', ['shop.example.com', 'api.example.com', 'static.example.com']],
    ],
    scale: 200,
    unit: 1,
  },
  { name: 'nginx_upstream_response_seconds_total', job: 'nginx', kind: 'counter', labels: [['upstream', ['api', 'static', 'auth']]], scale: 6, unit: 0.001 },
  { name: 'nginx_up', job: 'nginx', kind: 'constant', labels: [], scale: 1, unit: 1 },
];

const JOB_PORTS: Readonly<Record<Job, string>> = { node: '9100', api: '8080', postgres: '9187', redis: '9121', nginx: '9113' };
/** Weight of each job when picking a series' job: node exporters dominate real fleets. */
const JOB_WEIGHTS: ReadonlyArray<readonly [Job, number]> = [
  ['node', 0.45],
  ['api', 0.3],
  ['postgres', 0.1],
  ['redis', 0.08],
  ['nginx', 0.07],
];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

/** What a generated series is, besides its labels: the metric it belongs to and its target. */
interface SeriesDef {
  readonly labels: Labels;
  readonly metric: MetricDef;
}

/**
 * Makes `count` distinct series. Each picks a job (weighted), one of the job's targets, one of the
 * job's metrics and values for that metric's labels; duplicates are drawn again. The number of
 * targets grows with `count` so that each target exposes a few dozen series, as real ones do.
 */
function makeSeries(count: number, rnd: () => number): SeriesDef[] {
  const byJob = new Map<Job, MetricDef[]>();
  for (const m of METRICS) {
    const list = byJob.get(m.job) ?? [];
    list.push(m);
    byJob.set(m.job, list);
  }
  const targetsPerJob = Math.min(2000, Math.max(4, Math.ceil(count / 150)));
  const seen = new Set<string>();
  const out: SeriesDef[] = [];
  let attempts = 0;
  while (out.length < count) {
    // With ~50 metrics and thousands of targets the label space is huge, so this ends quickly;
    // the bound only guards against a pathological option set.
    if (++attempts > count * 50) throw new Error(`could not draw ${count} distinct series`);
    let r = rnd();
    let job: Job = 'node';
    for (const [j, w] of JOB_WEIGHTS) {
      if (r < w) {
        job = j;
        break;
      }
      r -= w;
    }
    const target = Math.floor(rnd() * targetsPerJob);
    const region = REGIONS[target % REGIONS.length]!;
    const metric = pick(rnd, byJob.get(job)!);
    const pairs: Label[] = [
      { name: '__name__', value: metric.name },
      { name: 'instance', value: `${job}-${target.toString().padStart(4, '0')}.${region}.internal:${JOB_PORTS[job]}` },
      { name: 'job', value: job },
      { name: 'region', value: region },
    ];
    // Two targets in three carry an `env` target label, as relabelling often adds one.
    if (target % 3 !== 0) pairs.push({ name: 'env', value: target % 3 === 1 ? 'prod' : 'staging' });
    for (const [name, values] of metric.labels) pairs.push({ name, value: pick(rnd, values) });
    pairs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let key = '';
    for (const p of pairs) key += `${p.name}\xff${p.value}\xfe`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ labels: pairs, metric });
  }
  return out;
}

function round(v: number, unit: number): number {
  return unit > 0 ? Math.round(v / unit) * unit : v;
}

/**
 * Per-series value state, advanced one step at a time in structure-of-arrays form (one typed array
 * per field) so that 20,000 series × 480 steps do not allocate per sample.
 */
class ValueModel {
  private readonly value: Float64Array;
  private readonly rate: Float64Array;
  private readonly resetAt: Int32Array;

  constructor(
    private readonly defs: readonly SeriesDef[],
    samples: number,
    private readonly rnd: () => number,
  ) {
    const n = defs.length;
    this.value = new Float64Array(n);
    this.rate = new Float64Array(n);
    this.resetAt = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const m = defs[i]!.metric;
      // Spread levels over two orders of magnitude around the metric's scale, so series of one
      // metric do not all look alike.
      const spread = Math.pow(10, rnd() * 2 - 1);
      if (m.kind === 'counter') {
        this.rate[i] = m.scale * spread;
        // A counter has been running for a while: start it at some hours' worth of increase.
        this.value[i] = round(this.rate[i]! * 240 * (1 + rnd() * 100), m.unit);
        // About one counter in twenty restarts somewhere in the window.
        if (rnd() < 0.05) this.resetAt[i] = 1 + Math.floor(rnd() * Math.max(1, samples - 1));
      } else if (m.kind === 'gauge') {
        this.rate[i] = m.scale * spread * 0.02;
        this.value[i] = round(m.scale * spread, m.unit);
      } else {
        // Constants: info-style metrics are 1; sizes and start times vary by series.
        this.value[i] = m.scale === 1 ? 1 : round(m.scale * (0.5 + rnd()), m.unit);
      }
    }
  }

  /** The value of series `i` at step `step`; must be called once per series per step, in order. */
  next(i: number, step: number): number {
    if (step === 0) return this.value[i]!;
    const m = this.defs[i]!.metric;
    const rnd = this.rnd;
    let v = this.value[i]!;
    if (m.kind === 'counter') {
      // Some scrapes see no increase at all (idle handlers, error counters), others a varying amount.
      const inc = rnd() < 0.1 ? 0 : round(this.rate[i]! * (0.3 + 1.4 * rnd()), m.unit);
      v = step === this.resetAt[i] ? inc : v + inc;
    } else if (m.kind === 'gauge') {
      v = round(Math.max(0, v + this.rate[i]! * (rnd() - 0.5) * 2), m.unit);
    }
    this.value[i] = v;
    return v;
  }
}

/** The newest aligned timestamp to end the data at: `now - 10 min`, rounded down to `stepMs`. */
export function defaultEndMs(nowMs: number, stepMs: number): number {
  return Math.floor((nowMs - 10 * 60_000) / stepMs) * stepMs;
}

/**
 * The scrape phase of target-based series: a real Prometheus scrapes each target at its own fixed
 * offset within the interval, so series of different targets have different (but regular)
 * timestamps. Derived from the instance label, so all series of one target share it.
 */
function phaseOffsets(defs: readonly SeriesDef[], stepMs: number): Int32Array {
  const out = new Int32Array(defs.length);
  for (let i = 0; i < defs.length; i++) {
    let h = 2166136261;
    for (const l of defs[i]!.labels) {
      if (l.name !== 'instance') continue;
      for (let k = 0; k < l.value.length; k++) h = Math.imul(h ^ l.value.charCodeAt(k), 16777619);
    }
    out[i] = (h >>> 0) % stepMs;
  }
  return out;
}

/**
 * Generates and encodes the data set. Requests are built step by step across groups, so the PRNG is
 * consumed in one fixed order and the output depends only on the options.
 */
export function generateDataset(opts: DataOptions): Dataset {
  if (opts.series < 1 || opts.samples < 1 || opts.seriesPerRequest < 1) throw new Error('series, samples and series-per-request must be positive');
  const rnd = mulberry32(opts.seed);
  const defs = makeSeries(opts.series, rnd);
  const model = new ValueModel(defs, opts.samples, rnd);
  const phase = phaseOffsets(defs, opts.stepMs);
  const nGroups = Math.ceil(opts.series / opts.seriesPerRequest);
  const groupRequests: Buffer[][] = Array.from({ length: nGroups }, () => []);
  const enc = new WriteRequestEncoder();
  // Label bytes are encoded once per series, as a real sender caches them.
  const encoded = defs.map((d) => encodeLabels(d.labels));
  const ts = [0];
  const vs = [0];
  let rawBytes = 0;
  let compressedBytes = 0;
  let minTimeMs = Infinity;
  let maxTimeMs = -Infinity;
  const firstStepMs = opts.endMs - (opts.samples - 1) * opts.stepMs;
  for (let step = 0; step < opts.samples; step++) {
    const base = firstStepMs + step * opts.stepMs;
    for (let g = 0; g < nGroups; g++) {
      const first = g * opts.seriesPerRequest;
      const last = Math.min(opts.series, first + opts.seriesPerRequest);
      for (let i = first; i < last; i++) {
        // Phase offsets shift timestamps back, so nothing lies after endMs.
        const t = base - phase[i]!;
        ts[0] = t;
        vs[0] = model.next(i, step);
        if (t < minTimeMs) minTimeMs = t;
        if (t > maxTimeMs) maxTimeMs = t;
        enc.addSeries(encoded[i]!, ts, vs);
      }
      const raw = enc.finish();
      const body = snappyEncode(raw);
      rawBytes += raw.length;
      compressedBytes += body.length;
      groupRequests[g]!.push(body);
    }
  }
  const groups: RequestGroup[] = groupRequests.map((requests, g) => {
    const firstSeries = g * opts.seriesPerRequest;
    return { firstSeries, seriesCount: Math.min(opts.series, firstSeries + opts.seriesPerRequest) - firstSeries, requests };
  });
  return {
    options: opts,
    labels: defs.map((d) => d.labels),
    groups,
    totalSamples: opts.series * opts.samples,
    totalRequests: nGroups * opts.samples,
    rawBytes,
    compressedBytes,
    minTimeMs,
    maxTimeMs,
  };
}

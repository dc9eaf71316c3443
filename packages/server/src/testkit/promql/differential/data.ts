/**
 * The differential test's data: a small, deterministic set of series covering what PromQL treats
 * specially (counters with resets, gauges with negative and fractional values, classic histograms,
 * series that start late, stop early or are ended by explicit staleness markers, ordinary NaN and
 * ±Inf samples), as remote_write requests that are sent byte for byte to both servers.
 */
import { mulberry32 } from '../../bench/datagen.js';
import { WriteRequestEncoder } from '../../../metrics/remotewrite/proto.js';
import { labelsFrom, type Labels } from '../../../core/model/labels.js';
import { STALE_HI, STALE_LO } from '../../../core/model/value.js';
import { snappyEncode } from '../../../core/util/snappy.js';

/** First sample step (ms). A whole second, so query times are whole seconds relative to it. */
export const T0 = 1_700_000_000_000;
/** Scrape interval of the data (ms). */
export const STEP_MS = 15_000;
/** Number of scrape steps: 0..240 is one hour. */
export const STEPS = 241;
/** The last step's nominal time (ms). */
export const END_MS = T0 + (STEPS - 1) * STEP_MS;

/**
 * Scrape phase per instance, in ms. None is a whole second: query times, ranges, steps and offsets
 * are all whole seconds, so no sample ever lies exactly on a range or lookback boundary. That makes
 * Prometheus 2.42's closed boundaries (`[t-r, t]`) and 3.x's left-open ones (`(t-r, t]`) select the
 * same samples, and the comparison independent of that documented change.
 */
const PHASES: Readonly<Record<string, number>> = {
  'api-0:8080': 500,
  'api-1:8080': 3_250,
  'api-2:8080': 7_750,
  'worker-0:9000': 11_125,
  'worker-1:9000': 1_875,
  'db-0:9187': 13_500,
};

interface Target {
  readonly job: string;
  readonly instance: string;
}

const TARGETS: readonly Target[] = Object.keys(PHASES).map((instance) => ({ job: instance.split('-')[0]!, instance }));
const API = TARGETS.filter((t) => t.job === 'api');
const WORKERS = TARGETS.filter((t) => t.job === 'worker');
const DB = TARGETS.filter((t) => t.job === 'db');

/** Upper bounds of the classic histogram's buckets. */
export const HISTOGRAM_LE = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'] as const;

/**
 * Stands for a staleness marker in generated values. The marker's exact bits are written only when
 * encoding: V8 may canonicalise or quieten a NaN kept in a JS array (0x7ff0…02 becomes 0x7ff8…02 or
 * 0x7ff8…00), and Prometheus recognises only the exact pattern; a quietened marker would be an
 * ordinary NaN sample to Prometheus while Vigil, which ignores the quiet bit, still sees a marker.
 */
export const STALE = 'stale';

/** A generated sample value: a number, a staleness marker, or undefined for no sample. */
export type DiffValue = number | typeof STALE | undefined;

/** One generated series: labels and its values by step (undefined: no sample at that step). */
export interface DiffSeries {
  readonly labels: Labels;
  readonly phaseMs: number;
  readonly values: readonly DiffValue[];
}

/** Rounds to `unit` and strips binary noise, so values print and parse exactly on both sides. */
function q(v: number, unit: number): number {
  return Number((Math.round(v / unit) * unit).toFixed(6));
}

/**
 * Builds every series of the data set. The PRNG is consumed in one fixed order, so the output
 * depends only on `seed`.
 */
export function generateSeries(seed = 42): DiffSeries[] {
  const rnd = mulberry32(seed);
  const out: DiffSeries[] = [];
  const add = (name: string, t: Target, extra: Record<string, string>, values: DiffValue[]): void => {
    out.push({ labels: labelsFrom({ __name__: name, job: t.job, instance: t.instance, ...extra }), phaseMs: PHASES[t.instance]!, values });
  };
  /** A counter: random increments, `resets` restarts from a small value at random steps. */
  const counter = (rate: number, unit: number, resets: number, idle = 0.1): number[] => {
    const resetAt = new Set<number>();
    for (let i = 0; i < resets; i++) resetAt.add(20 + Math.floor(rnd() * (STEPS - 40)));
    let v = q(rate * 200 * (1 + rnd() * 10), unit);
    const vs: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      const inc = rnd() < idle ? 0 : q(rate * (0.2 + 1.6 * rnd()), unit);
      v = resetAt.has(s) ? inc : q(v + inc, unit);
      vs.push(v);
    }
    return vs;
  };
  /** A random-walk gauge around `level`. */
  const gauge = (level: number, wiggle: number, unit: number, min = -Infinity, max = Infinity): number[] => {
    let v = q(level, unit);
    const vs: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      vs.push(v);
      v = q(Math.min(max, Math.max(min, v + wiggle * (rnd() - 0.5) * 2)), unit);
    }
    return vs;
  };
  /** Keeps only the samples of steps in [from, to); the rest become gaps. */
  const window = (vs: readonly DiffValue[], from: number, to: number): DiffValue[] => vs.map((v, s) => (s >= from && s < to ? v : undefined));

  for (const t of API) {
    for (const method of ['GET', 'POST']) {
      for (const code of ['200', '500']) {
        const errors = code === '500';
        add('dt_http_requests_total', t, { method, code }, counter(errors ? 0.7 : 40 * (1 + rnd()), 1, rnd() < 0.4 ? 1 : 0, errors ? 0.5 : 0.05));
      }
    }
  }
  for (const t of TARGETS) {
    for (const mode of ['user', 'system'])
      add('dt_cpu_seconds_total', t, { mode }, counter(mode === 'user' ? 3 : 1, 0.01, t.instance === 'worker-1:9000' ? 2 : 0));
  }
  for (const t of TARGETS) {
    add('dt_temperature_celsius', t, { sensor: 'inlet' }, gauge(15 + rnd() * 15, 0.8, 0.001));
    // Outlets of the workers hover around zero, so abs/sgn/sqrt/ln meet negative values.
    add('dt_temperature_celsius', t, { sensor: 'outlet' }, gauge(t.job === 'worker' ? -1 + rnd() * 2 : 40 + rnd() * 10, 0.6, 0.001));
  }
  for (const t of TARGETS) add('dt_memory_bytes', t, {}, gauge(5e8 + rnd() * 3e9, 2e7, 4096, 1e8));
  for (const t of TARGETS) add('dt_queue_length', t, {}, gauge(3 + Math.floor(rnd() * 10), 3, 1, 0, 40));
  // A classic histogram per API instance and handler: cumulative buckets, _sum and _count. One
  // instance restarts (every bucket resets at the same step, as a real process restart does).
  for (const t of API) {
    for (const handler of ['/cart', '/pay']) {
      const restart = t.instance === 'api-1:8080' && handler === '/pay' ? 150 : -1;
      const mean = handler === '/pay' ? 0.6 : 0.08;
      const buckets: number[][] = HISTOGRAM_LE.map(() => []);
      const sums: number[] = [];
      const cum = HISTOGRAM_LE.map(() => 0);
      let sum = 0;
      // Starting counts, so the histogram has been running for a while.
      const warm = 100 + Math.floor(rnd() * 500);
      for (let s = 0; s < STEPS; s++) {
        if (s === restart) {
          cum.fill(0);
          sum = 0;
        }
        const n = s === 0 ? warm : Math.floor(rnd() * 30);
        for (let k = 0; k < n; k++) {
          // Exponential-ish latencies around the handler's mean.
          const d = -Math.log(1 - rnd()) * mean;
          sum += d;
          for (let b = 0; b < HISTOGRAM_LE.length; b++) if (d <= Number(HISTOGRAM_LE[b] === '+Inf' ? Infinity : HISTOGRAM_LE[b])) cum[b]!++;
        }
        for (let b = 0; b < HISTOGRAM_LE.length; b++) buckets[b]!.push(cum[b]!);
        sums.push(q(sum, 0.0001));
      }
      HISTOGRAM_LE.forEach((le, b) => add('dt_request_duration_seconds_bucket', t, { handler, le }, buckets[b]!));
      add('dt_request_duration_seconds_sum', t, { handler }, sums);
      add('dt_request_duration_seconds_count', t, { handler }, buckets[HISTOGRAM_LE.length - 1]!);
    }
  }
  // Batch workers: worker-0 starts late and stops early without a staleness marker (it goes stale
  // by the lookback delta); worker-1 is ended by an explicit staleness marker and comes back later.
  for (const t of WORKERS) {
    const running = gauge(2, 1.5, 1, 0, 8);
    const processed = counter(5, 1, 0);
    if (t.instance === 'worker-0:9000') {
      add('dt_batch_running', t, {}, window(running, 80, 180));
      add('dt_batch_processed_total', t, {}, window(processed, 80, 180));
    } else {
      const cut = (vs: number[]): DiffValue[] => vs.map((v, s) => (s < 100 ? v : s === 100 ? STALE : s < 140 ? undefined : v));
      add('dt_batch_running', t, {}, cut(running));
      add('dt_batch_processed_total', t, {}, cut(processed));
    }
  }
  // Info metrics for joins; api-2 upgrades mid-way: the old series is marked stale, a new one starts.
  for (const t of TARGETS) {
    const ones = new Array<number>(STEPS).fill(1);
    if (t.instance === 'api-2:8080') {
      add(
        'dt_build_info',
        t,
        { version: '1.0.0' },
        ones.map((v, s) => (s < 120 ? v : s === 120 ? STALE : undefined)),
      );
      add('dt_build_info', t, { version: '1.1.0' }, window(ones, 121, STEPS));
    } else {
      add('dt_build_info', t, { version: t.job === 'db' ? '15.4' : '1.0.0' }, ones);
    }
  }
  // Ordinary NaN and infinities among finite values (not staleness markers: these are real values).
  for (const t of DB) {
    // The steps are chosen so that instant queries (queries.ts) meet each special value.
    add(
      'dt_special',
      t,
      { kind: 'nan' },
      gauge(10, 2, 0.01).map((v, s) => (s % 7 === 0 ? NaN : v)),
    );
    add(
      'dt_special',
      t,
      { kind: 'inf' },
      gauge(10, 2, 0.01).map((v, s) => (s % 11 === 8 ? Infinity : s % 13 === 4 ? -Infinity : v)),
    );
    add('dt_special', t, { kind: 'plain' }, gauge(10, 2, 0.01));
  }
  return out;
}

/** Sample timestamp of `series` at `step`. */
export function sampleTime(series: DiffSeries, step: number): number {
  return T0 + step * STEP_MS + series.phaseMs;
}

/** The staleness marker's bytes as a little-endian double, as they appear in an encoded request. */
export const STALE_BYTES = Buffer.from([STALE_LO, 0, 0, 0, 0, 0, (STALE_HI >>> 16) & 0xff, STALE_HI >>> 24]);

/** Encoded requests and how many staleness markers they carry. */
export interface EncodedData {
  /** Snappy-compressed WriteRequest bodies, one per scrape step, oldest first. */
  readonly bodies: readonly Buffer[];
  /** Staleness markers in the data. */
  readonly staleMarkers: number;
  /** Occurrences of the exact marker bytes in the uncompressed requests (must equal `staleMarkers`). */
  readonly staleMarkerBytes: number;
}

/**
 * One remote_write body per scrape step, oldest first: every series' sample of that step. Sent in
 * this order, no server sees a sample older than one it already has, and Prometheus' head never
 * sees one more than an hour behind its newest.
 */
export function writeRequests(series: readonly DiffSeries[]): EncodedData {
  const enc = new WriteRequestEncoder();
  const ts = new Float64Array(1);
  const vs = new Float64Array(1);
  // The marker's bits are set word by word in the typed array, never passed through a JS number.
  const words = new Uint32Array(vs.buffer);
  const bodies: Buffer[] = [];
  let staleMarkers = 0;
  let staleMarkerBytes = 0;
  for (let s = 0; s < STEPS; s++) {
    for (const x of series) {
      const v = x.values[s];
      if (v === undefined) continue;
      ts[0] = sampleTime(x, s);
      if (v === STALE) {
        words[0] = STALE_LO;
        words[1] = STALE_HI;
        staleMarkers++;
      } else vs[0] = v;
      enc.addSeries(x.labels, ts, vs);
    }
    const raw = enc.finish();
    for (let at = raw.indexOf(STALE_BYTES); at >= 0; at = raw.indexOf(STALE_BYTES, at + 1)) staleMarkerBytes++;
    bodies.push(snappyEncode(raw));
  }
  return { bodies, staleMarkers, staleMarkerBytes };
}

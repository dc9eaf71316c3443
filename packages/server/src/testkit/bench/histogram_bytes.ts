/**
 * Bytes per native-histogram sample on disk in a block, Vigil against Prometheus 2.42, for the same
 * data: seeded latency histograms (exponential schema 3, integer counts, counters that only grow)
 * of `series` series over `samples` steps of 15 s.
 *
 * Vigil: the samples go through a DB's appender (no ingest path hands histograms over yet) and the
 * head is flushed into a block. Prometheus (`--enable-feature=native-histograms`) receives them as
 * remote_write 1.0 histograms and writes its head as a block through the snapshot API. For each,
 * the block's `chunks` and `index` bytes and the samples its meta.json counts.
 *
 *   node packages/server/dist-test/testkit/bench/histogram_bytes.js [series=100] [samples=480]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { DB } from '../../metrics/tsdb/db.js';
import { encodeHistogramWriteRequest } from '../rw_histogram.js';
import { mulberry32 } from './datagen.js';
import { dirSize, httpCall, killAllSync, PEERS, startServer, stopServer, type PeerDef } from './peers.js';

const STEP_MS = 15_000;
/** Steps per remote_write request. */
const STEPS_PER_REQUEST = 20;

interface HistogramSeries {
  labels: Labels;
  hs: FloatHistogram[];
}

/**
 * Latency histograms: per series a typical latency; per step 20–80 observations drawn from a
 * log-normal around it, counted into schema-3 buckets (eight per doubling).
 */
export function latencyHistograms(series: number, samples: number, seed = 42): HistogramSeries[] {
  const rnd = mulberry32(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const empty = FloatHistogram.of({ schema: 3, zeroThreshold: 2 ** -128 });
  const out: HistogramSeries[] = [];
  for (let s = 0; s < series; s++) {
    const mu = Math.log(0.005 + rnd() * 0.3);
    const buckets = new Map<number, number>();
    let count = 0;
    let sum = 0;
    const hs: FloatHistogram[] = [];
    for (let i = 0; i < samples; i++) {
      const n = 20 + Math.floor(rnd() * 60);
      for (let k = 0; k < n; k++) {
        const v = Math.exp(mu + 0.6 * normal());
        const idx = Math.ceil(Math.log2(v) * 8);
        buckets.set(idx, (buckets.get(idx) ?? 0) + 1);
        sum += v;
      }
      count += n;
      hs.push(empty.withBuckets(buckets, new Map(), { count, sum }));
    }
    out.push({ labels: labelsFrom({ __name__: 'http_request_duration_seconds', job: 'api', instance: `api-${s}:8080` }), hs });
  }
  return out;
}

interface BlockBytes {
  chunks: number;
  index: number;
  samples: number;
  blocks: number;
}

/** Sums the chunks and index bytes and meta.json's sample counts of the block directories under `dir`. */
function measureBlocks(dir: string): BlockBytes {
  const out: BlockBytes = { chunks: 0, index: 0, samples: 0, blocks: 0 };
  for (const name of fs.readdirSync(dir)) {
    const meta = path.join(dir, name, 'meta.json');
    if (!fs.existsSync(meta)) continue;
    out.blocks++;
    out.chunks += dirSize(path.join(dir, name, 'chunks'));
    out.index += dirSize(path.join(dir, name, 'index'));
    out.samples += (JSON.parse(fs.readFileSync(meta, 'utf8')) as { stats: { numSamples: number } }).stats.numSamples;
  }
  return out;
}

async function vigilBytes(data: HistogramSeries[], t0: number): Promise<BlockBytes> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nhbytes-'));
  const db = new DB({ dir, maintenanceIntervalMs: 0 });
  try {
    await db.start();
    const refs = data.map(() => 0);
    const samples = data[0]!.hs.length;
    for (let i = 0; i < samples; i++) {
      const a = db.appender();
      data.forEach((s, k) => (refs[k] = a.appendHistogram(refs[k]!, s.labels, t0 + i * STEP_MS, s.hs[i]!)));
      a.commit();
    }
    await db.flush();
    return measureBlocks(path.join(dir, 'blocks'));
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Prometheus with native histograms switched on (the benchmark's Prometheus otherwise). */
const prometheusNative: PeerDef = {
  ...PEERS.prometheus,
  command(dataDir, port, workDir) {
    const c = PEERS.prometheus.command(dataDir, port, workDir);
    return { cmd: c.cmd, args: [...c.args, '--enable-feature=native-histograms'] };
  },
};

async function prometheusBytes(data: HistogramSeries[], t0: number): Promise<BlockBytes> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nhbytes-prom-'));
  const h = await startServer(prometheusNative, work, 60_000);
  try {
    const samples = data[0]!.hs.length;
    for (let from = 0; from < samples; from += STEPS_PER_REQUEST) {
      const to = Math.min(samples, from + STEPS_PER_REQUEST);
      const ts = Array.from({ length: to - from }, (_, i) => t0 + (from + i) * STEP_MS);
      const body = snappyEncode(encodeHistogramWriteRequest(data.map((s) => ({ labels: s.labels, ts, hs: s.hs.slice(from, to) }))));
      const res = await fetch(h.baseUrl + prometheusNative.writePath, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' },
        body,
      });
      if (res.status >= 300) throw new Error(`prometheus remote_write: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    const r = await httpCall('POST', `${h.baseUrl}/api/v1/admin/tsdb/snapshot?skip_head=false`, 60_000);
    const name = (JSON.parse(r.body) as { data?: { name?: string } }).data?.name;
    if (r.status !== 200 || !name) throw new Error(`prometheus snapshot: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    return measureBlocks(path.join(h.dataDir, 'snapshots', name));
  } finally {
    await stopServer(h);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const series = Number(process.argv[2] ?? 100);
  const samples = Number(process.argv[3] ?? 480);
  const data = latencyHistograms(series, samples);
  const buckets = data.reduce((n, s) => n + s.hs[samples - 1]!.positiveBuckets.length, 0) / series;
  // Recent enough for Prometheus' head and Vigil's future bound alike: the last step a minute ago.
  const t0 = Math.floor((Date.now() - 60_000 - samples * STEP_MS) / STEP_MS) * STEP_MS;
  const results = { vigil: await vigilBytes(data, t0), prometheus: await prometheusBytes(data, t0) };
  const load = os.loadavg().map((x) => x.toFixed(2));
  console.log(`${series} series × ${samples} samples (15 s apart), ${buckets.toFixed(1)} buckets per histogram at the end; load average ${load.join(' ')}`);
  for (const [who, b] of Object.entries(results)) {
    const per = (x: number): string => (x / b.samples).toFixed(2).padStart(7);
    console.log(
      `${who.padEnd(10)} samples ${String(b.samples).padStart(7)}  blocks ${b.blocks}  chunks ${String(b.chunks).padStart(9)} B = ${per(b.chunks)} B/sample  index ${String(b.index).padStart(8)} B  chunks+index ${per(b.chunks + b.index)} B/sample`,
    );
  }
  console.log(JSON.stringify({ series, samples, buckets, load, ...results }));
}

process.on('exit', killAllSync);
main().catch((err: unknown) => {
  console.error(err);
  killAllSync();
  process.exit(1);
});

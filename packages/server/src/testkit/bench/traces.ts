/**
 * Trace store benchmark: `node packages/server/dist-test/testkit/bench/traces.js [--spans N] [--quick] [--page-spans N] [--generator]`.
 *
 * With `--generator` the metrics generator (span metrics and service graph, default options) listens
 * to the store as in the server, and flushes after every 15 requests into an output that only counts
 * the samples: its CPU is inside the timed ingest (the TSDB's append of the flushed samples is not).
 *
 * Generates traces shaped like the demo's (testkit/tracegen.ts: about 10 spans per trace across 2 to
 * 5 services, 15 to 25 attributes per span, some errors), encodes them as OTLP protobuf export
 * requests of about 1000 spans (not timed) and writes them as uncompressed OTLP/JSON to a raw file
 * (for `grep -F`). Then measures the ingest path a `POST /v1/traces` takes after the body is read
 * (protobuf decode, limits, admission, WAL, head, block cuts): spans per CPU second of the process
 * (process.cpuUsage over those calls; the store runs no worker threads) and per wall second; bytes
 * per span on disk (blocks and WAL, after the last cut); trace by id (median of 100 ids, new
 * store: cold pages); a search for `{ resource.service.name = "shop" && status = error }` over
 * the last hour, first 20 traces (the store's service hint, then the status filter, as TraceQL
 * will do it); and `grep -F` of a trace id over the raw OTLP/JSON.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_TRACE_LIMITS } from '../../traces/ingest/limits.js';
import { decodeOtlpTracesProto } from '../../traces/ingest/otlp.js';
import { encodeTracesData, toOtlpJson } from '../../traces/ingest/otlp_encode.js';
import { TraceStore } from '../../traces/store/store.js';
import { defaultMetricsGeneratorOptions, MetricsGenerator } from '../../traces/generators/index.js';
import type { Span } from '../../traces/storage/types.js';
import { demoTrace, rng } from '../tracegen.js';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string' },
    quick: { type: 'boolean' },
    generator: { type: 'boolean' },
    keep: { type: 'boolean' },
    'page-spans': { type: 'string' },
  },
});
const pageMaxSpans = args['page-spans'] ? Number(args['page-spans']) : undefined;
const N = Number(args.spans ?? (args.quick ? 200_000 : 1_000_000));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tracebench-'));
const storeDir = path.join(dir, 'traces');
const rawFile = path.join(dir, 'raw.json');
const rawFd = fs.openSync(rawFile, 'w');
const nowMs = Date.now();
// The traces fill the last 50 minutes, oldest first, as a live system would see them.
const spanEvery = (50n * 60n * 1_000_000_000n) / BigInt(N);
const t0 = BigInt(nowMs) * 1_000_000n - 50n * 60n * 1_000_000_000n;
const limits = { ...DEFAULT_TRACE_LIMITS, maxSpansPerTrace: 0 };
const store = new TraceStore({ dir: storeDir, tickIntervalMs: 0, blockMaxSpans: 100_000, ...(pageMaxSpans ? { pageMaxSpans } : {}) });
store.start();
let generatedSamples = 0;
const generator = args.generator
  ? new MetricsGenerator(defaultMetricsGeneratorOptions(), {
      write: (_ts, samples) => {
        generatedSamples += samples.length;
      },
    })
  : undefined;
if (generator) store.onAccepted((s) => generator.push(s));

const r = rng(20261202);
const ids: string[] = [];
let spans = 0;
let requests = 0;
let rawBytes = 0;
let cpuUs = 0;
let wallNs = 0n;
while (spans < N) {
  const batch: Span[] = [];
  while (batch.length < 1000 && spans + batch.length < N) {
    const t = demoTrace(r, t0 + BigInt(spans + batch.length) * spanEvery);
    batch.push(...t);
    if (ids.length < 100_000) ids.push(t[0]!.traceId);
  }
  const body = encodeTracesData(batch);
  const raw = JSON.stringify({ resourceSpans: toOtlpJson(batch) }) + '\n';
  fs.writeSync(rawFd, raw);
  rawBytes += Buffer.byteLength(raw);
  const c0 = process.cpuUsage();
  const w0 = process.hrtime.bigint();
  const decoded = decodeOtlpTracesProto(body, limits);
  const res = store.append(decoded.spans);
  if (generator && requests % 15 === 14) generator.flush();
  wallNs += process.hrtime.bigint() - w0;
  const c1 = process.cpuUsage(c0);
  cpuUs += c1.user + c1.system;
  if (res.accepted !== batch.length) throw new Error(`accepted ${res.accepted} of ${batch.length}: ${res.reasons.join('; ')}`);
  spans += batch.length;
  requests++;
}
fs.closeSync(rawFd);
const c0 = process.cpuUsage();
store.cut();
const cutCpu = process.cpuUsage(c0);
cpuUs += cutCpu.user + cutCpu.system;
store.stop();

const du = (d: string): number => {
  let n = 0;
  for (const f of fs.readdirSync(d, { withFileTypes: true })) n += f.isDirectory() ? du(path.join(d, f.name)) : fs.statSync(path.join(d, f.name)).size;
  return n;
};
const diskBytes = du(storeDir);

// Reads from a store opened anew: nothing cached.
const reader = new TraceStore({ dir: storeDir, tickIntervalMs: 0 });
reader.start();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pick = rng(7);
const lookups: number[] = [];
for (let i = 0; i < 100; i++) {
  const id = ids[Math.floor(pick() * ids.length)]!;
  const a = process.hrtime.bigint();
  const got = reader.trace(id);
  lookups.push(Number(process.hrtime.bigint() - a) / 1e6);
  if (got.length < 8) throw new Error(`trace ${id}: ${got.length} spans`);
}
const searches: number[] = [];
let found = 0;
for (let run = 0; run < 3; run++) {
  const a = process.hrtime.bigint();
  const out: Span[][] = [];
  const endNs = BigInt(nowMs) * 1_000_000n;
  for (const t of reader.search({ start: endNs - 3_600_000_000_000n, end: endNs + 1n, service: 'shop' })) {
    if (t.some((s) => s.status.code === 'error' && s.resource['service.name'] === 'shop')) out.push(t);
    if (out.length >= 20) break;
  }
  searches.push(Number(process.hrtime.bigint() - a) / 1e6);
  found = out.length;
}
reader.stop();
const target = ids[Math.floor(ids.length / 2)]!;
const greps: number[] = [];
for (let run = 0; run < 3; run++) {
  const a = process.hrtime.bigint();
  const g = spawnSync('grep', ['-F', '-c', target, rawFile]);
  greps.push(Number(process.hrtime.bigint() - a) / 1e6);
  if (g.status !== 0) throw new Error(`grep found nothing: ${g.stderr.toString()}`);
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`trace benchmark: ${fmt(spans)} demo-shaped spans in ${fmt(requests)} OTLP protobuf requests`);
console.log(
  `  ingest: ${fmt(spans / (cpuUs / 1e6))} spans per CPU second, ${fmt(spans / (Number(wallNs) / 1e9))} per wall second (decode + append + block cuts${generator ? ' + metrics generator' : ''})`,
);
if (generator) {
  const st = generator.stats();
  console.log(`  metrics generator: ${fmt(st.activeSeries)} series, ${fmt(generatedSamples)} samples flushed, ${fmt(st.pendingEdges)} edges waiting`);
}
console.log(
  `  on disk: ${fmt(diskBytes)} bytes, ${fmt(diskBytes / spans, 1)} bytes per span (raw OTLP/JSON: ${fmt(rawBytes / spans, 1)} bytes per span, ${fmt(rawBytes / diskBytes, 1)}x)`,
);
console.log(`  trace by id: median ${fmt(median(lookups), 2)} ms (max ${fmt(Math.max(...lookups), 2)} ms) over 100 ids`);
console.log(`  search service=shop && status=error, last hour, first 20: median ${fmt(median(searches), 1)} ms (${found} traces)`);
console.log(`  grep -F of one trace id over the raw OTLP/JSON (${fmt(rawBytes / 1e6)} MB): median ${fmt(median(greps), 1)} ms`);
if (!args.keep) fs.rmSync(dir, { recursive: true, force: true });
else console.log(`  kept ${dir}`);

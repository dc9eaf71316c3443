/**
 * OTLP metrics ingest against remote_write 1.0 ingest, per CPU second of the server, on the same
 * data points: `node packages/server/dist-test/testkit/bench/otlp_metrics.js [--series N] [--steps N] [--quick] [--cpu-prof DIR]`.
 *
 * The data: N series (20 gauge metrics × N/20 label sets of 3 labels, job and instance from the
 * resource), each with one point every 15 s for `steps` steps. Each step is one request holding
 * its half of the series' points (two senders), as an OTel SDK exports and as Prometheus batches: remote_write as
 * snappy-compressed WriteRequests, OTLP as protobuf ExportMetricsServiceRequests (plain, an SDK's
 * default, and gzip, a collector's). All bodies are encoded before the clock starts; each protocol
 * gets a fresh `vigil start` child on an empty data directory, and its CPU is read from /proc
 * before and after the sends. Both stores end with the same series and samples (checked).
 */
import * as fs from 'node:fs';
import http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { labelsFrom } from '../../core/model/labels.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { WriteRequestEncoder } from '../../metrics/remotewrite/proto.js';
import { exited, freePort, spawnVigil } from '../helpers.js';
import { encodeMetricsRequest, type EncMetric } from '../otlp_metrics_encode.js';
import { positiveInt } from './cli.js';
import { REPO_ROOT, writeJson } from './report.js';
import { cpuSeconds } from './procstat.js';

const { values: args } = parseArgs({
  options: { series: { type: 'string' }, steps: { type: 'string' }, quick: { type: 'boolean' }, 'cpu-prof': { type: 'string' } },
});
const SERIES = positiveInt('--series', args.series, 2000);
const STEPS = positiveInt('--steps', args.steps, args.quick ? 60 : 300);
const METRICS = 20;
const PER_METRIC = Math.max(1, Math.floor(SERIES / METRICS));
const STEP_MS = 15_000;
const start = Math.floor(Date.now() / STEP_MS) * STEP_MS - STEPS * STEP_MS;
const RESOURCE: Array<[string, string]> = [
  ['service.name', 'bench'],
  ['service.instance.id', 'host-1:9100'],
];

function attrsOf(i: number): Array<[string, string]> {
  return [
    ['device', `dev${i % 16}`],
    ['mode', `m${Math.floor(i / 16) % 8}`],
    ['zone', `z${Math.floor(i / 128)}`],
  ];
}
const valueOf = (m: number, i: number, step: number): number => ((m * 7919 + i * 104729 + step * 31) % 100_000) / 7;

// Two shards of the metrics, one per sender, so each sender's requests are in step order.
const SHARDS = 2;
const rwBodies: Buffer[][] = [[], []];
const otlpBodies: Buffer[][] = [[], []];
for (let s = 0; s < STEPS; s++) {
  const t = start + s * STEP_MS;
  for (let shard = 0; shard < SHARDS; shard++) {
    const rw = new WriteRequestEncoder();
    const metrics: EncMetric[] = [];
    for (let m = shard; m < METRICS; m += SHARDS) {
      const name = `bench_metric_${m}`;
      const points = [];
      for (let i = 0; i < PER_METRIC; i++) {
        const attrs = attrsOf(i);
        const v = valueOf(m, i, s);
        points.push({ attrs, timeMs: t, value: v });
        rw.addSeries(labelsFrom({ __name__: name, job: 'bench', instance: 'host-1:9100', ...Object.fromEntries(attrs) }), [t], [v]);
      }
      metrics.push({ name, points });
    }
    rwBodies[shard]!.push(snappyEncode(rw.finish()));
    otlpBodies[shard]!.push(encodeMetricsRequest(RESOURCE, metrics));
  }
}
const gzBodies = otlpBodies.map((shard) => shard.map((b) => gzipSync(b)));
const POINTS = STEPS * METRICS * PER_METRIC;

const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
function post(url: string, headers: Record<string, string | number>, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Run {
  name: string;
  cpuS: number;
  wallS: number;
  bytes: number;
}

async function run(name: string, pathName: string, headers: Record<string, string>, bodies: Buffer[][], ok: number): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-otlpbench-'));
  // --cpu-prof DIR: each server writes a V8 CPU profile there when it stops; the heap limit makes
  // bin/vigil.js run the server on its main thread, the one profiled.
  const profArgs = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['cpu-prof'])}`, '--max-old-space-size=4096'] : [];
  const v = await spawnVigil(dir, await freePort(), [], process.env, profArgs);
  try {
    const pid = v.proc.pid!;
    const cpu0 = cpuSeconds(pid);
    const wall0 = performance.now();
    const sender = async (shard: Buffer[]): Promise<void> => {
      for (const [i, body] of shard.entries()) {
        const res = await post(`${v.url}${pathName}`, headers, body);
        if (res.status !== ok) throw new Error(`${name}: request ${i}: ${res.status} ${res.body.slice(0, 300)}`);
        if (ok === 200 && res.body.length > 0) throw new Error(`${name}: request ${i}: partial success ${res.body.slice(0, 300)}`);
      }
    };
    await Promise.all(bodies.map(sender));
    const wallS = (performance.now() - wall0) / 1000;
    const cpuS = cpuSeconds(pid) - cpu0;
    // Same series, same samples: the count of stored points must be every data point sent.
    const q = await fetch(`${v.url}/api/v1/query?query=${encodeURIComponent('sum(count_over_time({__name__=~"bench_metric_.*"}[1d]))')}`);
    const got = Number(((await q.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1] ?? 0);
    if (got !== POINTS) throw new Error(`${name}: stored ${got} samples, sent ${POINTS}`);
    return { name, cpuS, wallS, bytes: bodies.flat().reduce((n, b) => n + b.length, 0) };
  } finally {
    v.proc.kill('SIGTERM');
    await exited(v.proc);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const startedAt = new Date();
const runs: Run[] = [];
runs.push(
  await run('remote_write 1.0 (snappy protobuf)', '/api/v1/write', { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }, rwBodies, 204),
);
runs.push(await run('OTLP/HTTP protobuf', '/v1/metrics', { 'content-type': 'application/x-protobuf' }, otlpBodies, 200));
runs.push(await run('OTLP/HTTP protobuf, gzip', '/v1/metrics', { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, gzBodies, 200));
agent.destroy();

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(
  `OTLP metrics vs remote_write 1.0 ingest: ${fmt(POINTS)} data points (${METRICS * PER_METRIC} series × ${STEPS} steps), one request per step and sender, 2 senders`,
);
const rw = runs[0]!;
for (const r of runs)
  console.log(
    `  ${r.name.padEnd(36)} server ${fmt(r.cpuS, 2)} CPU s = ${fmt(POINTS / r.cpuS)} points per CPU second (${fmt((r.cpuS * 1e6) / POINTS, 2)} µs per point); ` +
      `${fmt(r.bytes / POINTS, 1)} bytes per point on the wire; ${fmt(POINTS / r.wallS)} per wall second; ${fmt(rw.cpuS / r.cpuS, 2)}x remote_write's rate`,
  );
writeJson(REPO_ROOT, 'otlp_metrics', startedAt, {
  points: POINTS,
  runs: runs.map((r) => ({
    name: r.name,
    serverCpuSeconds: r.cpuS,
    pointsPerCpuSecond: POINTS / r.cpuS,
    bytesPerPoint: r.bytes / POINTS,
    ratioToRemoteWrite: rw.cpuS / r.cpuS,
  })),
});

/**
 * OTLP metrics ingest against remote_write 1.0 ingest, per CPU second of the server, on the same
 * data points: `node packages/server/dist-test/testkit/bench/otlp_metrics.js [--series N] [--steps N] [--rounds N] [--quick] [--cpu-prof DIR]`.
 *
 * The data (./otlp_metrics_data.ts): N series (20 gauge metrics × N/20 label sets of 3 labels, job
 * and instance from the resource), each with one point every 15 s for `steps` steps. Each step is
 * one request holding its half of the series' points (two senders), as an OTel SDK exports and as
 * Prometheus batches: remote_write as snappy-compressed WriteRequests, OTLP as protobuf
 * ExportMetricsServiceRequests (plain, an SDK's default, and gzip, a collector's) and as OTLP/JSON.
 * All bodies are encoded before the clock starts; each protocol gets a fresh `vigil start` child
 * on an empty data directory, and its CPU is read from /proc before and after the sends. Both
 * stores end with the same series and samples (checked). With `--rounds N` the protocols take
 * turns N times and each one's median is reported, so a busy neighbour weighs on all of them.
 * With `--paired STEPS` one server per protocol runs throughout instead: they take turns at STEPS
 * steps of requests, each one's CPU summed over its turns but the first (JIT warm-up and the
 * series' creation), so load that comes and goes falls on every protocol alike.
 */
import * as fs from 'node:fs';
import http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { exited, freePort, spawnVigil } from '../helpers.js';
import { positiveInt } from './cli.js';
import { benchBodies } from './otlp_metrics_data.js';
import { REPO_ROOT, writeJson } from './report.js';
import { cpuSeconds } from './procstat.js';

const { values: args } = parseArgs({
  options: {
    series: { type: 'string' },
    steps: { type: 'string' },
    rounds: { type: 'string' },
    paired: { type: 'string' },
    quick: { type: 'boolean' },
    'cpu-prof': { type: 'string' },
  },
});
const SERIES = positiveInt('--series', args.series, 2000);
const STEPS = positiveInt('--steps', args.steps, args.quick ? 60 : 300);
const ROUNDS = positiveInt('--rounds', args.rounds, 1);
const PAIRED = args.paired === undefined ? 0 : positiveInt('--paired', args.paired, 1);
if (PAIRED >= STEPS) throw new Error(`--paired ${PAIRED}: want fewer steps per turn than --steps (${STEPS})`);
const data = benchBodies(SERIES, STEPS);
const POINTS = data.points;
const SERIES_SENT = POINTS / STEPS;

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

/** Sends steps [from, to) of each sender's requests, the senders side by side. */
async function sendSteps(name: string, url: string, headers: Record<string, string>, bodies: Buffer[][], ok: number, from: number, to: number): Promise<void> {
  const sender = async (shard: Buffer[]): Promise<void> => {
    for (let i = from; i < to; i++) {
      const res = await post(url, headers, shard[i]!);
      if (res.status !== ok) throw new Error(`${name}: request ${i}: ${res.status} ${res.body.slice(0, 300)}`);
      // A reply with partial_success is longer than an empty message (protobuf) or `{}` (JSON).
      if (ok === 200 && res.body.length > 2) throw new Error(`${name}: request ${i}: partial success ${res.body.slice(0, 300)}`);
    }
  };
  await Promise.all(bodies.map(sender));
}

/** Same series, same samples: the count of stored points must be every data point sent. */
async function checkStored(name: string, url: string): Promise<void> {
  const q = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('sum(count_over_time({__name__=~"bench_metric_.*"}[1d]))')}`);
  const got = Number(((await q.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1] ?? 0);
  if (got !== POINTS) throw new Error(`${name}: stored ${got} samples, sent ${POINTS}`);
}

async function startServer(): Promise<{ dir: string; v: Awaited<ReturnType<typeof spawnVigil>> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-otlpbench-'));
  // --cpu-prof DIR: each server writes a V8 CPU profile there when it stops; the heap limit makes
  // bin/vigil.js run the server on its main thread, the one profiled.
  const profArgs = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['cpu-prof'])}`, '--max-old-space-size=4096'] : [];
  return { dir, v: await spawnVigil(dir, await freePort(), [], process.env, profArgs) };
}

async function stopServer(s: { dir: string; v: Awaited<ReturnType<typeof spawnVigil>> }): Promise<void> {
  s.v.proc.kill('SIGTERM');
  await exited(s.v.proc);
  fs.rmSync(s.dir, { recursive: true, force: true });
}

async function run(name: string, pathName: string, headers: Record<string, string>, bodies: Buffer[][], ok: number): Promise<Run> {
  const server = await startServer();
  try {
    const pid = server.v.proc.pid!;
    const cpu0 = cpuSeconds(pid);
    const wall0 = performance.now();
    await sendSteps(name, `${server.v.url}${pathName}`, headers, bodies, ok, 0, STEPS);
    const wallS = (performance.now() - wall0) / 1000;
    const cpuS = cpuSeconds(pid) - cpu0;
    await checkStored(name, server.v.url);
    return { name, cpuS, wallS, bytes: bodies.flat().reduce((n, b) => n + b.length, 0) };
  } finally {
    await stopServer(server);
  }
}

/** `--paired`: every protocol's server at once, taking turns (see the top of this file). */
async function paired(): Promise<Run[]> {
  const servers: Array<Awaited<ReturnType<typeof startServer>>> = [];
  try {
    for (let i = 0; i < PROTOCOLS.length; i++) servers.push(await startServer());
    const runs: Run[] = PROTOCOLS.map(([name, , , bodies]) => ({ name, cpuS: 0, wallS: 0, bytes: bodies.flat().reduce((n, b) => n + b.length, 0) }));
    for (let from = 0; from < STEPS; from += PAIRED) {
      for (const [i, [name, pathName, headers, bodies, ok]] of PROTOCOLS.entries()) {
        const pid = servers[i]!.v.proc.pid!;
        const cpu0 = cpuSeconds(pid);
        const wall0 = performance.now();
        await sendSteps(name, `${servers[i]!.v.url}${pathName}`, headers, bodies, ok, from, Math.min(STEPS, from + PAIRED));
        if (from === 0) continue;
        runs[i]!.wallS += (performance.now() - wall0) / 1000;
        runs[i]!.cpuS += cpuSeconds(pid) - cpu0;
      }
    }
    for (const [i, [name]] of PROTOCOLS.entries()) await checkStored(name, servers[i]!.v.url);
    return runs;
  } finally {
    for (const s of servers) await stopServer(s);
  }
}

const PROTOCOLS: Array<[name: string, path: string, headers: Record<string, string>, bodies: Buffer[][], ok: number]> = [
  ['remote_write 1.0 (snappy protobuf)', '/api/v1/write', { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }, data.rw, 204],
  ['OTLP/HTTP protobuf', '/v1/metrics', { 'content-type': 'application/x-protobuf' }, data.otlp, 200],
  ['OTLP/HTTP protobuf, gzip', '/v1/metrics', { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, data.gzip, 200],
  ['OTLP/HTTP JSON', '/v1/metrics', { 'content-type': 'application/json' }, data.json, 200],
];
const startedAt = new Date();
const rounds: Run[][] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (PAIRED > 0) {
    rounds.push(await paired());
    continue;
  }
  const round: Run[] = [];
  for (const [name, pathName, headers, bodies, ok] of PROTOCOLS) round.push(await run(name, pathName, headers, bodies, ok));
  rounds.push(round);
}
/** The points the CPU figures cover: with --paired, all but the first turn's. */
const MEASURED = PAIRED > 0 ? (STEPS - PAIRED) * SERIES_SENT : POINTS;
agent.destroy();

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `OTLP metrics vs remote_write 1.0 ingest: ${fmt(POINTS)} data points (${SERIES_SENT} series × ${STEPS} steps), one request per step and sender, 2 senders` +
    (ROUNDS > 1 ? `; median of ${ROUNDS} rounds` : '') +
    (PAIRED > 0 ? `; servers side by side, turns of ${PAIRED} steps, the first left out (${fmt(MEASURED)} points measured)` : ''),
);
// Per protocol: the median CPU and wall time over the rounds; its ratio to remote_write is the median of each round's ratio.
const runs = PROTOCOLS.map(([name], i) => {
  const of = rounds.map((round) => round[i]!);
  return {
    name,
    cpuS: median(of.map((r) => r.cpuS)),
    wallS: median(of.map((r) => r.wallS)),
    bytes: of[0]!.bytes,
    ratios: rounds.map((round) => round[0]!.cpuS / round[i]!.cpuS),
  };
});
for (const r of runs)
  console.log(
    `  ${r.name.padEnd(36)} server ${fmt(r.cpuS, 2)} CPU s = ${fmt(MEASURED / r.cpuS)} points per CPU second (${fmt((r.cpuS * 1e6) / MEASURED, 2)} µs per point); ` +
      `${fmt(r.bytes / POINTS, 1)} bytes per point on the wire; ${fmt(MEASURED / r.wallS)} per wall second; ${fmt(median(r.ratios), 2)}x remote_write's rate` +
      (ROUNDS > 1 ? ` (rounds: ${r.ratios.map((x) => fmt(x, 2)).join(', ')})` : ''),
  );
writeJson(REPO_ROOT, 'otlp_metrics', startedAt, {
  points: MEASURED,
  rounds: ROUNDS,
  pairedSteps: PAIRED,
  runs: runs.map((r) => ({
    name: r.name,
    serverCpuSeconds: r.cpuS,
    pointsPerCpuSecond: MEASURED / r.cpuS,
    bytesPerPoint: r.bytes / POINTS,
    ratioToRemoteWrite: median(r.ratios),
  })),
});

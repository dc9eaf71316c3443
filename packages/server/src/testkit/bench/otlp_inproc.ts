/**
 * In-process driver of the OTLP metrics benchmark (./otlp_metrics.ts): the same bodies handed
 * straight to the remote_write receiver and the OTLP ingestor, each protocol into its own fresh
 * TSDB, timed by this process's CPU time (all threads: remote_write's snappy worker too). No HTTP,
 * so it shows the receivers' own costs, and where OTLP's go (decode, translate, append):
 *
 *   node [--cpu-prof --cpu-prof-dir=/tmp/prof] packages/server/dist-test/testkit/bench/otlp_inproc.js [--series N] [--steps N] [--rounds N] [--only rw,otlp,gzip,json]
 *
 * Rounds alternate the protocols, so a neighbour's load falls on all of them; medians are printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { decodeMetricsProto } from '../../metrics/otlp/decode_proto.js';
import { OtlpMetricsIngestor } from '../../metrics/otlp/ingest.js';
import { PointPool } from '../../metrics/otlp/model.js';
import { Translator, DEFAULT_TRANSLATION } from '../../metrics/otlp/translate.js';
import { RemoteWriteReceiver } from '../../metrics/remotewrite/receiver.js';
import { DB } from '../../metrics/tsdb/db.js';
import { positiveInt } from './cli.js';
import { benchBodies, SHARDS } from './otlp_metrics_data.js';

const { values: args } = parseArgs({
  options: { series: { type: 'string' }, steps: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' } },
});
const SERIES = positiveInt('--series', args.series, 2000);
const STEPS = positiveInt('--steps', args.steps, 300);
const ROUNDS = positiveInt('--rounds', args.rounds, 5);
const data = benchBodies(SERIES, STEPS);

/** Each sender's bodies in the order the two senders' requests interleave. */
function interleaved(bodies: Buffer[][]): Buffer[] {
  const out: Buffer[] = [];
  for (let s = 0; s < bodies[0]!.length; s++) for (let shard = 0; shard < SHARDS; shard++) out.push(bodies[shard]![s]!);
  return out;
}

type Case = (db: DB) => Promise<void>;
const CASES: Record<string, Case> = {
  rw: async (db) => {
    const r = new RemoteWriteReceiver(db);
    r.start();
    for (const b of interleaved(data.rw)) await r.write(b, 'snappy');
    await r.stop();
  },
  otlp: async (db) => {
    const ing = new OtlpMetricsIngestor(db);
    for (const b of interleaved(data.otlp)) check(ing.ingest(b, 'protobuf'));
  },
  gzip: async (db) => {
    const ing = new OtlpMetricsIngestor(db);
    for (const b of interleaved(data.gzip)) check(ing.ingest(gunzipSync(b), 'protobuf'));
  },
  json: async (db) => {
    const ing = new OtlpMetricsIngestor(db);
    for (const b of interleaved(data.json)) check(ing.ingest(b, 'json'));
  },
  // The stages of `otlp` alone, with the ingestor's point pool: decoding, and decoding with translation (nothing stored).
  'otlp-decode': async () => {
    const pool = new PointPool();
    for (const b of interleaved(data.otlp)) {
      pool.reset();
      decodeMetricsProto(b, pool);
    }
  },
  'otlp-translate': async () => {
    const pool = new PointPool();
    const tr = new Translator(DEFAULT_TRANSLATION);
    for (const b of interleaved(data.otlp)) {
      pool.reset();
      tr.translate(decodeMetricsProto(b, pool));
    }
  },
};

function check(r: { rejected: number; message: string }): void {
  if (r.rejected > 0) throw new Error(`refused: ${r.message}`);
}

const only = args.only?.split(',') ?? ['rw', 'otlp', 'gzip', 'json', 'otlp-decode', 'otlp-translate'];
const cpu = new Map<string, number[]>(only.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++)
  for (const name of only) {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-otlpinproc-'));
    const db = new DB({ dir, maintenanceIntervalMs: 0 });
    await db.start();
    try {
      const c0 = process.cpuUsage();
      await CASES[name]!(db);
      const c = process.cpuUsage(c0);
      cpu.get(name)!.push((c.user + c.system) / 1e6);
    } finally {
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rw = cpu.has('rw') ? median(cpu.get('rw')!) : undefined;
console.log(`${data.points} data points (${SERIES} series × ${STEPS} steps), ${ROUNDS} rounds, CPU seconds of this process`);
for (const [name, xs] of cpu) {
  const m = median(xs);
  const ratio = rw !== undefined ? `; ${(rw / m).toFixed(2)}x remote_write's rate` : '';
  console.log(
    `  ${name.padEnd(15)} median ${m.toFixed(3)} s (${((m * 1e6) / data.points).toFixed(2)} µs per point), runs ${xs.map((x) => x.toFixed(2)).join(' ')}${ratio}`,
  );
}

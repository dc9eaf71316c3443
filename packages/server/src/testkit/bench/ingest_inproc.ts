/**
 * In-process driver of the ingest benchmark: the same encoded remote_write bodies (datagen) handed
 * to a {@link RemoteWriteReceiver} over a real TSDB (WAL included), without HTTP, and timed by the
 * process' CPU time (every thread: the decompression worker too). For before/after comparisons of
 * the receive path and for profiling it:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof packages/server/dist-test/testkit/bench/ingest_inproc.js
 *
 * `--series N` (20000), `--samples N` (60), `--series-per-request N` (2000), `--rounds N` (3: the
 * data set is sent into a fresh store that many times; each round's figure is printed, the
 * first warms the JIT), `--inline` (decompress on the main thread: the receiver's worker is not started).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RemoteWriteReceiver } from '../../metrics/remotewrite/receiver.js';
import { DB } from '../../metrics/tsdb/db.js';
import { positiveInt } from './cli.js';
import { defaultEndMs, generateDataset, type Dataset } from './datagen.js';

/**
 * Sends every request of `data` as the HTTP bench's senders order them: group by group in turn.
 * One at a time: a server handles its concurrent requests' bodies one after another too, each
 * decoded and appended in one go.
 */
async function sendAll(receiver: RemoteWriteReceiver, data: Dataset): Promise<number> {
  let samples = 0;
  const longest = Math.max(...data.groups.map((g) => g.requests.length));
  for (let i = 0; i < longest; i++) {
    for (const g of data.groups) if (i < g.requests.length) samples += (await receiver.write(g.requests[i]!, 'snappy')).samples;
  }
  return samples;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      series: { type: 'string' },
      samples: { type: 'string' },
      'series-per-request': { type: 'string' },
      rounds: { type: 'string' },
      inline: { type: 'boolean' },
    },
  });
  const stepMs = 15_000;
  const data = generateDataset({
    series: positiveInt('--series', values.series, 20_000),
    samples: positiveInt('--samples', values.samples, 60),
    seriesPerRequest: positiveInt('--series-per-request', values['series-per-request'], 2000),
    stepMs,
    endMs: defaultEndMs(Date.now(), stepMs),
    seed: 1,
  });
  const rounds = positiveInt('--rounds', values.rounds, 3);
  for (let round = 1; round <= rounds; round++) {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-ingest-inproc-'));
    const db = new DB({ dir, maintenanceIntervalMs: 0 });
    await db.start();
    const receiver = new RemoteWriteReceiver(db);
    if (!values.inline) receiver.start();
    try {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const samples = await sendAll(receiver, data);
      const cpu = process.cpuUsage(cpu0);
      const wallS = (performance.now() - t0) / 1000;
      const cpuS = (cpu.user + cpu.system) / 1e6;
      if (samples !== data.totalSamples) throw new Error(`${samples} samples acknowledged of ${data.totalSamples}`);
      console.log(
        `round ${round}: ${samples} samples, CPU ${cpuS.toFixed(2)} s (${((cpuS / samples) * 1e6).toFixed(3)} µs/sample), wall ${wallS.toFixed(2)} s`,
      );
    } finally {
      await receiver.stop();
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});

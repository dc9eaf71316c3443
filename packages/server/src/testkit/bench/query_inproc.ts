/**
 * In-process driver of the query benchmark's queries: the same data (datagen + the histogram
 * family) appended straight into a TSDB head, then each query run through the engine and the
 * API's JSON encoding, timed by CPU time of this thread (steadier than wall time on a busy
 * machine). For before/after comparisons of engine changes and for `--cpu-prof`:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof packages/server/dist-test/testkit/bench/query_inproc.js --reps 10
 *
 * `--series N` (10000), `--reps N` (10), `--only name,…` (query names as in query.ts, prefix match).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeSnappyInto } from '../../core/util/snappy.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { toApiJson } from '../../metrics/promql/engine/value.js';
import { decodeLabels, decodeWriteRequest } from '../../metrics/remotewrite/proto.js';
import { DB } from '../../metrics/tsdb/db.js';
import type { Labels } from '../../core/model/labels.js';
import type { SeriesRef } from '../../metrics/storage/interface.js';
import { defaultEndMs, generateDataset } from './datagen.js';
import { QUERIES } from './query_set.js';
import { queryJsonChunks, writtenInPieces } from '../../server/api/query_json.js';
import { withHistogram } from './query_histogram.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { series: { type: 'string' }, reps: { type: 'string' }, only: { type: 'string' } } });
  const series = Number(values.series ?? 10_000);
  const reps = Number(values.reps ?? 10);
  const only = values.only?.split(',').filter((s) => s !== '');
  const stepMs = 15_000;
  const endMs = defaultEndMs(Date.now(), stepMs);
  const data = withHistogram(generateDataset({ series, samples: 260, seriesPerRequest: 1000, stepMs, endMs, seed: 1 }), 20);
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-qinproc-'));
  const db = new DB({ dir, maintenanceIntervalMs: 0 });
  await db.start();
  try {
    const refs = new Map<string, SeriesRef>();
    const cur: { labels: Labels[] } = { labels: [] };
    for (const g of data.groups)
      for (const body of g.requests) {
        const app = db.appender();
        cur.labels = [];
        decodeWriteRequest(decodeSnappyInto(body, undefined), {
          series: (buf, s, e, labels) => cur.labels.push(labels ?? decodeLabels(buf, s, e)) - 1,
          sample: (h, t, v) => {
            const labels = cur.labels[h]!;
            const k = JSON.stringify(labels);
            refs.set(k, app.append(refs.get(k) ?? 0, labels, t, v));
          },
        });
        app.commit();
      }
    const engine = new Engine();
    const endS = Math.floor(data.maxTimeMs / 1000);
    let total = 0;
    for (const q of QUERIES) {
      if (only !== undefined && !only.some((o) => q.name.startsWith(o))) continue;
      const run = async (): Promise<void> => {
        const r =
          q.kind === 'instant'
            ? await engine.instantQueryAsync(db, q.expr, endS * 1000)
            : await engine.rangeQueryAsync(db, q.expr, (endS - 3600) * 1000, endS * 1000, 15_000);
        // Encoded as the API sends it: a large result in pieces, a small one in one string.
        if (writtenInPieces(r.result)) for await (const piece of queryJsonChunks(r.result, r.warnings, undefined)) void piece;
        else JSON.stringify(toApiJson(r.result));
      };
      await run();
      await run();
      const cpu: number[] = [];
      for (let i = 0; i < reps; i++) {
        const c0 = process.cpuUsage();
        await run();
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1000);
      }
      cpu.sort((a, b) => a - b);
      const med = cpu[Math.floor(cpu.length / 2)]!;
      total += med;
      // The peak RSS so far (KiB from the kernel), so the query that raises it stands out.
      const peakMiB = process.resourceUsage().maxRSS / 1024;
      console.log(
        `${q.name.padEnd(30)} cpu median ${med.toFixed(2).padStart(7)} ms  min ${cpu[0]!.toFixed(2).padStart(7)} ms  peak RSS ${peakMiB.toFixed(0).padStart(5)} MiB`,
      );
    }
    console.log(`${'sum of medians'.padEnd(30)} ${total.toFixed(1).padStart(18)} ms`);
  } finally {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();

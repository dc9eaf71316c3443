/**
 * The process the exemplar crash tests kill (see metrics/exemplars/crash.test.ts): opens exemplar
 * storage on argv[2] with room for argv[3] exemplars, appends batch after batch (one exemplar for
 * each of two series, timestamps advancing) and prints `ack <i>` once batch i is accepted. With
 * VIGIL_CRASH_AT set it dies by SIGKILL at that point; without, it runs until killed or done.
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { labelsFrom } from '../../core/model/labels.js';
import { ExemplarStorage } from '../../metrics/exemplars/storage.js';

/** What the test and this child agree on. */
export const EX_CRASH_T0 = Date.UTC(2024, 0, 1);
export const EX_CRASH_SERIES = 2;

/** The trace id batch `i` gives series `s`, so the test can tell every exemplar apart. */
export function crashTraceId(i: number, s: number): string {
  return `${i.toString(16).padStart(8, '0')}${s.toString(16).padStart(8, '0')}`;
}

function main(): void {
  const [dir, maxArg = '100000', batchesArg = '2000'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: exemplar_crash_child DIR [max_exemplars] [batches]');
  const storage = new ExemplarStorage({ maxExemplars: Number(maxArg), dir });
  storage.start();
  for (let i = 0; i < Number(batchesArg); i++) {
    const batch = [];
    for (let s = 0; s < EX_CRASH_SERIES; s++) {
      batch.push({
        seriesLabels: labelsFrom({ __name__: 'crash_latency_bucket', le: String(s) }),
        labels: labelsFrom({ trace_id: crashTraceId(i, s) }),
        value: i + s / 10,
        ts: EX_CRASH_T0 + i * 1000,
      });
    }
    const res = storage.append(batch);
    if (res.appended !== EX_CRASH_SERIES) throw new Error(`batch ${i}: ${JSON.stringify(res)}`);
    // Written synchronously, so the ack is in the pipe before any later kill.
    fs.writeSync(1, `ack ${i}\n`);
  }
  storage.stop();
}

// Only when run as a program: the test imports the constants above.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  }
}

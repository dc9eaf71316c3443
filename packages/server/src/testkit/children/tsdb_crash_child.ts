/**
 * The process the crash tests kill (see crash.test.ts): opens a DB with 10-minute blocks on the
 * directory in argv[2], appends batches of samples with advancing timestamps and prints `ack <i>`
 * once batch i is committed, running compaction (and, in `retention` mode, retention) as it goes.
 * Half the series carry native histograms, so every crash point covers histogram records and chunks.
 * In `ooo` mode the store has an out-of-order window, and each batch also carries, after its own
 * sample, a float sample half a step earlier: it lands in the out-of-order buffer, so the WAL,
 * block cuts and replay of those buffers go through every crash point as well.
 * In `live` mode compaction runs alongside the appends instead of between them.
 * With VIGIL_CRASH_AT set it dies by SIGKILL at that point; without, it exits 0 after the last batch.
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom } from '../../core/model/labels.js';
import { DB, type DBOptions } from '../../metrics/tsdb/db.js';

/** What the test and this child agree on. */
export const CRASH_T0 = Date.UTC(2024, 0, 1);
export const CRASH_STEP = 30_000;
export const CRASH_SERIES = 4;
export const CRASH_BLOCK_RANGE = 10 * 60_000;
export const CRASH_RETENTION = 60 * 60_000;
/** The out-of-order window in `ooo` mode. */
export const CRASH_OOO_WINDOW = 30 * 60_000;

/** The store as the child opens it and as the test reopens it after the kill: one set of options, so both see the same store. */
export function crashDbOptions(dir: string, mode: string, now: () => number): DBOptions {
  return {
    dir,
    blockRange: CRASH_BLOCK_RANGE,
    maintenanceIntervalMs: 0,
    retentionMs: mode === 'retention' ? CRASH_RETENTION : 0,
    outOfOrderWindowMs: mode === 'ooo' ? CRASH_OOO_WINDOW : 0,
    now,
  };
}

/** The value of series `s` in batch `i`, so the test can check every sample it finds. */
export function crashValue(i: number, s: number): number {
  return i * 10 + s;
}

/** Series from this index on take native histograms. */
export const CRASH_FIRST_HISTOGRAM_SERIES = 2;

/** The histogram of series `s` in batch `i` (a counter whose count is {@link crashValue}). */
export function crashHistogram(i: number, s: number): FloatHistogram {
  const count = crashValue(i, s);
  return FloatHistogram.of({ schema: 1, count, sum: count / 4, positiveSpans: [{ offset: -1, length: 2 }], positiveBuckets: [i, count - i] });
}

async function main(): Promise<void> {
  const [dir, mode = 'plain', batchesArg = '400'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: crash_child DIR [plain|retention|live] [batches]');
  const batches = Number(batchesArg);
  let now = CRASH_T0;
  const db = new DB(crashDbOptions(dir, mode, () => now));
  await db.start();
  const refs = new Array<number>(CRASH_SERIES).fill(0);
  // In `live` mode maintenance runs while batches go on being appended and acknowledged, as in a
  // running server: a kill then lands in the middle of a flush with appends around it.
  let background: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < batches; i++) {
    const t = CRASH_T0 + i * CRASH_STEP;
    const a = db.appender();
    for (let s = 0; s < CRASH_SERIES; s++) {
      const labels = labelsFrom({ __name__: 'crash_test', s: String(s) });
      refs[s] =
        s < CRASH_FIRST_HISTOGRAM_SERIES ? a.append(refs[s]!, labels, t, crashValue(i, s)) : a.appendHistogram(refs[s]!, labels, t, crashHistogram(i, s));
      if (mode === 'ooo' && s < CRASH_FIRST_HISTOGRAM_SERIES) a.append(refs[s]!, labels, t - CRASH_STEP / 2, crashValue(i - 0.5, s));
    }
    a.commit();
    // Written synchronously, so the ack is in the pipe before any later kill.
    fs.writeSync(1, `ack ${i}\n`);
    now = t;
    if (mode === 'live') {
      if (i % 5 === 4) {
        await background;
        background = db.compactHead(false).then(() => db.compactBlocks(false));
      }
      // A turn of the event loop between batches: the flush's slices run in between.
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    // Steps called directly rather than through maintain(), so an error fails the child loudly.
    if (i % 5 === 4) {
      await db.compactHead(false);
      await db.compactBlocks(false);
      await db.applyRetention();
    }
    if (i % 150 === 149) await db.flush();
  }
  await background;
  await db.stop();
}

// Only when run as a program: the test imports the constants above.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  });
}

/**
 * Test helper for the kill -9 tests (crash.test.ts): pushes numbered batches to a busy and a quiet
 * stream with small chunks, WAL segments and chunk files, on a clock that advances 200 ms per
 * batch, so sealing, checkpoints, compaction and retention all happen within a few hundred
 * batches. Prints `acked N` once batch N's push returned. VIGIL_CRASH_AT makes it SIGKILL itself
 * at a crash point; without one it stops after MAX_BATCHES.
 */
import { labelsFrom } from '../../core/model/labels.js';
import { LogStore } from '../../logs/store/store.js';

export const CHILD_T0_MS = 1_700_000_000_000;
export const CHILD_BATCH_MS = 200;
export const CHILD_RETENTION_MS = 60_000;
export const BUSY_LINES = 20;
const MAX_BATCHES = 3000;

/** A line's text names its batch and index, so the test can count each one. */
export function childLine(stream: 'busy' | 'quiet', batch: number, i: number): string {
  return `${stream} b=${batch} i=${i}`;
}

function main(dir: string): void {
  let batch = 0;
  const now = (): number => CHILD_T0_MS + batch * CHILD_BATCH_MS;
  // No timer tick (tickIntervalMs 0): the loop below ticks every 5 batches, so crash points fall at repeatable places.
  const store = new LogStore({
    dir,
    chunkTargetBytes: 4096,
    walSegmentBytes: 24 * 1024,
    chunkFileBytes: 12 * 1024,
    maxChunkAgeMs: 1000,
    retentionMs: CHILD_RETENTION_MS,
    now,
    tickIntervalMs: 0,
  });
  store.start();
  const busy = labelsFrom({ app: 'busy' });
  const quiet = labelsFrom({ app: 'quiet' });
  const step = (): void => {
    if (batch >= MAX_BATCHES) {
      store.stop();
      return;
    }
    const t = BigInt(now()) * 1_000_000n;
    const entries = [];
    for (let i = 0; i < BUSY_LINES; i++) entries.push({ t: t + BigInt(i), line: childLine('busy', batch, i) });
    store.push([
      { labels: busy, entries },
      { labels: quiet, entries: [{ t, line: childLine('quiet', batch, 0) }] },
    ]);
    process.stdout.write(`acked ${batch}\n`);
    batch++;
    if (batch % 5 === 0) store.tick();
    setImmediate(step);
  };
  step();
}

if (process.argv[2]) main(process.argv[2]);

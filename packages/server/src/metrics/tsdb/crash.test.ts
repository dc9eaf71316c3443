// kill -9 at every crash point of head compaction, block writing and merging, retention and the WAL
// checkpoint: a child process appends acknowledged batches and runs maintenance until it is killed
// at the named point; the test reopens the directory and checks that exactly the acknowledged
// samples are there (none lost, none twice) and that nothing half-written is left. Half the series
// carry native histograms, so their WAL records and block chunks go through every point too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelsKey } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import type { Querier } from '../storage/interface.js';
import {
  crashDbOptions,
  CRASH_FIRST_HISTOGRAM_SERIES,
  CRASH_RETENTION,
  CRASH_SERIES,
  CRASH_STEP,
  CRASH_T0,
  crashHistogram,
  crashValue,
} from '../../testkit/children/tsdb_crash_child.js';
import { DB } from './db.js';

const CHILD = fileURLToPath(new URL('../../testkit/children/tsdb_crash_child.js', import.meta.url));

interface Run {
  lastAck: number;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

function runChild(dir: string, crashAt: string, mode: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD, dir, mode, '400'], { env: { ...process.env, VIGIL_CRASH_AT: crashAt }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const acks = out
        .split('\n')
        .filter((l) => l.startsWith('ack '))
        .map((l) => Number(l.slice(4)));
      resolve({ lastAck: acks.length ? Math.max(...acks) : -1, signal, code, stderr: err });
    });
  });
}

/** Counts every copy of every sample in one source (a block or the head), by series and time. */
function tally(q: Querier, into: Map<string, number>): void {
  const ss = q.select({ start: -Infinity, end: Infinity }, [new Matcher('=', '__name__', 'crash_test')]);
  while (ss.next()) {
    const s = ss.at();
    const key = labelsKey(s.labels);
    const it = s.iterator();
    while (it.next()) {
      const k = `${key}@${it.t()}`;
      const sIdx = Number(s.labels.find((l) => l.name === 's')!.value);
      const i = (it.t() - CRASH_T0) / CRASH_STEP;
      const h = it.h?.();
      if (sIdx < CRASH_FIRST_HISTOGRAM_SERIES) assert.equal(it.v(), crashValue(i, sIdx), `value of ${k}`);
      else assert.ok(h?.equals(crashHistogram(i, sIdx)), `histogram of ${k}: ${JSON.stringify(h)}`);
      into.set(k, (into.get(k) ?? 0) + 1);
    }
  }
  q.close();
}

function leftovers(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'blocks')).filter((n) => n.endsWith('.tmp') || n.endsWith('.deleting') || n.includes('.corrupt'));
}

const figures: string[] = [];

type Mode = 'plain' | 'retention' | 'ooo' | 'live';

async function crashAndCheck(crashAt: string, mode: Mode): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-crash-'));
  try {
    const run = await runChild(dir, crashAt, mode);
    assert.equal(run.signal, 'SIGKILL', `child should die at ${crashAt}; exit ${run.code}: ${run.stderr}`);
    const lastT = CRASH_T0 + run.lastAck * CRASH_STEP;
    const db = new DB(crashDbOptions(dir, mode, () => lastT));
    await db.start();
    try {
      assert.deepEqual(leftovers(dir), [], 'nothing half-written is left after the restart');
      // Each source separately: a sample held by two blocks (or a block and the head) is a duplicate
      // that merged queries would hide.
      const copies = new Map<string, number>();
      for (const b of db.listBlocks()) tally(b.querier(-Infinity, Infinity), copies);
      tally(db.head.querier(-Infinity, Infinity), copies);
      const dups = [...copies].filter(([, n]) => n > 1);
      assert.deepEqual(dups.slice(0, 5), [], `${dups.length} samples present more than once`);
      // Retention may have deleted whole blocks older than its cutoff, never anything newer.
      const keptFrom = mode === 'retention' ? lastT - CRASH_RETENTION : -Infinity;
      let acked = 0;
      let ackedPresent = 0;
      const missing: string[] = [];
      // In ooo mode the float series also hold a sample half a step before each batch's own.
      const steps = mode === 'ooo' ? [0, -0.5] : [0];
      for (let i = 0; i <= run.lastAck; i++) {
        for (let s = 0; s < CRASH_SERIES; s++) {
          for (const d of s < CRASH_FIRST_HISTOGRAM_SERIES ? steps : [0]) {
            const t = CRASH_T0 + (i + d) * CRASH_STEP;
            const k = `${labelsKey([
              { name: '__name__', value: 'crash_test' },
              { name: 's', value: String(s) },
            ])}@${t}`;
            if (t < keptFrom) continue;
            acked++;
            if (copies.has(k)) ackedPresent++;
            else missing.push(k);
          }
        }
      }
      const present = copies.size;
      // Present beyond the acknowledged: at most the batch in flight at the kill.
      const inFlight = [...copies.keys()].filter((k) => Number(k.split('@')[1]) > lastT);
      assert.ok(
        inFlight.every((k) => Number(k.split('@')[1]) <= lastT + CRASH_STEP),
        `samples newer than the batch in flight: ${inFlight.slice(0, 3).join(', ')}`,
      );
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged samples lost`);
      figures.push(
        `${crashAt.padEnd(34)} ${mode.padEnd(9)} acknowledged ${String(acked).padStart(4)}  present ${String(ackedPresent).padStart(4)}  total present ${present}, blocks ${db.listBlocks().length}`,
      );
      // The store keeps working after the restart.
      await db.compactHead(false);
      await db.compactBlocks(false);
    } finally {
      await db.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const POINTS: Array<[string, Mode]> = [
  ['writeBlock.chunksWritten', 'plain'],
  ['writeBlock.indexWritten', 'plain'],
  ['writeBlock.beforeRename', 'plain'],
  ['writeBlock.afterRename', 'plain'],
  ['writeBlock.beforeRename:6', 'plain'],
  ['compactHead.blockWritten', 'plain'],
  ['compactHead.blockWritten:12', 'plain'],
  ['compactHead.beforeWalTruncate', 'plain'],
  ['mergeBlocks.inPlace', 'plain'],
  ['mergeBlocks.inPlace:3', 'plain'],
  ['mergeBlocks.sourceDeleted', 'plain'],
  ['removeBlock.renamed', 'plain'],
  ['walTruncate.segmentOpened', 'plain'],
  ['walTruncate.checkpointWritten', 'plain'],
  ['walTruncate.checkpointRenamed', 'plain'],
  ['walTruncate.checkpointRenamed:4', 'plain'],
  ['retention.blockDeleted', 'retention'],
  ['retention.blockDeleted:3', 'retention'],
  ['removeBlock.renamed', 'retention'],
  ['compactHead.beforeWalTruncate:5', 'retention'],
  ['writeBlock.beforeRename', 'ooo'],
  ['compactHead.blockWritten:12', 'ooo'],
  ['compactHead.beforeWalTruncate', 'ooo'],
  ['mergeBlocks.inPlace', 'ooo'],
  ['walTruncate.checkpointRenamed:4', 'ooo'],
  // In the middle of a flush while appends go on: listing the head, writing the block on its
  // thread, and taking the chunks out of the head.
  ['compactHead.seriesListed:3', 'live'],
  ['compactHead.seriesListed:30', 'live'],
  ['writeBlock.seriesWritten:3', 'live'],
  ['writeBlock.seriesWritten:25', 'live'],
  ['compactHead.seriesTruncated:3', 'live'],
  ['compactHead.seriesTruncated:26', 'live'],
  ['walTruncate.checkpointWritten:2', 'live'],
];

for (const [point, mode] of POINTS) {
  test(`kill -9 at ${point} (${mode}): acknowledged samples survive exactly once`, async () => {
    await crashAndCheck(point, mode);
  });
}

test('crash figures', (t) => {
  for (const f of figures) t.diagnostic(f);
  console.log(figures.join('\n'));
});

// Native histograms through the disk store's whole life: head cuts into blocks, block merging,
// `vigil tsdb verify` over blocks and a WAL holding histogram records, and a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { verifyTsdb } from '../../server/cmd/tsdb_verify.js';
import { BlockChunkEncoding } from './chunkenc/blockchunk.js';
import { DB } from './db.js';

const HOUR = 3600_000;

function histogramAt(i: number): FloatHistogram {
  return FloatHistogram.of({
    schema: 2,
    count: 10 * i,
    sum: i * 0.75,
    positiveSpans: [{ offset: 3, length: 4 }],
    positiveBuckets: [i, 2 * i, 3 * i, 4 * i],
  });
}

/** Samples of every series, as `name:t:count-or-value`, and how many were histograms. */
function readAll(db: DB): { lines: string[]; histograms: number } {
  const q = db.querier(-Infinity, Infinity);
  const ss = q.select({ start: -Infinity, end: Infinity }, [new Matcher('=~', '__name__', '.+')]);
  const lines: string[] = [];
  let histograms = 0;
  while (ss.next()) {
    const s = ss.at();
    const name = s.labels.map((l) => l.value).join('/');
    const it = s.iterator();
    while (it.next()) {
      const h = it.h?.();
      if (h) histograms++;
      lines.push(`${name}:${it.t()}:${h ? `h${h.count}/${h.sum}` : it.v()}`);
    }
  }
  q.close();
  return { lines, histograms };
}

test('histograms are cut into blocks, merged, verified and read back after a restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dbh-'));
  let db = new DB({ dir, maintenanceIntervalMs: 0 });
  await db.start();
  try {
    const a = db.appender();
    const refs = [0, 0, 0];
    let i = 0;
    // 10 hours at one sample a minute: two histogram series and a float one.
    for (let t = 0; t < 10 * HOUR; t += 60_000, i++) {
      refs[0] = a.appendHistogram(refs[0]!, labelsFrom({ __name__: 'lat', i: '0' }), t, histogramAt(i));
      refs[1] = a.appendHistogram(refs[1]!, labelsFrom({ __name__: 'lat', i: '1' }), t, histogramAt(2 * i));
      refs[2] = a.append(refs[2]!, labelsFrom({ __name__: 'up' }), t, 1);
    }
    a.commit();
    const before = readAll(db);
    assert.equal(before.histograms, 2 * 600);
    assert.ok((await db.compactHead(false)) >= 3, 'routine cuts took whole windows');
    assert.ok(db.listBlocks().length >= 3);
    await db.compactBlocks(false);
    assert.ok(
      db.listBlocks().some((b) => b.meta.compaction.level === 2),
      'blocks with histogram chunks were merged',
    );
    assert.deepEqual(readAll(db), before, 'the same samples from blocks and head');

    // The blocks hold histogram chunks, and verify finds the store clean, WAL checkpoint included.
    let histogramChunks = 0;
    for (const b of db.listBlocks()) {
      for (let id = 0; id < b.numSeries; id++)
        for (const c of b.storedChunks(id)) if (b.readChunk(id, c)[0] === BlockChunkEncoding.histogram) histogramChunks++;
    }
    assert.ok(histogramChunks > 0, 'histogram chunks in the blocks');
    const out: string[] = [];
    assert.equal(
      verifyTsdb(dir, (l) => out.push(l)),
      0,
      out.join('\n'),
    );
    assert.ok(fs.readdirSync(path.join(dir, 'wal')).some((f) => f.startsWith('checkpoint.')));

    await db.stop();
    db = new DB({ dir, maintenanceIntervalMs: 0 });
    await db.start();
    assert.deepEqual(readAll(db), before, 'after a restart: blocks and the replayed WAL');
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

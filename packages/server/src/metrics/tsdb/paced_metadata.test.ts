/**
 * The paced twins of select, labelValues and labelNames (what /api/v1/series, /labels and
 * /label/<name>/values run on): over a disk store with one part of its series in a block and one in
 * the head, with a slicer whose every slice is used up at once, they give exactly the synchronous
 * answers and pause on the way; a canceled signal stops them at a pause.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom, labelsKey } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { runSliced, TimeSlicer } from '../../core/util/pace.js';
import { labelNamesOf, labelValuesOf, selectOf, type Querier } from '../storage/interface.js';
import { DB } from './db.js';

const T0 = Date.now() - 3 * 3600_000;

async function twoPartStore(): Promise<{ db: DB; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-paced-'));
  const db = new DB({ dir, maintenanceIntervalMs: 0 });
  await db.start();
  const add = (from: number, to: number, t: number): void => {
    const app = db.appender();
    for (let i = from; i < to; i++) app.append(0, labelsFrom({ __name__: `m_${i % 7}`, job: i % 2 ? 'odd' : 'even', id: String(i) }), t, i);
    app.commit();
  };
  add(0, 3000, T0);
  await db.flush(); // the first 3,000 series go into a block
  add(2000, 5000, T0 + 60_000); // 1,000 of them again, and 2,000 new ones, in the head
  return { db, dir };
}

function slicer(signal?: AbortSignal): TimeSlicer {
  return new TimeSlicer({ sliceMs: 0, ...(signal ? { signal } : {}) });
}

function keys(q: Querier, ms: Matcher[]): string[] {
  const out: string[] = [];
  const ss = q.select({ start: -Infinity, end: Infinity, seriesOnly: true }, ms);
  while (ss.next()) out.push(labelsKey(ss.at().labels));
  return out;
}

test('paced select, label values and label names answer as the synchronous ones, pausing on the way', async () => {
  const { db, dir } = await twoPartStore();
  try {
    assert.equal(db.listBlocks().length, 1, 'one block besides the head');
    const cases: Matcher[][] = [
      [new Matcher('=', 'job', 'odd')],
      [new Matcher('=~', '__name__', 'm_[12]'), new Matcher('!=', 'job', 'even')],
      [new Matcher('!~', 'id', '1.*')],
      [new Matcher('=', 'job', 'none')],
    ];
    for (const ms of cases) {
      const q = db.querier(-Infinity, Infinity);
      try {
        const s = slicer();
        const paced = await runSliced(selectOf(q, { start: -Infinity, end: Infinity, seriesOnly: true }, ms, s), s);
        const got: string[] = [];
        while (paced.next()) got.push(labelsKey(paced.at().labels));
        assert.deepEqual(got, keys(q, ms), `select ${ms.map(String).join(',')}`);
        assert.deepEqual(await runSliced(labelValuesOf(q, 'id', ms, s), s), q.labelValues('id', ms), 'label values');
        assert.deepEqual(await runSliced(labelNamesOf(q, ms, s), s), q.labelNames(ms), 'label names');
        if (got.length > 0) assert.ok(s.pauses > 0, 'the work paused');
      } finally {
        q.close();
      }
    }
    const q = db.querier(-Infinity, Infinity);
    try {
      const s = slicer();
      const ids = await runSliced(labelValuesOf(q, 'id', [], s), s);
      assert.equal(ids.length, 5000, 'values of the block and the head, once each');
      assert.deepEqual(ids, q.labelValues('id', []));
      assert.deepEqual(await runSliced(labelValuesOf(q, 'id', [], s, 10), s), ids.slice(0, 10), 'limit');
      assert.deepEqual(await runSliced(labelNamesOf(q, [], s), s), ['__name__', 'id', 'job']);
    } finally {
      q.close();
    }
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a canceled signal stops paced label values at its next pause', async () => {
  const { db, dir } = await twoPartStore();
  try {
    const q = db.querier(-Infinity, Infinity);
    const ac = new AbortController();
    ac.abort(new Error('client went away'));
    const s = slicer(ac.signal);
    await assert.rejects(runSliced(labelValuesOf(q, 'id', [new Matcher('=~', 'id', '.+')], s), s), /client went away/);
    q.close();
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a block answers selections, label values and names exactly as the head did before the flush', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-paced-'));
  const db = new DB({ dir, maintenanceIntervalMs: 0 });
  await db.start();
  try {
    const app = db.appender();
    // Shared pairs (job), one pair per series (id), a label only some series have (zone), and
    // a label name that is a prefix of another (a, ab), whose order a string key would get wrong.
    for (let i = 0; i < 2500; i++) {
      const l: Record<string, string> = { __name__: `m_${i % 5}`, job: i % 3 ? 'a' : 'b', id: String(i) };
      if (i % 4 === 0) l['zone'] = `z${i % 8}`;
      if (i % 6 === 0) l[i % 12 ? 'a' : 'ab'] = 'x';
      app.append(0, labelsFrom(l), T0 + (i % 10) * 1000, i);
    }
    app.commit();
    const cases: Matcher[][] = [
      [new Matcher('=', 'job', 'b')],
      [new Matcher('=~', 'zone', 'z[04]')],
      [new Matcher('!=', 'zone', '')],
      [new Matcher('=', 'zone', ''), new Matcher('=~', '__name__', 'm_[13]')],
      [new Matcher('!~', 'id', '.*7.*'), new Matcher('=', 'job', 'a')],
      [new Matcher('=', 'a', 'x')],
      [new Matcher('=~', 'id', '.+')],
    ];
    const answers = (): unknown[] => {
      const q = db.querier(-Infinity, Infinity);
      try {
        return cases.map((ms) => [keys(q, ms), q.labelValues('zone', ms), q.labelNames(ms)]);
      } finally {
        q.close();
      }
    };
    const fromHead = answers();
    await db.flush();
    assert.equal(db.listBlocks().length, 1);
    assert.equal(db.head.numSeries, 0, 'everything is in the block now');
    assert.deepEqual(answers(), fromHead);
    // A time range inside the block but between some series' samples leaves those out.
    const q = db.querier(T0 + 2000, T0 + 2000);
    try {
      assert.equal(keys(q, [new Matcher('=~', 'id', '.+')]).length, 250);
    } finally {
      q.close();
    }
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

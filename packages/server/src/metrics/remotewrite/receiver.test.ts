/**
 * The receiver's series lookup: known series are found by their raw label bytes, first by guessing
 * that a series follows the one it followed last time. A guess that is wrong (the sender reordered
 * its series, dropped one, or sent one that differs by a byte) must never put a sample into the
 * wrong series.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { writeBody } from '../../testkit/helpers.js';
import { DB } from '../tsdb/db.js';
import { RemoteWriteReceiver } from './receiver.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rw-receiver-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every sample of the store as `labels@t=v`, sorted. */
function readAll(db: DB): string[] {
  const q = db.querier(-Infinity, Infinity);
  const ss = q.select({ start: -Infinity, end: Infinity }, [new Matcher('=~', '__name__', '.+')]);
  const out: string[] = [];
  while (ss.next()) {
    const s = ss.at();
    const it = s.iterator();
    while (it.next()) out.push(`${s.labels.map((l) => `${l.name}=${l.value}`).join(',')}@${it.t()}=${it.v()}`);
  }
  q.close();
  return out.sort();
}

function series(name: string, instance: string): Labels {
  return labelsFrom({ __name__: name, instance, job: 'node' });
}

test('series sent in changing orders, with one byte apart, dropped and added, each get their own samples', async () => {
  const db = new DB({ dir, maintenanceIntervalMs: 0 });
  await db.start();
  const receiver = new RemoteWriteReceiver(db);
  receiver.start();
  try {
    const a = series('up', 'a:1');
    const b = series('up', 'b:1');
    // The same length as b, one byte apart: a guess of b must be told from it.
    const b2 = series('up', 'b:2');
    const c = series('load', 'c:1');
    const d = series('load', 'd:1');
    const orders: Labels[][] = [
      [a, b, c, d],
      [a, b, c, d],
      [d, c, b, a],
      [a, b2, c, d],
      [a, c, d],
      [b, a, b2, d, c],
      [a, b, c, d],
    ];
    const expected: string[] = [];
    for (let round = 0; round < orders.length; round++) {
      const t = 1_700_000_000_000 + round * 15_000;
      const sent = orders[round]!.map((labels, i) => ({ labels, samples: [[t, round * 100 + i] as [number, number]] }));
      for (const s of sent) expected.push(`${s.labels.map((l) => `${l.name}=${l.value}`).join(',')}@${t}=${s.samples[0]![1]}`);
      const r = await receiver.write(writeBody(sent), 'snappy');
      assert.equal(r.samples, sent.length);
    }
    assert.deepEqual(readAll(db), expected.sort());
  } finally {
    await receiver.stop();
    await db.stop();
  }
});

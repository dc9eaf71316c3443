// A block's label-pair directory (typed arrays and a hash table over the index bytes) answers
// every kind of matcher exactly as a scan of the series' labels does, for non-ASCII values too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareLabels, formatLabels, getLabel, labelsFrom, type Labels } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { Block, writeBlock } from './block.js';
import { toBlockChunk } from './chunkenc/blockchunk.js';
import { XorEncoder } from './chunkenc/xor.js';

const VALUES = ['a', 'b', 'ü', 'über', '🚀', 'x y', 'zz'];

function seriesLabels(): Labels[] {
  const out: Labels[] = [];
  for (let i = 0; i < 3000; i++) {
    const record: Record<string, string> = { __name__: `m_${i % 7}`, id: String(i), v: VALUES[i % VALUES.length]! };
    // A label only some series have, so `!=` and `!~` meet series without it.
    if (i % 5 === 0) record['odd'] = `o${i % 3}`;
    out.push(labelsFrom(record));
  }
  return out.sort(compareLabels);
}

async function writeTestBlock(dir: string, all: Labels[]): Promise<Block> {
  const enc = new XorEncoder();
  enc.append(1000, 1);
  const bytes = toBlockChunk(enc.bytesView().subarray(0, enc.byteLength));
  const meta = await writeBlock(
    dir,
    all.map((labels) => ({ labels, chunks: [{ mint: 1000, maxt: 1000, count: 1, bytes }] })),
    { minTime: 0, maxTime: 2000 },
    { level: 1 },
  );
  return new Block(path.join(dir, meta.ulid));
}

test('block postings answer =, !=, =~ and !~ like a scan of the labels', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-block-postings-'));
  const all = seriesLabels();
  const block = await writeTestBlock(dir, all);
  try {
    assert.equal(block.numSeries, all.length);
    const cases: Matcher[][] = [
      [new Matcher('=', 'v', 'ü')],
      [new Matcher('=', 'v', '🚀'), new Matcher('=', '__name__', 'm_3')],
      [new Matcher('=', 'id', '2999')],
      [new Matcher('=', 'id', 'no such value')],
      [new Matcher('=', 'nolabel', 'x')],
      [new Matcher('!=', 'v', 'a')],
      [new Matcher('!=', 'odd', 'o1')],
      [new Matcher('=~', 'v', 'ü.*|x y')],
      [new Matcher('=~', 'id', '1.'), new Matcher('!~', 'v', '[ab]')],
      [new Matcher('!~', 'odd', 'o[01]'), new Matcher('=', '__name__', 'm_0')],
      [new Matcher('=', 'odd', '')],
    ];
    for (const ms of cases) {
      const got = block.matching(ms, -Infinity, Infinity).map((id) => formatLabels(block.seriesLabels(id)));
      const want = all.filter((ls) => ms.every((m) => m.matches(getLabel(ls, m.name)))).map(formatLabels);
      assert.deepEqual(got, want, ms.map((m) => `${m.name}${m.type}${m.value}`).join(','));
    }
    const q = block.querier(-Infinity, Infinity);
    assert.deepEqual(q.labelValues('v', []), [...VALUES].sort());
    assert.deepEqual(q.labelNames([]), ['__name__', 'id', 'odd', 'v']);
    q.close();
  } finally {
    block.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

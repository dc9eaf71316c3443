import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { TimeSlicer } from '../../core/util/pace.js';
import { PostingsIndex, union } from './postings.js';

/** A seeded linear congruential generator, so a failure replays. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

/** `n` distinct sorted ids drawn from [from, from + span). */
function sortedIds(next: () => number, n: number, from: number, span: number): number[] {
  const set = new Set<number>();
  while (set.size < Math.min(n, span)) set.add(from + Math.floor(next() * span));
  return [...set].sort((a, b) => a - b);
}

describe('postings union', () => {
  it('gives the sorted distinct ids of every list, for ids packed close together and spread far apart', () => {
    const next = rng(7);
    for (let round = 0; round < 200; round++) {
      const dense = round % 2 === 0;
      const lists: number[][] = [];
      const count = 1 + Math.floor(next() * 6);
      for (let k = 0; k < count; k++) lists.push(sortedIds(next, Math.floor(next() * 50), dense ? 1000 : Math.floor(next() * 1e9), dense ? 120 : 1e6));
      const want = [...new Set(lists.flat())].sort((a, b) => a - b);
      assert.deepEqual(union(lists), want, `round ${round}: ${JSON.stringify(lists)}`);
    }
  });

  it('handles empty lists and ids at the ends of the span', () => {
    assert.deepEqual(union([]), []);
    assert.deepEqual(union([[], []]), []);
    assert.deepEqual(union([[], [5]]), [5]);
    assert.deepEqual(union([[0, 3], [1, 3], [2]]), [0, 1, 2, 3]);
    assert.deepEqual(union([[1], [2 ** 40]]), [1, 2 ** 40]);
  });
});

describe('postings removal', () => {
  it('drops the given ids from every list, and the index takes new series afterwards', async () => {
    const p = new PostingsIndex();
    for (let id = 0; id < 100; id++) p.add(id, labelsFrom({ __name__: `m${id % 3}`, id: String(id) }));
    const drop = Float64Array.from({ length: 50 }, (_, i) => i * 2);
    await p.removeSliced(drop, new TimeSlicer({ sliceMs: 0 }));
    const odd = Array.from({ length: 50 }, (_, i) => i * 2 + 1);
    assert.deepEqual(p.select([]), odd);
    assert.deepEqual(p.select([new Matcher('=', 'id', '4')]), []);
    assert.deepEqual(p.select([new Matcher('=', 'id', '5')]), [5]);
    assert.deepEqual(
      p.select([new Matcher('=', '__name__', 'm0')]),
      odd.filter((id) => id % 3 === 0),
    );
    assert.equal([...p.values('id')].length, 50);
    // Down to one series, then none: the list of all ids must still take new ones.
    await p.removeSliced(Float64Array.from(odd.slice(1)), new TimeSlicer({ sliceMs: 0 }));
    await p.removeSliced([1], new TimeSlicer({ sliceMs: 0 }));
    assert.deepEqual(p.select([]), []);
    p.add(200, labelsFrom({ __name__: 'm0', id: '200' }));
    p.add(201, labelsFrom({ __name__: 'm1', id: '201' }));
    assert.deepEqual(p.select([]), [200, 201]);
    assert.deepEqual(p.select([new Matcher('=', 'id', '1')]), []);
    await p.removeSliced([201], new TimeSlicer({ sliceMs: 0 }));
    assert.deepEqual(p.select([new Matcher('=', 'id', '201')]), []);
    assert.deepEqual(p.select([new Matcher('=', 'id', '200')]), [200]);
    assert.deepEqual(p.select([]), [200]);
  });
});

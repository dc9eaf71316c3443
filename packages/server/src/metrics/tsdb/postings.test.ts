import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { union } from './postings.js';

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

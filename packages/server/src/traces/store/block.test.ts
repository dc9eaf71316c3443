import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { demoTrace, rng } from '../../testkit/tracegen.js';
import type { Span } from '../storage/types.js';
import { Block, blockFile, writeBlock } from './block.js';
import { BlockSet } from './blockset.js';

const T0 = 1_800_000_000_000n * 1_000_000n;

/** The bloom filter over trace ids answers "surely not here" for most absent ids, and never for a present one. */
function checkFilter(spans: Span[], absent: Buffer[]): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-traceblock-'));
  try {
    writeBlock(dir, 0, spans, -1, [], 1000);
    const b = Block.open(path.join(dir, blockFile(0)));
    try {
      const counts = new Map<string, number>();
      for (const s of spans) counts.set(s.traceId, (counts.get(s.traceId) ?? 0) + 1);
      for (const [id, n] of counts) {
        assert.ok(b.mayHold(Buffer.from(id, 'hex')), `${id} is in the block`);
        assert.equal(b.countOf(id), n);
      }
      let maybe = 0;
      for (const id of absent) {
        if (b.mayHold(id)) maybe++;
        assert.equal(b.countOf(id), 0);
      }
      return maybe / absent.length;
    } finally {
      b.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a block rules out most trace ids it does not hold without a search, random ids or counters alike', () => {
  const r = rng(3);
  const spans = Array.from({ length: 3000 }, (_, i) => demoTrace(r, T0 + BigInt(i) * 1_000_000n)).flat();
  const fp = checkFilter(
    spans,
    Array.from({ length: 20_000 }, () => randomBytes(16)),
  );
  assert.ok(fp < 0.03, `false positives ${(fp * 100).toFixed(2)}% of random absent ids`);

  // Ids that differ only in their last bytes (a counter), as some test generators make them.
  const counterId = (n: number): string => n.toString(16).padStart(32, '0');
  const counted = spans.map((s, i) => ({ ...s, traceId: counterId(1 + Math.floor(i / 10)) }));
  const fp2 = checkFilter(
    counted,
    Array.from({ length: 20_000 }, (_, i) => Buffer.from(counterId(1_000_000 + i), 'hex')),
  );
  assert.ok(fp2 < 0.03, `false positives ${(fp2 * 100).toFixed(2)}% of absent counter ids`);
  console.log(`bloom over trace ids: ${(fp * 100).toFixed(2)}% (random ids), ${(fp2 * 100).toFixed(2)}% (counters) false positives`);
});

test('a block set gives a block traces newest first (start descending, then trace id), page by page, as a full sort would', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-traceorder-'));
  try {
    const r = rng(11);
    // Many traces share a start, so ties fall inside pages and across their boundaries.
    const spans = Array.from({ length: 600 }, (_, i) => demoTrace(r, T0 + BigInt(Math.floor(i / 7)) * 1_000_000_000n)).flat();
    writeBlock(dir, 0, spans, -1, [], 100);
    const set = new BlockSet(dir);
    set.open();
    try {
      const b = set.blocks[0]!;
      assert.ok(b.index.pages.length > 20);
      const starts = b.index.starts;
      const all = [...starts.keys()].sort((x, y) => (starts[x]! > starts[y]! ? -1 : starts[x]! < starts[y]! ? 1 : x - y));
      const lazy = (wanted?: boolean[]): number[] => {
        const next = set.newestFirst(b, wanted && ((p) => wanted[p]!));
        const out: number[] = [];
        for (let i = next(); i >= 0; i = next()) out.push(i);
        return out;
      };
      assert.deepEqual(lazy(), all);
      const wanted = b.index.pages.map((_p, i) => i % 3 !== 1);
      assert.deepEqual(
        lazy(wanted),
        all.filter((i) => wanted[b.index.pageOf[i]!]),
      );
    } finally {
      set.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

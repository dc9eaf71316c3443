import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { NEVER_PAUSE } from '../../core/util/pace.js';
import { isStaleNaN, STALE_NAN } from '../../core/model/value.js';
import type { FloatSink, SampleIterator } from '../storage/interface.js';
import { blockChunkIterator, toBlockChunk } from './chunkenc/blockchunk.js';
import { XorEncoder, XorIterator } from './chunkenc/xor.js';
import { ChunksIterator, type ChunkMeta } from './chunk_series.js';
import { DB } from './db.js';
import { DecodedChunkCache, KEEP_RECENT_MS, openCached, type DecodedChunk } from './decoded_chunks.js';
import { Head } from './head.js';

/** Chunk shapes: timestamps evenly spaced or not, values that fit scaled integers or need doubles. */
const SHAPES: ReadonlyArray<readonly [string, (i: number) => number, (i: number) => number]> = [
  ['even, integer counter', (i) => 1000 + i * 15_000, (i) => i * 7],
  ['even, two decimals', (i) => 1000 + i * 15_000, (i) => Math.round(i * 123.45) / 100],
  ['jittered, doubles', (i) => 1000 + i * 15_000 + ((i * 37) % 11), (i) => Math.sin(i) * 1e6],
  ['even, staleness markers', (i) => i * 10_000, (i) => (i % 17 === 5 ? STALE_NAN : i / 3)],
  ['odd values: -0, NaN, ±Infinity, huge', (i) => i * 1000 + (i > 60 ? 5 : 0), (i) => [-0, NaN, Infinity, -Infinity, 2 ** 60, 0.1, -2.5][i % 7]!],
  ['one sample', () => 42, () => 3.25],
];

/** Chunks of `shape`, `perChunk` samples each: XOR as the head keeps them, or block chunks (decimal where smaller). */
function chunksOf(shape: (typeof SHAPES)[number], n: number, perChunk: number, block: boolean): ChunkMeta[] {
  const [, tf, vf] = shape;
  const out: ChunkMeta[] = [];
  for (let start = 0; start < n; start += perChunk) {
    const enc = new XorEncoder();
    for (let i = start; i < Math.min(n, start + perChunk); i++) enc.append(tf(i), vf(i));
    const bytes = block ? toBlockChunk(enc.finish()) : enc.finish();
    out.push({ mint: enc.mint, maxt: enc.maxt, iterator: () => (block ? blockChunkIterator(bytes) : new XorIterator(bytes)) });
  }
  return out;
}

/** A value's bits, so -0 and the staleness marker compare exactly. */
function bits(v: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return b.toString('hex');
}

function drain(it: SampleIterator): string[] {
  const out: string[] = [];
  while (it.next()) out.push(`${it.t()}=${bits(it.v())}`);
  return out;
}

function bulk(it: SampleIterator, seekTo: number, maxt: number, dropStale: boolean): string[] {
  const sink: FloatSink = { ts: new Float64Array(4), vs: new Float64Array(4), n: 0, start: 0 };
  if (!it.seek(seekTo)) return [];
  it.readFloats!(maxt, sink, dropStale);
  const out: string[] = [];
  for (let i = 0; i < sink.n; i++) out.push(`${sink.ts[i]}=${bits(sink.vs[i]!)}`);
  return out;
}

for (const shape of SHAPES) {
  for (const block of [false, true]) {
    test(`decoded-chunk cache: reads equal the chunks' own (${shape[0]}, ${block ? 'block' : 'head'} chunks)`, () => {
      const n = shape[0] === 'one sample' ? 1 : 250;
      const chunks = chunksOf(shape, n, 120, block);
      const cache = new DecodedChunkCache(1 << 20);
      const home = new Map<unknown, DecodedChunk>();
      const open = (c: ChunkMeta): SampleIterator => openCached(cache, home, c, c);
      const ts = drain(new ChunksIterator(chunks, -Infinity, Infinity)).map((s) => Number(s.split('=')[0]));
      const mid = ts[Math.floor(ts.length / 2)]!;
      const bounds: Array<[number, number]> = [
        [-Infinity, Infinity],
        [ts[0]!, ts[ts.length - 1]!],
        [mid - 1, mid + 1],
        [mid, mid],
        [ts[0]! + 1, mid - 1],
        [ts[ts.length - 1]! + 1, Infinity],
      ];
      // Twice: the first pass decodes into the cache, the second reads from it.
      for (let pass = 0; pass < 2; pass++) {
        for (const [lo, hi] of bounds) {
          const plain = (): ChunksIterator => new ChunksIterator(chunks, lo, hi);
          const cached = (): ChunksIterator => new ChunksIterator(chunks, lo, hi, open);
          assert.deepEqual(drain(cached()), drain(plain()), `next() over [${lo}, ${hi}]`);
          for (const seekTo of [lo, mid, mid + 1, ts[ts.length - 1]!, Infinity]) {
            for (const maxt of [hi, mid, mid - 0.5]) {
              for (const dropStale of [false, true]) {
                assert.deepEqual(
                  bulk(cached(), seekTo, maxt, dropStale),
                  bulk(plain(), seekTo, maxt, dropStale),
                  `seek ${seekTo}, read to ${maxt}, dropStale ${dropStale}`,
                );
              }
            }
          }
        }
      }
      assert.equal(cache.misses, chunks.length, 'each chunk decoded once');
      assert.ok(cache.hits > 0);
      assert.equal(cache.entries, chunks.length);
    });
  }
}

test('decoded-chunk cache: staleness markers keep their bits, dropStale leaves them out', () => {
  const [chunk] = chunksOf(SHAPES[3]!, 100, 120, false);
  const cache = new DecodedChunkCache(1 << 20);
  const home = new Map<unknown, DecodedChunk>();
  openCached(cache, home, chunk, chunk!);
  const it = openCached(cache, home, chunk, chunk!);
  assert.equal(cache.hits, 1);
  let stale = 0;
  while (it.next()) if (isStaleNaN(it.v())) stale++;
  assert.equal(stale, 6);
  assert.equal(bulk(openCached(cache, home, chunk, chunk!), 0, Infinity, true).length, 94);
});

test('decoded-chunk cache: stays within its budget, evicting the least recently used', () => {
  const chunks = chunksOf(SHAPES[2]!, 2400, 120, false); // twenty chunks of jittered doubles
  const home = new Map<unknown, DecodedChunk>();
  const probe = new DecodedChunkCache(1 << 20);
  openCached(probe, home, chunks[0], chunks[0]!);
  const perEntry = probe.bytes;
  home.clear();
  let clock = 0;
  const cache = new DecodedChunkCache(9 * perEntry, () => clock);
  const read = (c: ChunkMeta): number => {
    clock += KEEP_RECENT_MS;
    return drain(openCached(cache, home, c, c)).length;
  };
  for (let i = 0; i < 9; i++) read(chunks[i]!);
  assert.equal(cache.entries, 9);
  assert.equal(cache.evictions, 0);
  // Chunk 0 used again: now the newest, so chunk 1 goes first.
  read(chunks[0]!);
  read(chunks[9]!);
  assert.ok(home.has(chunks[0]), 'the re-used chunk stayed');
  assert.ok(!home.has(chunks[1]), 'the least recently used chunk went');
  for (let i = 10; i < 20; i++) read(chunks[i]!);
  assert.ok(cache.bytes <= cache.maxBytes, `${cache.bytes} ≤ ${cache.maxBytes}`);
  assert.equal(cache.entries, 9);
  assert.equal(cache.evictions, 11);
  assert.equal(home.size, 9, 'evicted entries leave their home');
  assert.equal(read(chunks[1]!), 120, 'an evicted chunk decodes again');
  assert.equal(cache.misses, 21);
});

test('decoded-chunk cache: a read over more chunks than fit leaves recently used entries in place', () => {
  const chunks = chunksOf(SHAPES[1]!, 2400, 120, false);
  const home = new Map<unknown, DecodedChunk>();
  let clock = 0;
  const cache = new DecodedChunkCache(8 * 720, () => clock);
  const scan = (): number => chunks.reduce((n, c) => n + drain(openCached(cache, home, c, c)).length, 0);
  // A query over all twenty chunks, repeated: the first eight stay and hit, the rest are read uncached.
  assert.equal(scan(), 2400);
  clock += 1000;
  const hits = cache.hits;
  assert.equal(scan(), 2400);
  assert.equal(cache.hits - hits, 8);
  assert.equal(cache.evictions, 0);
  assert.deepEqual([...home.keys()], chunks.slice(0, 8));
  // Once they have not been read for a while, newcomers take their place.
  clock += KEEP_RECENT_MS;
  drain(openCached(cache, home, chunks[19], chunks[19]!));
  assert.ok(home.has(chunks[19]) && !home.has(chunks[0]));
  assert.equal(cache.evictions, 1);
});

test('decoded-chunk cache: a chunk whose timestamps do not increase (damage) is read as it is, uncached', () => {
  const cache = new DecodedChunkCache(1 << 20);
  const home = new Map<unknown, DecodedChunk>();
  for (const times of [
    [1000, 2000, 2000, 3000],
    [3000, 2000, 1000],
    [1000, 1000],
  ]) {
    const enc = new XorEncoder();
    times.forEach((t, i) => enc.append(t, i));
    const bytes = enc.finish();
    const chunk = { mint: times[0]!, maxt: times[times.length - 1]!, iterator: () => new XorIterator(bytes) };
    assert.deepEqual(drain(openCached(cache, home, chunk, chunk)), drain(chunk.iterator()));
  }
  assert.equal(cache.entries, 0);
});

test('decoded-chunk cache: a budget of 0 caches nothing', () => {
  const chunks = chunksOf(SHAPES[0]!, 240, 120, false);
  const cache = new DecodedChunkCache(0);
  const home = new Map<unknown, DecodedChunk>();
  for (const c of chunks) assert.equal(drain(openCached(cache, home, c, c)).length, 120);
  assert.equal(home.size + cache.entries + cache.misses + cache.hits, 0);
});

test('decoded-chunk cache: readers interleave on one entry, and an evicted entry stays readable by its reader', () => {
  const chunks = chunksOf(SHAPES[1]!, 1200, 120, false);
  let clock = 0;
  const cache = new DecodedChunkCache(8 * 720, () => (clock += KEEP_RECENT_MS));
  const home = new Map<unknown, DecodedChunk>();
  const expected = drain(chunks[0]!.iterator());
  openCached(cache, home, chunks[0], chunks[0]!);
  const a = openCached(cache, home, chunks[0], chunks[0]!);
  const b = openCached(cache, home, chunks[0], chunks[0]!);
  const gotA: string[] = [];
  const gotB: string[] = [];
  for (let i = 0; i < 60; i++) {
    assert.ok(a.next() && b.next());
    gotA.push(`${a.t()}=${bits(a.v())}`);
    gotB.push(`${b.t()}=${bits(b.v())}`);
  }
  // Other chunks push this one out while both readers are half-way.
  for (const c of chunks.slice(1)) drain(openCached(cache, home, c, c));
  assert.ok(!home.has(chunks[0]) && cache.evictions >= 1);
  gotA.push(...drain(a));
  gotB.push(...drain(b));
  assert.deepEqual(gotA, expected);
  assert.deepEqual(gotB, expected);
});

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dcache-'));
}

const SEL = [new Matcher('=', '__name__', 'm')];

function readAll(q: { select(h: never, m: readonly Matcher[]): { next(): boolean; at(): { iterator(): SampleIterator } } }): string[] {
  const out: string[] = [];
  const set = q.select({ start: -Infinity, end: Infinity } as never, SEL);
  while (set.next()) out.push(...drain(set.at().iterator()));
  return out;
}

test('decoded-chunk cache: head truncation drops the truncated chunks, the open chunk is never cached', async () => {
  const cache = new DecodedChunkCache(1 << 20);
  const head = new Head({ decodedChunks: cache, chunkRange: 3_600_000 });
  const app = head.appender();
  // 300 samples a second apart: two closed chunks of 120 and an open one of 60.
  for (let i = 0; i < 300; i++) app.append(0, labelsFrom({ __name__: 'm' }), i * 1000, i);
  await app.commit();
  const all = readAll(head.querier(-Infinity, Infinity));
  assert.equal(all.length, 300);
  assert.equal(cache.entries, 2, 'the two closed chunks, not the open one');
  assert.deepEqual(readAll(head.querier(-Infinity, Infinity)), all);
  assert.equal(cache.hits, 2);
  // Appends to the open chunk show up: it is read from its bytes every time.
  const app2 = head.appender();
  app2.append(0, labelsFrom({ __name__: 'm' }), 300_000, 300);
  await app2.commit();
  assert.equal(readAll(head.querier(-Infinity, Infinity)).length, 301);
  // A query that selected before the truncation and reads after it.
  const held = head.querier(-Infinity, Infinity).select({ start: -Infinity, end: Infinity }, SEL);
  await head.truncateBeforeSliced(120_000, NEVER_PAUSE as never);
  assert.equal(cache.entries, 1, "the first chunk's entry went with it");
  let heldSamples = 0;
  while (held.next()) heldSamples += drain(held.at().iterator()).length;
  assert.equal(heldSamples, 301, 'a query holding the truncated chunk still reads it');
  assert.equal(cache.entries, 1, 'without putting it back into the cache');
  assert.deepEqual(readAll(head.querier(-Infinity, Infinity)), all.slice(120).concat(`300000=${bits(300)}`));
});

test('decoded-chunk cache: block chunks are cached, and dropped when a merge closes their block', async () => {
  const dir = tempDir();
  const db = new DB({ dir, maintenanceIntervalMs: 0, blockRange: 3_600_000, decodedChunkCacheBytes: 1 << 20, now: () => 5 * 3_600_000 });
  await db.start();
  try {
    const app = db.appender();
    for (let i = 0; i < 3 * 3600; i += 10) app.append(0, labelsFrom({ __name__: 'm' }), i * 1000, i % 50 === 0 ? STALE_NAN : i / 10);
    await app.commit();
    await db.compactHead(false);
    assert.equal(db.listBlocks().length, 2);
    const cache = db.decodedChunks;
    const q = (from = -Infinity): string[] => {
      const querier = db.querier(from, Infinity);
      try {
        return readAll(querier);
      } finally {
        querier.close();
      }
    };
    // The head's part first, to tell its entries from the blocks'.
    q(2 * 3_600_000);
    const inHead = cache.entries;
    const headBytes = cache.bytes;
    assert.ok(inHead >= 2, `${inHead} closed head chunks cached`);
    const first = q();
    assert.equal(first.length, 3 * 360);
    const cached = cache.entries;
    assert.ok(cached - inHead >= 6, `${cached - inHead} block chunks cached`);
    const hits = cache.hits;
    assert.deepEqual(q(), first);
    assert.equal(cache.hits - hits, cached);
    await db.compactBlocks(true);
    assert.equal(db.listBlocks().length, 1);
    assert.equal(cache.entries, inHead, "the merged blocks' entries are gone, the head's stay");
    assert.equal(cache.bytes, headBytes);
    assert.deepEqual(q(), first);
    assert.ok(cache.entries > 0, 'the merged block is cached in turn');
  } finally {
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

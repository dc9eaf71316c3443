import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { HeadImageWriter, imageChunks, imageSeries } from './head_image.js';

test('a head image gives back every series and chunk, across page boundaries, shared pages read in place', () => {
  const shared = new Uint8Array(new SharedArrayBuffer(1 << 16));
  for (let i = 0; i < shared.length; i++) shared[i] = (i * 7) & 0xff;
  const plain = Uint8Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff);
  const w = new HeadImageWriter();
  const want: Array<{ labels: ReturnType<typeof labelsFrom>; chunks: Array<{ mint: number; xor: boolean; count: number; bytes: number[] }> }> = [];
  for (let s = 0; s < 3000; s++) {
    // Non-ASCII values take more bytes than characters; one series has enough chunks to span pages.
    const labels = labelsFrom({ __name__: 'm', s: String(s), v: s % 3 === 0 ? `wert-ä€😀-${s}` : 'x' });
    const chunks: (typeof want)[number]['chunks'] = [];
    w.beginSeries(labels);
    // Two series have enough chunks to span pages: one of every kind, one of inline XOR chunks only.
    const n = s === 1234 || s === 2345 ? 20_000 : 1 + (s % 4);
    for (let c = 0; c < n; c++) {
      const mint = c * 1000;
      const kind = s === 2345 ? 1 : c % 3;
      if (kind === 0) {
        const off = (s * 31 + c) % 60_000;
        w.addXor(mint, mint + 999, shared, off, 40);
        chunks.push({ mint, xor: true, count: (shared[off]! << 8) | shared[off + 1]!, bytes: [...shared.subarray(off, off + 40)] });
      } else if (kind === 1) {
        w.addXor(mint, mint + 999, plain, c % 50, 200);
        const b = plain.subarray(c % 50, (c % 50) + 200);
        chunks.push({ mint, xor: true, count: (b[0]! << 8) | b[1]!, bytes: [...b] });
      } else {
        const b = plain.subarray(0, 100 + (c % 100));
        w.addBlockChunk(mint, mint + 999, c, b);
        chunks.push({ mint, xor: false, count: c, bytes: [...b] });
      }
    }
    w.endSeries();
    want.push({ labels, chunks });
  }
  const img = w.finish();
  assert.equal(img.series, 3000);
  assert.ok(img.pages.length > 1, 'the image spans several pages');
  assert.equal(img.arena.length, 1, 'one shared page, listed once');
  const got = [...imageSeries(img)];
  assert.equal(got.length, want.length);
  assert.ok(got[1235]!.page - got[1234]!.page >= 2, "a series' chunks go on over more than one page");
  assert.ok(got[2346]!.page - got[2345]!.page >= 2, "a series' inline chunks go on over more than one page");
  for (let i = 0; i < got.length; i++) {
    assert.deepEqual(got[i]!.labels, want[i]!.labels);
    const chunks = imageChunks(img, got[i]!);
    assert.deepEqual(
      chunks.map((c) => ({ mint: c.mint, xor: c.xor, count: c.count, bytes: [...c.bytes] })),
      want[i]!.chunks,
      `chunks of series ${i}`,
    );
    for (const c of chunks) assert.equal(c.maxt, c.mint + 999);
  }
  // Chunks in the shared page are views of it, not copies.
  const first = imageChunks(img, got[0]!)[0]!;
  assert.equal(first.bytes.buffer, shared.buffer);
});

test('an empty head image has no series', () => {
  const img = new HeadImageWriter().finish();
  assert.equal(img.series, 0);
  assert.deepEqual([...imageSeries(img)], []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { tempDir, waitFor } from '../../testkit/helpers.js';
import { Block } from './block.js';
import { BlockWorker } from './block_worker_client.js';
import { XorEncoder } from './chunkenc/xor.js';
import { HeadImageWriter } from './head_image.js';

/** A head image of `n` series with one 10-sample XOR chunk each, read from a shared page as the head's are. */
function headImage(n: number, base: number): ReturnType<HeadImageWriter['finish']> {
  const page = new Uint8Array(new SharedArrayBuffer(1 << 16));
  const w = new HeadImageWriter();
  let off = 0;
  for (let s = 0; s < n; s++) {
    const enc = new XorEncoder();
    for (let i = 0; i < 10; i++) enc.append(base + i * 1000, s * 100 + i);
    const bytes = enc.finish();
    page.set(bytes, off);
    w.beginSeries(labelsFrom({ __name__: 'm', s: String(s).padStart(3, '0') }));
    w.addXor(base, base + 9000, page, off, bytes.length);
    w.endSeries();
    off += bytes.length;
  }
  return w.finish();
}

test('the block writer thread ends when idle, and the next job starts another that writes as well', async () => {
  const { dir, cleanup } = tempDir();
  const worker = new BlockWorker(100);
  try {
    const job = (base: number): Parameters<BlockWorker['write']>[0] => ({
      type: 'head',
      parent: dir,
      image: headImage(50, base),
      range: { minTime: base, maxTime: base + 10_000 },
      compaction: { level: 1 },
      now: Date.now(),
    });
    const first = await worker.write(job(0));
    assert.ok(worker.threadAlive, 'kept right after a job, for the next one');
    await waitFor('the idle thread to end', async () => (worker.threadAlive ? undefined : true), 5000, 20);
    const second = await worker.write(job(20_000));
    assert.notEqual(second.ulid, first.ulid);
    for (const [meta, base] of [
      [first, 0],
      [second, 20_000],
    ] as const) {
      const block = new Block(`${dir}/${meta.ulid}`);
      try {
        const series = [...block.allSeries()];
        assert.equal(series.length, 50);
        assert.equal(meta.stats.numSamples, 500);
        assert.equal(series[7]!.chunks[0]!.mint, base);
      } finally {
        block.close();
      }
    }
  } finally {
    await worker.stop();
    cleanup();
  }
});

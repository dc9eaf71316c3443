/**
 * The decompression pool: small bodies are decoded on the calling thread (the round trip to the
 * worker would cost a small write's acknowledgement a turn of a busy event loop), large ones on the
 * worker thread; both give the same bytes, and malformed input is refused either way.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SnappyError, snappyEncode } from '../../core/util/snappy.js';
import { waitFor } from '../../testkit/helpers.js';
import { DecompressPool, INLINE_MAX_BYTES } from './decompress_pool.js';

const pool = new DecompressPool();
/** A limit above every body here, so only the test of the limit meets it. */
const LIMIT = INLINE_MAX_BYTES * 4;
pool.start();
after(() => pool.stop());

test('small bodies are decoded inline, large ones on the worker, with the same result', async () => {
  const small = randomBytes(1000);
  const got = await pool.decode(snappyEncode(small), LIMIT);
  assert.deepEqual(got, small);
  assert.equal(pool.offThread, 0);
  pool.release(got);

  const large = randomBytes(INLINE_MAX_BYTES + 1);
  const gotLarge = await pool.decode(snappyEncode(large), LIMIT);
  assert.deepEqual(gotLarge, large);
  assert.equal(pool.offThread, 1);
  pool.release(gotLarge);
});

test('malformed and oversized bodies are refused inline and on the worker', async () => {
  const before = pool.offThread;
  // A header announcing 100 bytes, then a literal running past the end of the input.
  const bad = Buffer.from([100, 0xf0, 0xff, 1, 2, 3]);
  await assert.rejects(pool.decode(bad, LIMIT), SnappyError);
  const badLarge = Buffer.concat([snappyEncode(randomBytes(INLINE_MAX_BYTES * 2)).subarray(0, 1000)]);
  await assert.rejects(pool.decode(badLarge, LIMIT), SnappyError);
  assert.equal(pool.offThread, before + 1);
  await assert.rejects(pool.decode(snappyEncode(randomBytes(5000)), 4000), /exceeds the limit of 4000 bytes/);
});

test('an idle worker ends, and the next large body starts another', async () => {
  const idle = new DecompressPool(100);
  idle.start();
  try {
    const large = randomBytes(INLINE_MAX_BYTES * 3);
    const first = await idle.decode(snappyEncode(large), LIMIT);
    assert.deepEqual(first, large);
    idle.release(first);
    assert.equal(idle.offThread, 1);
    assert.ok(idle.workerAlive);
    await waitFor('the idle worker to end', async () => (idle.workerAlive ? undefined : true), 5000, 20);
    const second = await idle.decode(snappyEncode(large), LIMIT);
    assert.deepEqual(second, large);
    assert.equal(idle.offThread, 2, 'decoded on a new worker, not inline');
  } finally {
    await idle.stop();
  }
});

test('buffers are reused: a released one serves the next body, and a malformed body inline does not cost the pool it', async () => {
  const own = new DecompressPool();
  const first = await own.decode(snappyEncode(randomBytes(2000)), LIMIT);
  const buffer = first.buffer;
  own.release(first);
  const second = await own.decode(snappyEncode(randomBytes(2000)), LIMIT);
  assert.equal(second.buffer, buffer, 'the released buffer decoded the next body');
  own.release(second);
  await assert.rejects(own.decode(Buffer.from([100, 0xf0, 0xff, 1, 2, 3]), LIMIT), SnappyError);
  const third = await own.decode(snappyEncode(randomBytes(2000)), LIMIT);
  assert.equal(third.buffer, buffer, 'still the same buffer after the malformed body');
  own.release(third);
  await own.stop();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { gunzipWithin } from './gunzip.js';

/** Half random, half repeated bytes: compresses, but not to nothing. */
function payload(n: number): Buffer {
  const b = Buffer.alloc(n, 0x61);
  randomBytes(Math.floor(n / 2)).copy(b);
  return b;
}

test('gunzipWithin gives what gunzipSync gives: sizes around the default chunk, several members, a trailer that lies', () => {
  for (const n of [0, 1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 66_658, 1 << 20]) {
    const raw = payload(n);
    assert.deepEqual(gunzipWithin(gzipSync(raw), 32 << 20), raw, `${n} bytes`);
  }
  // Two members: the trailer states the second's size only.
  const a = payload(50_000);
  const b = payload(100);
  assert.deepEqual(gunzipWithin(Buffer.concat([gzipSync(a), gzipSync(b)]), 1 << 20), Buffer.concat([a, b]));
  // A trailer stating 0 or 4 GiB changes the chunk only: zlib checks the stated size itself.
  const raw = payload(40_000);
  for (const stated of [0, 0xffffffff]) {
    const body = gzipSync(raw);
    body.writeUInt32LE(stated, body.length - 4);
    assert.throws(() => gunzipSync(body), /incorrect length check|unexpected end/, 'zlib checks ISIZE too');
    assert.throws(() => gunzipWithin(body, 1 << 20), /incorrect length check|unexpected end/);
  }
});

test('gunzipWithin refuses output past the limit as gunzipSync does, whatever the trailer says', () => {
  const body = gzipSync(Buffer.alloc(100_000));
  assert.throws(
    () => gunzipWithin(body, 99_999),
    (e: NodeJS.ErrnoException) => e.code === 'ERR_BUFFER_TOO_LARGE',
  );
  assert.equal(gunzipWithin(body, 100_000).length, 100_000);
  // A trailer stating less: zlib's own length check fails first, for both.
  body.writeUInt32LE(10, body.length - 4);
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code;
    }
  };
  assert.equal(
    code(() => gunzipWithin(body, 99_999)),
    code(() => gunzipSync(body, { maxOutputLength: 99_999 })),
  );
  assert.equal(
    code(() => gunzipWithin(body, 99_999)),
    'Z_DATA_ERROR',
  );
});

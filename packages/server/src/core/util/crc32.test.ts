import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, crc32Portable } from './crc32.js';

test('crc32: the check value, and a checksum taken in pieces equals the one over the whole', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  const data = Buffer.alloc(100_003);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 7)) & 0xff;
  const whole = crc32(data);
  for (const piece of [1, 4096, 65_536]) {
    let native = 0;
    let portable = 0;
    for (let at = 0; at < data.length; at += piece) {
      native = crc32(data.subarray(at, at + piece), native);
      portable = crc32Portable(data.subarray(at, at + piece), portable);
    }
    assert.equal(native, whole, `native, pieces of ${piece}`);
    assert.equal(portable, whole, `portable, pieces of ${piece}`);
  }
});

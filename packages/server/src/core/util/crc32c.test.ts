import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from './crc32c.js';

test('crc32c matches the published check values', () => {
  // RFC 3720 (iSCSI) B.4 test vectors and the standard "123456789" check value.
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('crc32c continues across pieces and sees every flipped bit', () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31 + 7) & 0xff));
  const whole = crc32c(data);
  for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) assert.equal(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), whole);
  for (let bit = 0; bit < data.length * 8; bit += 37) {
    const copy = Buffer.from(data);
    copy[bit >> 3]! ^= 1 << (bit & 7);
    assert.notEqual(crc32c(copy), whole, `bit ${bit}`);
  }
});

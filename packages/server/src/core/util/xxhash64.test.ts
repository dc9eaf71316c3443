import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xxhash64 } from './xxhash64.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('xxhash64', () => {
  it("matches xxHash's published values", () => {
    assert.equal(xxhash64(enc('')), 0xef46db3751d8e999n);
    assert.equal(xxhash64(enc('abc')), 0x44bc2cf5ad770999n);
    // Longer than one 32-byte stripe: the four-accumulator path.
    assert.equal(xxhash64(enc('Nobody inspects the spammish repetition')), 0xfbcea83c8a378bf1n);
  });

  it('reads inputs at an offset inside a larger buffer', () => {
    const big = enc('xxNobody inspects the spammish repetition');
    assert.equal(xxhash64(big.subarray(2)), 0xfbcea83c8a378bf1n);
  });
});

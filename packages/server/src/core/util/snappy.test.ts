import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnappyDecoder, SnappyError, snappyEncode } from './snappy.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('round-trips empty, tiny, repetitive, random and large inputs', () => {
  const rnd = prng(7);
  const inputs: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from('a'),
    Buffer.from('abcabcabcabcabcabcabcabcabcabc'),
    Buffer.alloc(300_000, 0x41),
    Buffer.from(Array.from({ length: 100_000 }, () => Math.floor(rnd() * 256))),
    Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i % 97 < 50 ? i % 7 : Math.floor(rnd() * 4)))),
  ];
  const dec = new SnappyDecoder();
  for (const input of inputs) {
    const packed = snappyEncode(input);
    assert.deepEqual(Buffer.from(dec.decode(packed)), input);
  }
  assert.ok(snappyEncode(Buffer.alloc(300_000, 0x41)).length < 20_000, 'repetitive data compresses');
});

test('decodes the reference encoding of a known string', () => {
  // "Wikipedia" example from the format description: literal then copies.
  const text = 'Wikipedia is a free, web-based, collaborative, multilingual encyclopedia project.';
  const dec = new SnappyDecoder();
  assert.equal(dec.decode(snappyEncode(Buffer.from(text.repeat(5)))).toString(), text.repeat(5));
});

test('rejects corrupt input with a SnappyError, never another exception', () => {
  const dec = new SnappyDecoder();
  const rnd = prng(42);
  const good = snappyEncode(Buffer.from('hello hello hello hello world '.repeat(50)));
  for (let i = 0; i < 2000; i++) {
    const bad = Buffer.from(good);
    for (let k = 0; k < 3; k++) bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256);
    try {
      dec.decode(bad.subarray(0, Math.floor(rnd() * bad.length) + 1), 1 << 20);
    } catch (err) {
      assert.ok(err instanceof SnappyError, String(err));
    }
  }
  assert.throws(() => dec.decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 1 << 20), SnappyError);
  assert.throws(() => dec.decode(Buffer.from([5, 0x01, 0x00])), SnappyError);
});

test('copies at every short offset and length give what byte-by-byte copying gives, runs included', () => {
  // The decoder moves words; a copy whose source overlaps its destination (offset < length) must
  // still repeat the pattern, and short literals at the input's end must not read past it.
  const dec = new SnappyDecoder();
  const seed = Buffer.from('0123456789abcdef');
  for (let offset = 1; offset <= 16; offset++) {
    for (let len = 1; len <= 64; len++) {
      for (const tailLen of [1, 3, 5, 8, 9]) {
        const tail = Buffer.from('XYZWVUTSR'.slice(0, tailLen));
        const expected = [...seed];
        for (let i = 0; i < len; i++) expected.push(expected[expected.length - offset]!);
        expected.push(...tail);
        // [length varint][literal seed][2-byte-offset copy][literal tail]
        const stream = Buffer.from([expected.length, (seed.length - 1) << 2, ...seed, ((len - 1) << 2) | 2, offset, 0, (tailLen - 1) << 2, ...tail]);
        assert.deepEqual([...dec.decode(stream)], expected, `offset ${offset}, length ${len}, tail ${tailLen}`);
      }
    }
  }
});

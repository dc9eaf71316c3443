import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { internUtf8 } from './protobuf.js';

test('internUtf8 returns exactly the decoded string, whatever the cache holds, and undefined for invalid UTF-8', () => {
  // Many more distinct strings than cache slots, each asked for twice: collisions and hits both.
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 60 }), { minLength: 1, maxLength: 40 }), (strings) => {
      for (const round of [0, 1]) {
        for (const s of strings) {
          const buf = Buffer.concat([Buffer.from([round, 7]), Buffer.from(s, 'utf8'), Buffer.from([9])]);
          assert.equal(internUtf8(buf, 2, buf.length - 1), s.length ? s : '');
        }
      }
    }),
    { numRuns: 2000, seed: 0x1e7 },
  );
  const bad = Buffer.from([0x61, 0xc3, 0x28]);
  assert.equal(internUtf8(bad, 0, 3), undefined);
  assert.equal(internUtf8(Buffer.from('a\ufffdb'), 0, 5), undefined, 'a real U+FFFD takes the strict path too');
});

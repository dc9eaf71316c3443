import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../../core/model/labels.js';
import { encodeLabels, WriteRequestEncoder, type EncodedLabels } from '../proto.js';
import { encodeBatch } from './shard.js';

test("a batch encodes byte for byte as the receiver's WriteRequest encoder writes the same series", () => {
  const labels = new Map<number, EncodedLabels>();
  for (const ref of [3, 7, 11, 12]) labels.set(ref, encodeLabels(labelsFrom({ __name__: 'm', ref: String(ref), pad: 'x'.repeat(ref * 20) })));
  // Repeated refs in any order, a negative and a large timestamp, the staleness marker's NaN payload.
  const stale = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;
  const refs = [7, 3, 7, 12, 11, 3, 7, 12];
  const ts = [1000, -5, 2000, 1_700_000_000_123, 0, 10, 3000, 1_700_000_000_124];
  // Set into the typed array directly: an array literal may quiet the NaN (set its top mantissa bit).
  const vs = Float64Array.from([1.5, -2, 0, 0, Infinity, 42, -0, 1e300]);
  vs[2] = stale;
  const got = encodeBatch({ refs, ts, vs, seqs: refs.map(() => 0) }, (r) => labels.get(r)!);
  const enc = new WriteRequestEncoder();
  for (const ref of [7, 3, 12, 11]) {
    const idx = refs.flatMap((r, i) => (r === ref ? [i] : []));
    const col = new Float64Array(idx.length);
    idx.forEach((i, j) => (col[j] = vs[i]!));
    enc.addSeries(
      labels.get(ref)!,
      idx.map((i) => ts[i]!),
      col,
    );
  }
  assert.deepEqual(got, enc.finish());
  assert.ok(got.includes(Buffer.from([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f])), "the staleness marker's payload is kept");
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../../core/model/labels.js';
import { encodeLabels, WriteRequestEncoder, type EncodedLabels } from '../proto.js';
import { DEFAULT_QUEUE_CONFIG } from './config.js';
import { encodeBatch, shardDecision } from './shard.js';

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

test('the shard count follows throughput within min..max, with a ±30% band and no shrinking while behind', () => {
  const queue = { ...DEFAULT_QUEUE_CONFIG, maxShards: 10 };
  const base = { current: 1, queue, inRate: 10_000, timePerSample: 0.0004, pending: 0, delaySec: 0 };
  assert.deepEqual(shardDecision(base), { desired: 4, reshard: true }, '10,000/s at 0.4 ms a sample: 4 shards');
  assert.deepEqual(shardDecision({ ...base, current: 4, inRate: 11_000 }), { desired: 5, reshard: false }, 'within 30%: kept');
  assert.deepEqual(shardDecision({ ...base, inRate: 1e6 }), { desired: 10, reshard: true }, 'capped at max_shards');
  assert.deepEqual(shardDecision({ ...base, current: 8, inRate: 100 }), { desired: 1, reshard: true }, 'down when the load goes');
  assert.deepEqual(shardDecision({ ...base, current: 8, inRate: 100, delaySec: 60 }).reshard, false, 'not down while 60 s behind');
  assert.equal(shardDecision({ ...base, pending: 100_000 }).desired, 6, 'a backlog adds shards');
});

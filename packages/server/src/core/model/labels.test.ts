import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactLabels, LabelPool, labelsFrom } from './labels.js';

test('compactLabels with a pool: repeated names and values are one object per source, a label that tells series apart stops growing the pool', () => {
  const pool = new LabelPool(4, 3);
  const target = labelsFrom({ job: 'api' });
  const series = Array.from({ length: 20 }, (_, i) =>
    compactLabels(labelsFrom({ __name__: 'rw_total', id: String(i), job: 'api', shard: String(i % 2) }), target, pool),
  );
  for (const s of series) {
    assert.equal(
      s.find((l) => l.name === 'job'),
      target[0],
      "the target's own label object",
    );
    assert.equal(s[0], series[0]![0], 'one __name__ object');
  }
  assert.equal(
    series[2]!.find((l) => l.name === 'shard'),
    series[0]!.find((l) => l.name === 'shard'),
  );
  assert.notEqual(
    series[1]!.find((l) => l.name === 'shard'),
    series[0]!.find((l) => l.name === 'shard'),
  );
  // Four ids pooled, the rest each their own object, equal in content.
  assert.equal(
    compactLabels(labelsFrom({ id: '3' }), [], pool)[0],
    series[3]!.find((l) => l.name === 'id'),
  );
  assert.notEqual(
    compactLabels(labelsFrom({ id: '9' }), [], pool)[0],
    series[9]!.find((l) => l.name === 'id'),
  );
  assert.deepEqual(
    series.map((s) => s.map((l) => `${l.name}=${l.value}`).join(',')),
    series.map((_, i) => `__name__=rw_total,id=${i},job=api,shard=${i % 2}`),
  );
  // Past three names, a fourth name is not pooled.
  const a = compactLabels(labelsFrom({ zone: 'a' }), [], pool)[0];
  assert.notEqual(compactLabels(labelsFrom({ zone: 'a' }), [], pool)[0], a);
  assert.deepEqual(a, { name: 'zone', value: 'a' });
});

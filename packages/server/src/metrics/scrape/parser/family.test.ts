import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCreatedName, isSeriesOfFamily } from './family.js';
import type { MetricType } from './types.js';

const cases: Array<[string, string, MetricType, boolean]> = [
  ['foo_total', 'foo', 'counter', true],
  ['foo_created', 'foo', 'counter', true],
  ['foo_total', 'foo_total', 'counter', true],
  ['foo_created', 'foo_total', 'counter', true],
  ['foo', 'foo', 'counter', true],
  ['foo_sum', 'foo', 'counter', false],
  ['foo_bucket', 'foo', 'histogram', true],
  ['foo_sum', 'foo', 'histogram', true],
  ['foo_count', 'foo', 'histogram', true],
  ['foo_gsum', 'foo', 'histogram', false],
  ['foo_gsum', 'foo', 'gaugehistogram', true],
  ['foo_gcount', 'foo', 'gaugehistogram', true],
  ['foo_sum', 'foo', 'summary', true],
  ['foo_bucket', 'foo', 'summary', false],
  ['foo_info', 'foo', 'info', true],
  ['foo', 'foo', 'stateset', true],
  ['foo_total', 'foo', 'gauge', false],
  ['foobar', 'foo', 'unknown', false],
  ['bar', 'foo', 'gauge', false],
];

for (const [name, family, type, want] of cases) {
  test(`${name} ${want ? 'belongs' : 'does not belong'} to ${type} family ${family}`, () => {
    assert.equal(isSeriesOfFamily(name, family, type), want);
  });
}

test('_created names count only for types that have them', () => {
  assert.ok(isCreatedName('x_created', 'counter'));
  assert.ok(isCreatedName('x_created', 'histogram'));
  assert.ok(isCreatedName('x_created', 'summary'));
  assert.ok(!isCreatedName('x_created', 'gauge'));
  assert.ok(!isCreatedName('x_total', 'counter'));
});

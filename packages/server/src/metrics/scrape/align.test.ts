import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScrapeTimeAligner } from './align.js';

test('stamps within 2 ms of a slot take the slot; others keep their time; skipped slots are passed over', () => {
  const a = new ScrapeTimeAligner(1000);
  const starts = [5000, 6002, 7003, 7999, 8500, 11_001, 11_998, 13_000];
  assert.deepEqual(
    starts.map((s) => a.stamp(s)),
    [5000, 6000, 7003, 8000, 8500, 11_000, 12_000, 13_000],
  );
});

test('intervals of 200 ms or less are not aligned', () => {
  const a = new ScrapeTimeAligner(200);
  assert.deepEqual(
    [0, 201, 399].map((s) => a.stamp(s)),
    [0, 201, 399],
  );
});

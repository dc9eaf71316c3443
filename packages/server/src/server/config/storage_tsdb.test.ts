import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './config.js';
import { effectiveConfigYaml } from './effective.js';

test('out_of_order_time_window: 30m by default, both spellings read, 0 turns it off, shown in the effective configuration', () => {
  assert.equal(parseConfig('listen: 127.0.0.1:9466\n', 'a.yml').storage.outOfOrderWindowMs, 30 * 60_000);
  assert.equal(parseConfig('storage:\n  out_of_order_time_window: 2h\n', 'a.yml').storage.outOfOrderWindowMs, 2 * 3600_000);
  // As Prometheus' own configuration file spells it.
  const pasted = parseConfig('storage:\n  tsdb:\n    out_of_order_time_window: 10m\n  exemplars:\n    max_exemplars: 5\n', 'prometheus.yml');
  assert.equal(pasted.storage.outOfOrderWindowMs, 10 * 60_000);
  assert.deepEqual(pasted.warnings, []);
  const off = parseConfig('storage:\n  out_of_order_time_window: 0s\n', 'a.yml');
  assert.equal(off.storage.outOfOrderWindowMs, 0);
  assert.match(effectiveConfigYaml(pasted), /out_of_order_time_window: 10m/);
});

test('out_of_order_time_window: bad values are refused with the field named', () => {
  const cases: Array<[string, RegExp]> = [
    ['storage:\n  out_of_order_time_window: soon\n', /^c\.yml:2: storage\.out_of_order_time_window: .*not a valid duration/],
    ['storage:\n  out_of_order_time_window: -5m\n', /^c\.yml:2: storage\.out_of_order_time_window: /],
    ['storage:\n  tsdb:\n    retention: 1d\n', /^c\.yml:3: storage\.tsdb\.retention: unknown field/],
    [
      'storage:\n  out_of_order_time_window: 5m\n  tsdb:\n    out_of_order_time_window: 5m\n',
      /storage\.tsdb\.out_of_order_time_window: the window is set twice/,
    ],
  ];
  for (const [text, want] of cases)
    assert.throws(
      () => parseConfig(text, 'c.yml'),
      (e: unknown) => want.test((e as Error).message),
      text,
    );
});

test('decoded_chunk_cache_size: 32 MiB by default, a byte size, 0 turns it off, bad values refused with the field named', () => {
  assert.equal(parseConfig('listen: 127.0.0.1:9466\n', 'a.yml').storage.decodedChunkCacheBytes, 32 * 1024 * 1024);
  const set = parseConfig('storage:\n  decoded_chunk_cache_size: 256MB\n', 'a.yml');
  assert.equal(set.storage.decodedChunkCacheBytes, 256 * 1024 * 1024);
  assert.match(effectiveConfigYaml(set), /decoded_chunk_cache_size: 256MB/);
  assert.equal(parseConfig('storage:\n  decoded_chunk_cache_size: 0B\n', 'a.yml').storage.decodedChunkCacheBytes, 0);
  assert.throws(() => parseConfig('storage:\n  decoded_chunk_cache_size: plenty\n', 'c.yml'), /c\.yml:2: storage\.decoded_chunk_cache_size: .*invalid size/);
});

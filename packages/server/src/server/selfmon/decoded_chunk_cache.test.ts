// The decoded-chunk cache in a running server: the configured budget, and a repeated range query
// served from it, as /metrics reports them; nocache=1 (a result-cache switch) does not bypass it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { getJson, postWrite, startServer, writeBody } from '../../testkit/helpers.js';

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (m === null) throw new Error(`${name} not on /metrics`);
  return Number(m[1]);
}

test('decoded-chunk cache: its budget, size, hits and misses on /metrics', async () => {
  const { url, stop } = await startServer((c) => (c.storage.decodedChunkCacheBytes = 1024 * 1024));
  try {
    const end = Math.floor(Date.now() / 15_000) * 15_000;
    // 300 samples 15 s apart: two full chunks of 120 and an open one.
    const samples: Array<[number, number]> = Array.from({ length: 300 }, (_, i) => [end - (299 - i) * 15_000, i * 2]);
    assert.equal((await postWrite(url, writeBody([{ labels: labelsFrom({ __name__: 'cached_total', job: 'a' }), samples }]))).status, 204);
    const query = `${url}/api/v1/query_range?query=cached_total&start=${(end - 299 * 15_000) / 1000}&end=${end / 1000}&step=15&nocache=1`;
    const first = await getJson(query);
    const second = await getJson(query);
    assert.deepEqual(second.body, first.body);
    const values = (first.body.data as { result: Array<{ values: unknown[] }> }).result[0]!.values;
    assert.equal(values.length, 300);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.equal(metric(text, 'vigil_tsdb_decoded_chunk_cache_max_bytes'), 1024 * 1024);
    // Two closed chunks, or three when a two-hour boundary (where chunks are also cut) falls in the range.
    const entries = metric(text, 'vigil_tsdb_decoded_chunk_cache_entries');
    assert.ok(entries === 2 || entries === 3, `${entries} entries`);
    assert.equal(metric(text, 'vigil_tsdb_decoded_chunk_cache_misses_total'), entries, 'each decoded once');
    assert.equal(metric(text, 'vigil_tsdb_decoded_chunk_cache_hits_total'), entries, 'and read from the cache the second time');
    assert.equal(metric(text, 'vigil_tsdb_decoded_chunk_cache_evictions_total'), 0);
    // Evenly spaced, integer values: at most 4 bytes a sample besides each entry's fixed cost.
    const bytes = metric(text, 'vigil_tsdb_decoded_chunk_cache_bytes');
    assert.ok(bytes > 0 && bytes <= 300 * 4 + entries * 240, `${bytes} bytes`);
  } finally {
    await stop();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../model/labels.js';
import { createParser } from '../../metrics/scrape/parser/index.js';
import { postWrite, startServer, writeBody } from '../../testkit/helpers.js';

test('/metrics exposes process, storage, ingest and HTTP metrics in valid text format', async () => {
  const srv = await startServer();
  try {
    const r = await postWrite(srv.url, writeBody([{ labels: labelsFrom({ __name__: 'm' }), samples: [[Date.now(), 1]] }]));
    assert.equal(r.status, 204);
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    // Our own parser must accept it, as any Prometheus scraping Vigil would.
    const p = createParser(Buffer.from(text), 'prometheus-text');
    const names = new Map<string, number>();
    for (let kind = p.next(); kind !== 'eof'; kind = p.next()) if (kind === 'series') names.set(p.seriesKey(), p.value());
    const value = (key: string): number | undefined => names.get(key);
    assert.equal(value('vigil_tsdb_head_series'), 1);
    assert.equal(value('vigil_remote_write_samples_total'), 1);
    assert.ok((value('process_resident_memory_bytes') ?? 0) > 1e6);
    assert.equal(value('vigil_http_request_duration_seconds_count{handler="/api/v1/write",code="204"}'), 1);
    assert.ok([...names.keys()].some((k) => k.startsWith('vigil_http_request_duration_seconds_bucket{handler="/api/v1/write",code="204",le="0.001"}')));
  } finally {
    await srv.stop();
  }
});

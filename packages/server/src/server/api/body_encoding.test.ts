/**
 * Content-Encoding at every push receiver, through real HTTP: a gzip bomb is 413 naming the limit,
 * an encoding the receiver does not take is 415, a body that does not inflate is 400, and the
 * server still ingests afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { startServer } from '../../testkit/helpers.js';

const RECEIVERS: readonly { path: string; contentType: string }[] = [
  { path: '/v1/traces', contentType: 'application/x-protobuf' },
  { path: '/v1/logs', contentType: 'application/x-protobuf' },
  { path: '/v1/metrics', contentType: 'application/x-protobuf' },
  { path: '/loki/api/v1/push', contentType: 'application/json' },
  { path: '/api/v2/spans', contentType: 'application/json' },
];

test('every push receiver refuses a gzip bomb (413), an unknown coding (415) and a broken body (400) alike', async () => {
  const srv = await startServer();
  try {
    // 256 MiB of zeros: far past every receiver's limit, about 250 KB compressed.
    const zeros = Buffer.alloc(256 << 20);
    const cases = [
      { what: 'gzip bomb', body: gzipSync(zeros), coding: 'gzip', status: 413, message: /the gzip body inflates past/ },
      { what: 'deflate bomb', body: deflateSync(zeros), coding: 'deflate', status: 413, message: /the deflate body inflates past/ },
      { what: 'brotli', body: Buffer.from('x'), coding: 'br', status: 415, message: /unsupported Content-Encoding br/ },
      { what: 'plain bytes said to be gzip', body: Buffer.from('{"not":"gzip"}'), coding: 'gzip', status: 400, message: /cannot decompress the gzip body/ },
    ];
    for (const r of RECEIVERS)
      for (const c of cases) {
        const res = await fetch(`${srv.url}${r.path}`, {
          method: 'POST',
          body: c.body,
          headers: { 'content-type': r.contentType, 'content-encoding': c.coding },
        });
        const text = Buffer.from(await res.arrayBuffer()).toString('latin1');
        assert.equal(res.status, c.status, `${r.path}, ${c.what}: ${text}`);
        assert.match(text, c.message, `${r.path}, ${c.what}`);
      }
    // A well-formed gzip push still lands.
    const push = { streams: [{ stream: { job: 'after' }, values: [[String(Date.now() * 1e6), 'still here']] }] };
    const ok = await fetch(`${srv.url}/loki/api/v1/push`, {
      method: 'POST',
      body: gzipSync(JSON.stringify(push)),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    assert.equal(ok.status, 204);
  } finally {
    await srv.stop();
  }
});

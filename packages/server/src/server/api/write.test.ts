import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { snappyEncode } from '../../core/util/snappy.js';
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { getJson, postWrite, startServer, writeBody } from '../../testkit/helpers.js';

let srv: Awaited<ReturnType<typeof startServer>>;
before(async () => {
  srv = await startServer((c) => {
    c.remoteWrite.maxBodyBytes = 1024 * 1024;
  });
});
after(async () => srv.stop());

const T0 = 1_700_000_000_000;

async function seriesOf(match: string): Promise<Array<Record<string, string>>> {
  const r = await getJson(`${srv.url}/api/v1/series?match[]=${encodeURIComponent(match)}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.data as Array<Record<string, string>>;
}

test('accepts a valid WriteRequest and the series API returns what was written', async () => {
  const body = writeBody([
    {
      labels: labelsFrom({ __name__: 'http_requests_total', job: 'shop', code: '200' }),
      samples: [
        [T0, 1],
        [T0 + 15_000, 4],
      ],
    },
    { labels: labelsFrom({ __name__: 'http_requests_total', job: 'shop', code: '500' }), samples: [[T0, 0]] },
  ]);
  const r = await postWrite(srv.url, body);
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await seriesOf('http_requests_total'), [
    { __name__: 'http_requests_total', code: '200', job: 'shop' },
    { __name__: 'http_requests_total', code: '500', job: 'shop' },
  ]);
  const values = await getJson(`${srv.url}/api/v1/label/code/values`);
  assert.deepEqual(values.body.data, ['200', '500']);
  const labels = await getJson(`${srv.url}/api/v1/labels?match[]=http_requests_total`);
  assert.deepEqual(labels.body.data, ['__name__', 'code', 'job']);
});

const bad: Array<[string, Labels]> = [
  [
    'unsorted labels',
    [
      { name: '__name__', value: 'm' },
      { name: 'z', value: '1' },
      { name: 'a', value: '2' },
    ],
  ],
  [
    'duplicate label names',
    [
      { name: '__name__', value: 'm' },
      { name: 'a', value: '1' },
      { name: 'a', value: '2' },
    ],
  ],
  [
    'an empty label name',
    [
      { name: '', value: 'x' },
      { name: '__name__', value: 'm' },
    ],
  ],
  [
    'an invalid label name',
    [
      { name: '__name__', value: 'm' },
      { name: 'a-b', value: '1' },
    ],
  ],
  ['an invalid metric name', [{ name: '__name__', value: '1m' }]],
  ['no metric name', [{ name: 'job', value: 'x' }]],
];

for (const [what, labels] of bad) {
  test(`rejects ${what} with 400 and writes nothing of the request`, async () => {
    const good = labelsFrom({ __name__: 'innocent_bystander', case: what.replace(/\W/g, '_') });
    const body = writeBody([
      { labels: good, samples: [[T0, 1]] },
      { labels, samples: [[T0, 1]] },
    ]);
    const r = await postWrite(srv.url, body);
    assert.equal(r.status, 400);
    assert.ok(r.text.length > 0, 'a message says why');
    assert.deepEqual(await seriesOf(`innocent_bystander{case="${what.replace(/\W/g, '_')}"}`), []);
  });
}

test('rejects bad snappy and bad protobuf with 400, oversized bodies with 413', async () => {
  const notSnappy = await postWrite(srv.url, Buffer.from('definitely not snappy data at all'));
  assert.equal(notSnappy.status, 400);
  assert.match(notSnappy.text, /snappy/);
  const notProto = await postWrite(srv.url, snappyEncode(Buffer.from([0x0a, 0xff, 0xff, 0x03, 0x01])));
  assert.equal(notProto.status, 400);
  assert.match(notProto.text, /protobuf/);
  const huge = await postWrite(srv.url, Buffer.alloc(2 * 1024 * 1024, 1));
  assert.equal(huge.status, 413);
  assert.match(huge.text, /limit/);
  // A small body that claims a huge decompressed size.
  const liar = await postWrite(srv.url, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]));
  assert.equal(liar.status, 400);
});

test('out-of-order samples (older than the 30m out-of-order window) fail the request with 400 and nothing of it is written', async () => {
  const lbl = labelsFrom({ __name__: 'ooo_metric' });
  assert.equal((await postWrite(srv.url, writeBody([{ labels: lbl, samples: [[T0 + 40 * 60_000, 1]] }]))).status, 204);
  const r = await postWrite(
    srv.url,
    writeBody([
      { labels: labelsFrom({ __name__: 'ooo_metric', extra: 'new' }), samples: [[T0, 1]] },
      { labels: lbl, samples: [[T0, 2]] },
    ]),
  );
  assert.equal(r.status, 400);
  assert.match(r.text, /out of order/);
  assert.deepEqual(await seriesOf('ooo_metric'), [{ __name__: 'ooo_metric' }]);
});

test('series API: multiple match[], time range, limit with a warning, form POST and errors', async () => {
  const series = ['a', 'b', 'c'].map((j) => ({
    labels: labelsFrom({ __name__: 'api_metric', job: j }),
    samples: [[T0 + 3_600_000, 1]] as Array<[number, number]>,
  }));
  assert.equal((await postWrite(srv.url, writeBody(series))).status, 204);
  const two = await getJson(
    `${srv.url}/api/v1/series?match[]=api_metric{job="a"}&match[]=api_metric{job=~"b|c"}&start=${(T0 + 3_000_000) / 1000}&end=${(T0 + 4_000_000) / 1000}`,
  );
  assert.equal((two.body.data as unknown[]).length, 3);
  const before = await getJson(`${srv.url}/api/v1/series?match[]=api_metric&end=${new Date(T0).toISOString()}`);
  assert.deepEqual(before.body.data, []);
  const limited = await getJson(`${srv.url}/api/v1/series?match[]=api_metric&limit=2`);
  assert.equal((limited.body.data as unknown[]).length, 2);
  assert.deepEqual(limited.body.warnings, ['results truncated due to limit']);
  const form = await fetch(`${srv.url}/api/v1/series`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'match[]=api_metric%7Bjob%3D%22c%22%7D',
  });
  assert.deepEqual(((await form.json()) as { data: unknown }).data, [{ __name__: 'api_metric', job: 'c' }]);
  const noMatch = await getJson(`${srv.url}/api/v1/series`);
  assert.equal(noMatch.status, 400);
  assert.equal(noMatch.body.errorType, 'bad_data');
  const badMatch = await getJson(`${srv.url}/api/v1/series?match[]=${encodeURIComponent('api_metric{')}`);
  assert.equal(badMatch.status, 400);
  const badTime = await getJson(`${srv.url}/api/v1/labels?start=yesterday`);
  assert.equal(badTime.status, 400);
  assert.match(badTime.body.error!, /start/);
  const vals = await getJson(`${srv.url}/api/v1/label/job/values?match[]=api_metric&limit=1`);
  assert.deepEqual(vals.body.data, ['a']);
});

test('metadata sent with remote_write is served by /api/v1/metadata', async () => {
  const { WriteRequestEncoder } = await import('../../metrics/remotewrite/proto.js');
  const enc = new WriteRequestEncoder();
  enc.addMetadata('shop_orders_total', 'counter', 'Orders placed.');
  assert.equal((await postWrite(srv.url, snappyEncode(enc.finish()))).status, 204);
  const md = await getJson(`${srv.url}/api/v1/metadata?metric=shop_orders_total`);
  assert.deepEqual(md.body.data, { shop_orders_total: [{ type: 'counter', help: 'Orders placed.', unit: '' }] });
});

/**
 * remote_write 2.0 over HTTP against a started server, with messages built by hand per the 2.0
 * specification (Debian's Prometheus 2.42 sends only 1.0): samples, created timestamps, exemplars
 * and metadata stored and read back; the X-Prometheus-Remote-Write-*-Written headers on success
 * and refusal; 415 for another proto or encoding; 400 for a malformed symbols table (native
 * histograms: remote_write_histograms.test.ts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { getJson, startServer } from '../../testkit/helpers.js';
import { encodeV2Request } from '../../testkit/rw2.js';

const V2_TYPE = 'application/x-protobuf;proto=io.prometheus.write.v2.Request';

const srv = await startServer();
after(() => srv.stop());

async function post(
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; written: [string | null, string | null, string | null] }> {
  const res = await fetch(`${srv.url}/api/v1/write`, {
    method: 'POST',
    headers: { 'content-type': V2_TYPE, 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '2.0.0', ...headers },
    body,
  });
  return {
    status: res.status,
    text: await res.text(),
    written: [
      res.headers.get('x-prometheus-remote-write-samples-written'),
      res.headers.get('x-prometheus-remote-write-histograms-written'),
      res.headers.get('x-prometheus-remote-write-exemplars-written'),
    ],
  };
}

async function range(q: string, start: number, end: number): Promise<Array<[number, string]>> {
  const { body } = await getJson(`${srv.url}/api/v1/query_range?query=${encodeURIComponent(q)}&start=${start / 1000}&end=${end / 1000}&step=1`);
  const result = (body.data as { result: Array<{ values: Array<[number, string]> }> }).result;
  return result[0]?.values ?? [];
}

const T = Math.floor(Date.now() / 1000) * 1000 - 60_000;

test('samples, a created timestamp, exemplars and metadata are stored; the Written headers count them', async () => {
  const labels = labelsFrom({ __name__: 'orders_total', job: 'shop' });
  const res = await post(
    snappyEncode(
      encodeV2Request([
        {
          labels,
          ts: [T, T + 1000],
          vs: [3, 5],
          createdTs: T - 2000,
          exemplars: [{ labels: labelsFrom({ trace_id: 'abc123' }), value: 1, ts: T + 1000 }],
          metadata: { type: 'counter', help: 'Orders placed.', unit: '' },
        },
        {
          labels: labelsFrom({ __name__: 'temperature_celsius', room: 'a' }),
          ts: [T],
          vs: [21.5],
          metadata: { type: 'gauge', help: 'Room.', unit: 'celsius' },
        },
      ]),
    ),
  );
  assert.equal(res.status, 204, res.text);
  assert.deepEqual(res.written, ['3', '0', '1']);
  // The zero sample at the created timestamp comes first, so rate() sees the first increase.
  assert.deepEqual(await range('orders_total', T - 2000, T + 1000), [
    [(T - 2000) / 1000, '0'],
    [(T - 1000) / 1000, '0'],
    [T / 1000, '3'],
    [(T + 1000) / 1000, '5'],
  ]);
  const md = await getJson(`${srv.url}/api/v1/metadata`);
  const data = md.body.data as Record<string, Array<{ type: string; help: string; unit: string }>>;
  assert.deepEqual(data['orders_total'], [{ type: 'counter', help: 'Orders placed.', unit: '' }]);
  assert.deepEqual(data['temperature_celsius'], [{ type: 'gauge', help: 'Room.', unit: 'celsius' }]);
  const ex = await getJson(`${srv.url}/api/v1/query_exemplars?query=orders_total&start=${(T - 5000) / 1000}&end=${(T + 5000) / 1000}`);
  const exs = ex.body.data as Array<{ exemplars: Array<{ labels: Record<string, string>; value: string }> }>;
  assert.deepEqual(
    exs[0]?.exemplars.map((e) => [e.labels, e.value]),
    [[{ trace_id: 'abc123' }, '1']],
  );

  // The next request's created timestamp is older than what the series has: no second zero.
  const again = await post(snappyEncode(encodeV2Request([{ labels, ts: [T + 2000], vs: [6], createdTs: T - 2000 }])));
  assert.equal(again.status, 204);
  assert.deepEqual(again.written, ['1', '0', '0']);
  assert.equal((await range('orders_total', T - 2000, T + 2000)).filter(([, v]) => v === '0').length, 2);
});

test('refusals: 415 for another proto or encoding, 400 for a malformed symbols table, with zero Written headers', async () => {
  const body = snappyEncode(encodeV2Request([{ labels: labelsFrom({ __name__: 'x' }), ts: [T], vs: [1] }]));
  const otherProto = await post(body, { 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v3.Request' });
  assert.equal(otherProto.status, 415);
  assert.match(otherProto.text, /unsupported remote_write message proto=io\.prometheus\.write\.v3\.Request/);
  const gzip = await post(body, { 'content-encoding': 'gzip' });
  assert.equal(gzip.status, 415);
  assert.deepEqual(gzip.written, ['0', '0', '0']);
  // symbols[0] must be '': a request whose table starts elsewhere is malformed.
  const raw = Buffer.concat([Buffer.from([0x22, 0x01, 0x61]), Buffer.from([0x2a, 0x06, 0x0a, 0x02, 0x00, 0x00, 0x12, 0x00])]);
  const bad = await post(snappyEncode(raw));
  assert.equal(bad.status, 400);
  assert.match(bad.text, /symbols\[0\] must be the empty string/);
  assert.deepEqual(bad.written, ['0', '0', '0']);
  const badRef = await post(snappyEncode(Buffer.concat([Buffer.from([0x22, 0x00]), Buffer.from([0x2a, 0x04, 0x0a, 0x02, 0x00, 0x07])])));
  assert.equal(badRef.status, 400);
  assert.match(badRef.text, /refers to symbol 7, past the 1 symbols/);
  // remote_write 1.0 still answers on the same path, without the 2.0 headers.
  const v1 = await fetch(`${srv.url}/api/v1/write`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf;proto=prometheus.WriteRequest', 'content-encoding': 'snappy' },
    body: snappyEncode(Buffer.alloc(0)),
  });
  assert.equal(v1.status, 204);
  assert.equal(v1.headers.get('x-prometheus-remote-write-samples-written'), null);
});

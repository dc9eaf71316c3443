/**
 * Bad input to `POST /v1/traces` through real HTTP against a started server: truncated protobuf,
 * wrong ids, huge attributes, deeply nested AnyValues, gzip bombs and wrong content types. A
 * request refused as a whole is a 4xx with a message naming the problem and writes nothing; a
 * span refused on its own (a wrong id) is reported in partial_success, as the OTLP specification
 * has it, and only it is left out. After every case the server still answers and still ingests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { encodeTracesData, toOtlpJson } from '../../traces/ingest/otlp_encode.js';
import type { Span } from '../../traces/storage/types.js';
import type { VigilServer } from '../cmd/server.js';
import { startServer } from '../../testkit/helpers.js';
import { demoTrace, rng } from '../../testkit/tracegen.js';
import { FUZZ_SEED, pb } from '../../testkit/fuzz/harness.js';

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

/** Spans the store holds, head and blocks. */
function stored(server: VigilServer): number {
  const s = server.traces.stats();
  return s.headSpans + s.blockSpans;
}

/** One demo-shaped trace starting a minute ago. */
function oneTrace(seed: number): Span[] {
  return demoTrace(rng(seed), BigInt(Date.now() - 60_000) * 1_000_000n);
}

const jsonOf = (spans: Span[]): string => JSON.stringify({ resourceSpans: toOtlpJson(spans) });

async function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/v1/traces`, { method: 'POST', body, headers });
  // A protobuf reply (google.rpc.Status) is read as latin1 so its message is searchable.
  return { status: res.status, text: Buffer.from(await res.arrayBuffer()).toString('latin1') };
}

/** Nests an AnyValue `depth` levels deep in arrays, as protobuf bytes. */
function nestedAnyValueProto(depth: number): Buffer {
  let v = pb.ld(1, 'leaf');
  for (let i = 0; i < depth; i++) v = pb.ld(5, pb.ld(1, v));
  return v;
}

/** An ExportTraceServiceRequest of one span with the given attribute KeyValue bytes. */
function spanWithAttrProto(kv: Buffer): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = Buffer.concat([
    pb.ld(1, Buffer.alloc(16, 0xab)),
    pb.ld(2, Buffer.alloc(8, 0xcd)),
    pb.ld(5, 'deep'),
    pb.f64(7, now - 1_000_000n),
    pb.f64(8, now),
    pb.ld(9, kv),
  ]);
  return pb.ld(1, pb.ld(2, pb.ld(2, span)));
}

test('POST /v1/traces refuses bad input with a clear 4xx, writes nothing, and keeps answering', async () => {
  const srv = await startServer();
  try {
    const valid = oneTrace(1);
    const body = encodeTracesData(valid);
    const check = async (what: string, b: Buffer | string, headers: Record<string, string>, status: number, message: RegExp): Promise<void> => {
      const before = stored(srv.server);
      const res = await post(srv.url, b, headers);
      assert.equal(res.status, status, `${what}: ${res.text}`);
      assert.match(res.text, message, what);
      assert.equal(stored(srv.server), before, `${what}: nothing written`);
    };

    // Truncated protobuf: every cut inside the body that breaks a field's length is a 400 naming the byte.
    let truncations = 0;
    for (let cut = 1; cut < body.length; cut += Math.max(1, Math.floor(body.length / 40))) {
      const res = await post(srv.url, body.subarray(0, cut), PROTO);
      if (res.status === 200) continue; // a cut between two whole resourceSpans is itself a valid, shorter request
      truncations++;
      assert.equal(res.status, 400, `cut at ${cut}: ${res.text}`);
      assert.match(res.text, new RegExp(`malformed OTLP protobuf ExportTraceServiceRequest: .* at byte \\d+ of ${cut}`), `cut at ${cut}`);
    }
    assert.ok(truncations >= 30, `${truncations} truncations refused`);
    const afterCuts = stored(srv.server);

    // Huge attributes: a value past the request limit is a 413; many attributes past the per-span limit refuse that span.
    await check(
      'body past max_request_bytes',
      spanWithAttrProto(Buffer.concat([pb.ld(1, 'big'), pb.ld(2, pb.ld(1, 'x'.repeat(17 << 20)))])),
      PROTO,
      413,
      /max_request_bytes/,
    );
    const manyAttrs = oneTrace(2).slice(0, 1);
    for (let i = 0; i < 200; i++) manyAttrs[0]!.attributes[`a${i}`] = i;
    const many = await post(srv.url, encodeTracesData(manyAttrs), PROTO);
    assert.equal(many.status, 200);
    assert.match(many.text, /max_attributes_per_span|more than 128 attributes/);
    const bigValue = oneTrace(3).slice(0, 1);
    bigValue[0]!.attributes['huge'] = 'v'.repeat(1 << 20);
    const big = await post(srv.url, encodeTracesData(bigValue), PROTO);
    assert.equal(big.status, 200);
    assert.match(big.text, /2048/);
    assert.equal(stored(srv.server), afterCuts, 'spans refused for their attributes are not written');

    // Deeply nested AnyValue, protobuf and JSON: refused as malformed, no stack overflow.
    await check(
      'protobuf AnyValue nested 10,000 deep',
      spanWithAttrProto(Buffer.concat([pb.ld(1, 'deep'), pb.ld(2, nestedAnyValueProto(10_000))])),
      PROTO,
      400,
      /nests? deeper than \d+ levels/,
    );
    // Spliced in as text: JSON.stringify itself would overflow the stack on it.
    const nested = '{"arrayValue":{"values":['.repeat(10_000) + '{"stringValue":"leaf"}' + ']}}'.repeat(10_000);
    const deepJson = jsonOf(oneTrace(4)).replace('"attributes":[', `"attributes":[{"key":"deep","value":${nested}},`);
    await check('JSON AnyValue nested 10,000 deep', deepJson, JSON_CT, 400, /nests? deeper than \d+ levels/);

    // Gzip bombs: 40 KB of gzip that inflates to 40 MiB; and gzip that is not gzip.
    const bomb = gzipSync(Buffer.alloc(40 << 20));
    assert.ok(bomb.length < 64 << 10);
    await check('gzip bomb', bomb, { ...PROTO, 'content-encoding': 'gzip' }, 413, /inflates past max_request_bytes/);
    await check('deflate bomb, JSON', gzipSync(Buffer.alloc(40 << 20)), { ...JSON_CT, 'content-encoding': 'gzip' }, 413, /inflates past/);
    await check('gzip header on a plain body', body, { ...PROTO, 'content-encoding': 'gzip' }, 400, /cannot decompress the gzip body/);
    await check('unknown content encoding', body, { ...PROTO, 'content-encoding': 'br' }, 415, /unsupported Content-Encoding br/);

    // Wrong content types.
    for (const ct of ['text/plain', 'application/xml', 'application/grpc', 'multipart/form-data; boundary=x', ''])
      await check(`Content-Type ${JSON.stringify(ct)}`, body, ct ? { 'content-type': ct } : {}, 415, /unsupported Content-Type/);
    await check('JSON sent as protobuf', jsonOf(valid), PROTO, 400, /malformed OTLP protobuf/);
    await check('protobuf sent as JSON', body, JSON_CT, 400, /JSON/);

    // Wrong ids refuse their span only (partial_success), protobuf and JSON alike.
    const ids: Array<[string, (s: Span) => void]> = [
      ['short trace id', (s) => (s.traceId = s.traceId.slice(2))],
      ['all-zero trace id', (s) => (s.traceId = '0'.repeat(32))],
      ['short span id', (s) => (s.spanId = s.spanId.slice(4))],
      ['all-zero span id', (s) => (s.spanId = '0'.repeat(16))],
    ];
    let seed = 10;
    for (const [what, spoil] of ids) {
      for (const enc of ['protobuf', 'json'] as const) {
        const t = oneTrace(seed++);
        spoil(t[0]!);
        const before = stored(srv.server);
        const res = enc === 'protobuf' ? await post(srv.url, encodeTracesData(t), PROTO) : await post(srv.url, jsonOf(t), JSON_CT);
        assert.equal(res.status, 200, `${what} (${enc}): ${res.text}`);
        assert.match(res.text, /(traceId|spanId|trace_id|span_id) is not (16|8) bytes/, `${what} (${enc})`);
        assert.equal(stored(srv.server), before + t.length - 1, `${what} (${enc}): only the bad span is left out`);
      }
    }
    for (const enc of ['json'] as const) {
      const t = oneTrace(seed++);
      t[0]!.traceId = 'zz' + t[0]!.traceId.slice(2);
      const bad = JSON.parse(jsonOf(t)) as unknown;
      const before = stored(srv.server);
      const res = await post(srv.url, JSON.stringify(bad), JSON_CT);
      assert.equal(res.status, 200, `non-hex trace id (${enc}): ${res.text}`);
      assert.match(res.text, /traceId is not 16 bytes of hex/);
      assert.equal(stored(srv.server), before + t.length - 1);
    }

    // Still answering and still ingesting.
    assert.equal((await fetch(`${srv.url}/-/ready`)).status, 200);
    const ok = await post(srv.url, body, PROTO);
    assert.equal(ok.status, 200);
    const got = (await (await fetch(`${srv.url}/api/traces/${valid[0]!.traceId}`)).json()) as { batches: Array<{ scopeSpans: Array<{ spans: unknown[] }> }> };
    assert.equal(got.batches.flatMap((b) => b.scopeSpans.flatMap((s) => s.spans)).length, valid.length);
  } finally {
    await srv.stop();
  }
});

test('property through HTTP: any body is a 200 or a 4xx, a refused request writes nothing, the server keeps answering', async () => {
  const srv = await startServer();
  try {
    const validBody = fc.integer({ min: 1, max: 1_000_000 }).map((seed) => encodeTracesData(oneTrace(seed)));
    // Valid requests with bytes flipped, cut short, or spliced; and random bytes.
    const body = fc.oneof(
      validBody,
      fc.tuple(validBody, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
        const c = Buffer.from(b);
        c[at % c.length] = v;
        return c;
      }),
      fc.tuple(validBody, fc.nat()).map(([b, at]) => b.subarray(0, at % b.length)),
      fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
    );
    const gz = fc.boolean();
    await fc.assert(
      fc.asyncProperty(body, gz, async (b, zip) => {
        const before = stored(srv.server);
        const res = await post(srv.url, zip ? gzipSync(b) : b, zip ? { ...PROTO, 'content-encoding': 'gzip' } : PROTO);
        assert.ok([200, 400, 413].includes(res.status), `status ${res.status}: ${res.text}`);
        if (res.status !== 200) {
          assert.ok(res.text.length > 10, 'a refusal says why');
          assert.equal(stored(srv.server), before, 'a refused request writes nothing');
        }
      }),
      { numRuns: 150, seed: FUZZ_SEED },
    );
    assert.equal((await fetch(`${srv.url}/-/ready`)).status, 200);
  } finally {
    await srv.stop();
  }
});

// The sender's remote_write 2.0 requests against the specification's field numbers and wire types
// (2.0-rc.3, prompb/io/prometheus/write/v2/types.proto), read with a protobuf walker written here
// from the wire format alone, and against the receiver's own decoder; and how responses are judged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram } from '../../../core/model/histogram.js';
import { labelsFrom } from '../../../core/model/labels.js';
import { STALE_NAN } from '../../../core/model/value.js';
import { encodeLabels } from '../proto.js';
import { decodeV2Request } from '../v2.js';
import { encodeBatchV2, v2Outcome, V2RequestBuilder, writtenFrom } from './v2_request.js';

type Field = { no: number; wire: number; int?: bigint; bytes?: Buffer };

/** Every field of a message: number, wire type, and its varint / fixed64 (as raw bits) / bytes. */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let p = 0;
  const varint = (): bigint => {
    let x = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[p++]!;
      x |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return x;
    }
  };
  while (p < buf.length) {
    const key = Number(varint());
    const f: Field = { no: key >>> 3, wire: key & 7 };
    if (f.wire === 0) f.int = varint();
    else if (f.wire === 1) {
      f.int = buf.readBigUInt64LE(p);
      p += 8;
    } else if (f.wire === 2) {
      const n = Number(varint());
      f.bytes = buf.subarray(p, p + n);
      p += n;
    } else throw new Error(`wire type ${f.wire}`);
    out.push(f);
  }
  return out;
}

function packedInts(b: Buffer): number[] {
  const out: number[] = [];
  let x = 0;
  let shift = 0;
  for (const byte of b) {
    x += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) {
      out.push(x);
      x = shift = 0;
    }
  }
  return out;
}

const f64 = (bits: bigint): number => Buffer.from(new BigUint64Array([bits]).buffer).readDoubleLE(0);
/** Allowed (field number → wire type) of each message, from the specification. */
const SCHEMA: Record<string, Record<number, number>> = {
  Request: { 4: 2, 5: 2 },
  TimeSeries: { 1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 0 },
  Sample: { 1: 1, 2: 0 },
  Exemplar: { 1: 2, 2: 1, 3: 0 },
  Metadata: { 1: 0, 3: 0, 4: 0 },
};

function check(msg: string, fs: Field[]): Field[] {
  for (const f of fs) assert.equal(SCHEMA[msg]![f.no], f.wire, `${msg} field ${f.no} has wire type ${f.wire}`);
  return fs;
}

test('a 2.0 batch request: symbols first and deduplicated, label refs in pairs, samples, histograms and metadata at their field numbers', () => {
  const series = new Map([
    [7, encodeLabels(labelsFrom({ __name__: 'http_requests_total', code: '200', job: 'api' }))],
    [9, encodeLabels(labelsFrom({ __name__: 'latency_seconds', job: 'api' }))],
  ]);
  const h = FloatHistogram.of({
    schema: 1,
    zeroThreshold: 0.001,
    zeroCount: 2,
    count: 9,
    sum: 4.5,
    positiveSpans: [{ offset: -1, length: 2 }],
    positiveBuckets: [3, 4],
  });
  const batch = {
    refs: [7, 9, 7],
    ts: [1_700_000_000_000, 1_700_000_000_500, 1_700_000_001_000],
    vs: new Float64Array(3),
    seqs: [0, 0, 1],
    hs: [undefined, h, undefined],
  };
  // Set one by one: a Float64Array made from an array literal quiets the marker's NaN.
  batch.vs[0] = 5;
  batch.vs[1] = NaN;
  batch.vs[2] = STALE_NAN;
  const meta = new Map([['http_requests_total', { type: 'counter', help: 'Requests served.', unit: '' }]]);
  const { body, counts } = encodeBatchV2(
    batch,
    (r) => series.get(r)!,
    (n) => meta.get(n),
  );
  assert.deepEqual(counts, { samples: 2, histograms: 1 });

  const top = check('Request', fields(body));
  const symbols = top.filter((f) => f.no === 4).map((f) => f.bytes!.toString());
  const firstSeries = top.findIndex((f) => f.no === 5);
  assert.ok(
    top.slice(0, firstSeries).every((f) => f.no === 4),
    'symbols come first',
  );
  assert.equal(symbols[0], '', 'symbols[0] is the empty string');
  assert.equal(new Set(symbols).size, symbols.length, 'no symbol twice');
  const ts = top.filter((f) => f.no === 5).map((f) => check('TimeSeries', fields(f.bytes!)));
  assert.equal(ts.length, 2, 'one TimeSeries per series (floats and histograms apart)');

  const labelsOf = (t: Field[]): Record<string, string> => {
    const refs = packedInts(t.find((f) => f.no === 1)!.bytes!);
    assert.equal(refs.length % 2, 0);
    const out: Record<string, string> = {};
    for (let i = 0; i < refs.length; i += 2) out[symbols[refs[i]!]!] = symbols[refs[i + 1]!]!;
    return out;
  };
  assert.deepEqual(labelsOf(ts[0]!), { __name__: 'http_requests_total', code: '200', job: 'api' });
  const samples = ts[0]!.filter((f) => f.no === 2).map((f) => check('Sample', fields(f.bytes!)));
  assert.deepEqual(
    samples.map((s) => [s.find((f) => f.no === 1)!.int!.toString(16), Number(s.find((f) => f.no === 2)!.int)]),
    [
      [
        Buffer.from(new Float64Array([5]).buffer)
          .readBigUInt64LE(0)
          .toString(16),
        1_700_000_000_000,
      ],
      ['7ff0000000000002', 1_700_000_001_000],
    ],
    'values as doubles (the staleness marker bit for bit) and timestamps, in order',
  );
  assert.equal(ts[0]!.filter((f) => f.no === 3).length, 0, 'no histograms beside floats');
  const md = check('Metadata', fields(ts[0]!.find((f) => f.no === 5)!.bytes!));
  assert.equal(md.find((f) => f.no === 1)!.int, 1n, 'METRIC_TYPE_COUNTER');
  assert.equal(symbols[Number(md.find((f) => f.no === 3)!.int)], 'Requests served.');
  assert.equal(symbols[Number(md.find((f) => f.no === 4)?.int ?? 0n)], '', 'no unit: the empty symbol');

  assert.deepEqual(labelsOf(ts[1]!), { __name__: 'latency_seconds', job: 'api' });
  assert.equal(ts[1]!.filter((f) => f.no === 2).length, 0);
  assert.equal(
    ts[1]!.find((f) => f.no === 5),
    undefined,
    'no metadata known: none sent',
  );
  // The Histogram message (same numbering as 1.0): integer counts, zigzag schema, bucket deltas.
  const hm = fields(ts[1]!.find((f) => f.no === 3)!.bytes!);
  const get = (no: number): Field => hm.find((f) => f.no === no)!;
  assert.equal(get(1).int, 9n, 'count_int');
  assert.equal(f64(get(3).int!), 4.5, 'sum');
  assert.equal(get(4).int, 2n, 'schema 1 zigzag');
  assert.equal(f64(get(5).int!), 0.001, 'zero_threshold');
  assert.equal(get(6).int, 2n, 'zero_count_int');
  assert.deepEqual(
    fields(get(11).bytes!).map((f) => f.int),
    [1n, 2n],
    'positive span: offset -1 zigzag, length 2',
  );
  assert.deepEqual(packedInts(get(12).bytes!), [6, 2], 'positive_deltas 3, +1 zigzag');
  assert.equal(Number(get(15).int), 1_700_000_000_500, 'timestamp');

  // The receiver's decoder reads the same.
  const decoded = decodeV2Request(body);
  assert.deepEqual(
    decoded.map((s) => [s.labels.map((l) => `${l.name}=${l.value}`).join(','), s.ts, s.histograms.map((x) => x.t), s.metadata]),
    [
      ['__name__=http_requests_total,code=200,job=api', [1_700_000_000_000, 1_700_000_001_000], [], { type: 'counter', help: 'Requests served.', unit: '' }],
      ['__name__=latency_seconds,job=api', [], [1_700_000_000_500], undefined],
    ],
  );
  const sentH = decoded[1]!.histograms[0]!.h;
  assert.deepEqual([sentH.count, sentH.sum, sentH.schema, sentH.zeroThreshold, sentH.zeroCount], [9, 4.5, 1, 0.001, 2], 'the histogram as sent');
});

test('2.0 exemplars: label refs, value and timestamp at the Exemplar field numbers; the builder is reusable', () => {
  const b = new V2RequestBuilder();
  b.add(labelsFrom({ __name__: 'old' }), { idx: [0], ts: [1], vs: [1] });
  b.reset();
  b.add(labelsFrom({ __name__: 'rpc_bucket', le: '0.5' }), { idx: [], ts: [], vs: [] }, [
    { labels: labelsFrom({ trace_id: 'abc' }), value: 0.25, ts: 1_700_000_000_123 },
    { labels: [], value: 3, ts: 5 },
  ]);
  const top = check('Request', fields(b.finish()));
  const symbols = top.filter((f) => f.no === 4).map((f) => f.bytes!.toString());
  assert.ok(!symbols.includes('old'), 'reset forgets the previous symbols');
  const series = top.filter((f) => f.no === 5);
  assert.equal(series.length, 1);
  const ex = check('TimeSeries', fields(series[0]!.bytes!))
    .filter((f) => f.no === 4)
    .map((f) => check('Exemplar', fields(f.bytes!)));
  assert.equal(ex.length, 2);
  assert.deepEqual(
    packedInts(ex[0]!.find((f) => f.no === 1)!.bytes!).map((r) => symbols[r]),
    ['trace_id', 'abc'],
  );
  assert.equal(f64(ex[0]!.find((f) => f.no === 2)!.int!), 0.25);
  assert.equal(Number(ex[0]!.find((f) => f.no === 3)!.int), 1_700_000_000_123);
  assert.equal(
    ex[1]!.find((f) => f.no === 1),
    undefined,
    'no labels: no labels_refs field',
  );
  const [d] = decodeV2Request(b.finish());
  assert.deepEqual(
    d!.exemplars.map((e) => [e.labels.length, e.value, e.ts]),
    [
      [1, 0.25, 1_700_000_000_123],
      [0, 3, 5],
    ],
  );
});

test('2.0 responses: written-count headers decide what failed; a 2xx without them and a 415 mean a receiver without 2.0', () => {
  const none = writtenFrom({});
  assert.equal(none.confirmed, false);
  const all = writtenFrom({
    'x-prometheus-remote-write-samples-written': '8',
    'x-prometheus-remote-write-histograms-written': '2',
    'x-prometheus-remote-write-exemplars-written': '1',
  });
  assert.deepEqual(all, { samples: 8, histograms: 2, exemplars: 1, confirmed: true });
  assert.deepEqual(v2Outcome(204, all, 'samples', 10), { failed: 0 });
  assert.deepEqual(v2Outcome(204, all, 'exemplars', 1), { failed: 0 });
  const partial = v2Outcome(204, all, 'samples', 12);
  assert.equal(partial.failed, 2);
  assert.match(partial.problem!, /wrote 10 of 12 samples/);
  const v1 = v2Outcome(204, none, 'samples', 10);
  assert.equal(v1.failed, 10);
  assert.match(v1.problem!, /without X-Prometheus-Remote-Write-\*-Written headers.*protobuf_message: prometheus\.WriteRequest/);
  assert.deepEqual(v2Outcome(204, none, 'samples', 0), { failed: 0 }, 'nothing sent: nothing to confirm');
  const u = v2Outcome(415, none, 'samples', 10);
  assert.equal(u.failed, 10);
  assert.match(u.problem!, /415 Unsupported Media Type.*prometheus\.WriteRequest/);
  // A 400 that says what it wrote (a partial write): only the rest failed.
  assert.deepEqual(v2Outcome(400, writtenFrom({ 'x-prometheus-remote-write-samples-written': '7' }), 'samples', 10), { failed: 3 });
  assert.deepEqual(v2Outcome(400, none, 'samples', 10), { failed: 10 });
});

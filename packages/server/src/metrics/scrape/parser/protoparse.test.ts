import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, drain } from '../../../testkit/scrape_parser.js';
import { DualHistogram, encodeMetricFamilies, type EncFamily } from '../../../testkit/prom_protobuf.js';
import { ExpositionError } from './errors.js';
import { createParser } from './index.js';

const counterFamily: EncFamily = {
  name: 'req_total',
  help: 'Requests.',
  type: 'counter',
  metrics: [
    {
      labels: { code: '200', method: 'get' },
      counter: { value: 7, exemplar: { labels: { trace_id: 'abc' }, value: 1.5, ts: 1_700_000_000_250 }, createdMs: 1_600_000_000_123 },
    },
    { labels: { code: '500', method: 'get' }, counter: { value: 1 } },
  ],
};

function latency(): DualHistogram {
  const h = new DualHistogram([0.5, 1, 4], 0);
  for (const v of [0.3, 0.7, 0.7, 3, 3, 3, 100]) h.observe(v, { labels: { trace_id: `t${v}` }, value: v, ts: 1_700_000_000_500 });
  return h;
}

test('protobuf: counters (with exemplar), gauges, untyped and summaries read as their series', () => {
  const body = encodeMetricFamilies([
    counterFamily,
    { name: 'temp_celsius', type: 'gauge', unit: 'celsius', metrics: [{ gauge: -3.5, timestampMs: 1_700_000_000_000 }] },
    { name: 'odd', type: 'untyped', metrics: [{ untyped: 42 }] },
    {
      name: 'rpc_seconds',
      type: 'summary',
      metrics: [
        {
          labels: { svc: 'a' },
          summary: {
            count: 9,
            sum: 4.5,
            quantiles: [
              [0.5, 0.4],
              [0.99, 1.2],
            ],
          },
        },
      ],
    },
  ]);
  assert.deepEqual(collect(body, 'prometheus-protobuf'), [
    'help req_total "Requests."',
    'type req_total counter',
    'req_total{code="200", method="get"} 7 # {trace_id="abc"} 1.5 @1700000000250',
    'req_total{code="500", method="get"} 1',
    'help temp_celsius ""',
    'unit temp_celsius celsius',
    'type temp_celsius gauge',
    'temp_celsius{} -3.5 @1700000000000',
    'help odd ""',
    'type odd unknown',
    'odd{} 42',
    'help rpc_seconds ""',
    'type rpc_seconds summary',
    'rpc_seconds_count{svc="a"} 9',
    'rpc_seconds_sum{svc="a"} 4.5',
    'rpc_seconds{quantile="0.5", svc="a"} 0.4',
    'rpc_seconds{quantile="0.99", svc="a"} 1.2',
  ]);
});

test('protobuf: created timestamps of counters, summaries and histograms are read', () => {
  const body = encodeMetricFamilies([
    counterFamily,
    { name: 's', type: 'summary', metrics: [{ summary: { count: 1, sum: 1, quantiles: [], createdMs: 1_000_500 } }] },
    { name: 'h', type: 'histogram', metrics: [{ histogram: { count: 0, sum: 0, createdMs: 2_000_250 } }] },
  ]);
  const p = createParser(body, 'prometheus-protobuf');
  const seen: Array<[string, number | undefined]> = [];
  for (let k = p.next(); k !== 'eof'; k = p.next()) if (k === 'series') seen.push([p.metricName(), p.createdTimestamp()]);
  assert.deepEqual(seen, [
    ['req_total', 1_600_000_000_123],
    ['req_total', undefined],
    ['s_count', 1_000_500],
    ['s_sum', 1_000_500],
    ['h_count', 2_000_250],
    ['h_sum', 2_000_250],
    ['h_bucket', 2_000_250],
  ]);
});

const CLASSIC = [
  'lat_seconds_count{path="/"} 7',
  'lat_seconds_sum{path="/"} 110.7',
  'lat_seconds_bucket{le="0.5", path="/"} 1 # {trace_id="t0.3"} 0.3 @1700000000500',
  'lat_seconds_bucket{le="1.0", path="/"} 3 # {trace_id="t0.7"} 0.7 @1700000000500',
  'lat_seconds_bucket{le="4.0", path="/"} 6 # {trace_id="t3"} 3 @1700000000500',
  'lat_seconds_bucket{le="+Inf", path="/"} 7',
];
const NATIVE =
  'lat_seconds{path="/"} {count:7, sum:110.7, [-2.938735877055719e-39,2.938735877055719e-39]:0, (0.25,0.5]:1, (0.5,1]:2, (2,4]:3, (64,128]:1}' +
  ' # {trace_id="t0.3"} 0.3 @1700000000500 # {trace_id="t0.7"} 0.7 @1700000000500 # {trace_id="t3"} 3 @1700000000500';

test('protobuf: a histogram with native and classic buckets, by the scrape settings', () => {
  const body = encodeMetricFamilies([{ name: 'lat_seconds', type: 'histogram', metrics: [{ labels: { path: '/' }, histogram: latency().encode() }] }]);
  const series = (opts: Parameters<typeof collect>[2]): string[] => collect(body, 'prometheus-protobuf', opts).filter((l) => !/^(help|type) /.test(l));
  // Native histograms off: the classic series, with a +Inf bucket added as the body has none.
  assert.deepEqual(series({}), CLASSIC);
  assert.deepEqual(series({ nativeHistograms: true }), [NATIVE]);
  assert.deepEqual(series({ nativeHistograms: true, keepClassicHistograms: true }), [NATIVE, ...CLASSIC]);
  // A native histogram is never converted to custom buckets.
  assert.deepEqual(series({ nativeHistograms: true, convertClassicToNhcb: true }), [NATIVE]);
});

test('protobuf: a classic-only histogram converted to custom buckets (NHCB), with or without its classic series', () => {
  const body = encodeMetricFamilies([{ name: 'lat_seconds', type: 'histogram', metrics: [{ labels: { path: '/' }, histogram: latency().encode(true) }] }]);
  const nhcb =
    'lat_seconds{path="/"} {count:7, sum:110.7, (-Inf,0.5]:1, (0.5,1]:2, (1,4]:3, (4,+Inf]:1}' +
    ' # {trace_id="t0.3"} 0.3 @1700000000500 # {trace_id="t0.7"} 0.7 @1700000000500 # {trace_id="t3"} 3 @1700000000500';
  const series = (opts: Parameters<typeof collect>[2]): string[] => collect(body, 'prometheus-protobuf', opts).filter((l) => !/^(help|type) /.test(l));
  assert.deepEqual(series({ nativeHistograms: true }), CLASSIC);
  assert.deepEqual(series({ convertClassicToNhcb: true }), [nhcb]);
  assert.deepEqual(series({ convertClassicToNhcb: true, keepClassicHistograms: true }), [nhcb, ...CLASSIC]);
});

test('protobuf: float histograms, negative buckets and gauge histograms', () => {
  const body = encodeMetricFamilies([
    {
      name: 'fh',
      type: 'gaugehistogram',
      metrics: [
        {
          histogram: {
            countFloat: 4.5,
            sum: -1,
            schema: 1,
            zeroThreshold: 0.001,
            zeroCountFloat: 0.5,
            positiveSpans: [{ offset: 0, length: 1 }],
            positiveCounts: [2],
            negativeSpans: [{ offset: 2, length: 1 }],
            negativeCounts: [2],
          },
        },
      ],
    },
  ]);
  const p = createParser(body, 'prometheus-protobuf', { nativeHistograms: true });
  while (p.next() !== 'histogram');
  const h = p.histogram();
  assert.equal(h.counterResetHint, 'gauge');
  assert.equal(h.count, 4.5);
  assert.equal(h.zeroCount, 0.5);
  assert.deepEqual(h.positiveBuckets, [2]);
  assert.deepEqual(h.negativeSpans, [{ offset: 2, length: 1 }]);
  assert.equal(p.seriesType(), 'gaugehistogram');
  assert.equal(p.next(), 'eof');
});

test('protobuf: series keys are stable, distinct per series, and never equal a text key', () => {
  const body = encodeMetricFamilies([counterFamily, { name: 'lat_seconds', type: 'histogram', metrics: [{ histogram: latency().encode() }] }]);
  const keys = (): string[] => {
    const p = createParser(body, 'prometheus-protobuf');
    const out: string[] = [];
    for (let k = p.next(); k !== 'eof'; k = p.next()) if (k === 'series') out.push(p.seriesKey());
    return out;
  };
  const a = keys();
  assert.deepEqual(keys(), a);
  assert.equal(new Set(a).size, a.length);
  assert.ok(a.every((k) => k.startsWith('\xff')));
});

test('protobuf: an empty body and families without metrics are nothing', () => {
  assert.deepEqual(collect(Buffer.alloc(0), 'prometheus-protobuf'), []);
  assert.deepEqual(collect(encodeMetricFamilies([{ name: 'empty', type: 'gauge', metrics: [] }]), 'prometheus-protobuf'), []);
});

/** The error a body ends in; fails the test if it parses. */
function failure(body: Buffer, opts = { nativeHistograms: true }): ExpositionError {
  const r = drain(body, 'prometheus-protobuf', opts);
  assert.ok(r instanceof ExpositionError, `expected an ExpositionError, parsed ${String(r)} entries`);
  return r;
}

test('protobuf: bad bodies are scrape errors naming the problem', () => {
  const framed = encodeMetricFamilies([counterFamily]);
  // A length varint cut off by the end of the body.
  assert.match(failure(Buffer.from([0x80, 0x80])).message, /byte 0: truncated varint/);
  assert.match(failure(Buffer.concat([framed, Buffer.from([0xff])])).message, new RegExp(`byte ${framed.length}: truncated varint`));
  // A varint longer than 10 bytes.
  assert.match(failure(Buffer.alloc(12, 0xff)).message, /runs past 10 bytes/);
  // A length that runs past the body.
  assert.match(failure(framed.subarray(0, framed.length - 3)).message, /MetricFamily of \d+ bytes runs past the end of the body \(\d+ bytes left\)/);
  // MetricFamily.name (field 1) sent as a varint.
  assert.match(failure(Buffer.from([2, 0x08, 0x01])).message, /MetricFamily\.name \(field 1\) has wire type 0 \(varint\), want 2 \(length-delimited\)/);
  // A Metric's gauge (field 2) as a fixed64 instead of a message.
  const badMetric = Buffer.from([0x0a, 0x01, 0x67, 0x18, 0x01, 0x22, 0x09, 0x11, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.match(failure(Buffer.concat([Buffer.from([badMetric.length]), badMetric])).message, /Metric\.gauge \(field 2\) has wire type 1 \(fixed64\)/);
  // A length inside a message that runs past it.
  const inner = Buffer.from([0x0a, 0x7f, 0x61]);
  assert.match(failure(Buffer.concat([Buffer.from([inner.length]), inner])).message, /cannot read MetricFamily name \(field 1\)/);
  // An enum value that is no metric type.
  const badType = Buffer.from([0x0a, 0x01, 0x67, 0x18, 0x09, 0x22, 0x00]);
  assert.match(failure(Buffer.concat([Buffer.from([badType.length]), badType])).message, /unknown metric type 9 for metric "g"/);
  // Invalid UTF-8 in a label value.
  const badUtf8 = encodeMetricFamilies([{ name: 'g', type: 'gauge', metrics: [{ labels: { a: 'é' }, gauge: 1 }] }]);
  badUtf8[badUtf8.indexOf(0xc3)] = 0xff;
  assert.match(failure(badUtf8).message, /is not valid UTF-8/);
});

test('protobuf: invalid series and histograms are scrape errors too', () => {
  const dup = encodeMetricFamilies([
    { name: 'h', type: 'histogram', metrics: [{ labels: { le: '1' }, histogram: { count: 1, sum: 1, buckets: [{ upper: 1, cumulative: 1 }] } }] },
  ]);
  assert.match(failure(dup).message, /duplicate label name "le" in metric "h"/);
  const negative = encodeMetricFamilies([
    {
      name: 'h',
      type: 'histogram',
      metrics: [{ histogram: { count: 1, sum: 1, schema: 0, positiveSpans: [{ offset: 0, length: 2 }], positiveDeltas: [1, -2] } }],
    },
  ]);
  assert.match(failure(negative).message, /invalid histogram "h": a bucket's observation count is negative/);
  const spans = encodeMetricFamilies([
    { name: 'h', type: 'histogram', metrics: [{ histogram: { count: 1, sum: 1, schema: 0, positiveSpans: [{ offset: 0, length: 3 }], positiveDeltas: [1] } }] },
  ]);
  assert.match(failure(spans).message, /invalid histogram "h": histogram positive spans do not match/);
  const schema = encodeMetricFamilies([
    { name: 'h', type: 'histogram', metrics: [{ histogram: { count: 1, sum: 1, schema: 9, positiveSpans: [{ offset: 0, length: 1 }], positiveDeltas: [1] } }] },
  ]);
  assert.match(failure(schema).message, /histogram schema 9 is not between/);
  const unit = encodeMetricFamilies([{ name: 'size', type: 'gauge', unit: 'bytes', metrics: [{ gauge: 1 }] }]);
  assert.match(failure(unit).message, /unit "bytes" not a suffix of metric "size"/);
  const noName = encodeMetricFamilies([{ name: '', type: 'gauge', metrics: [{ gauge: 1 }] }]);
  assert.match(failure(noName).message, /MetricFamily without a name/);
});

test('protobuf: a family of two million empty metrics is read one metric at a time', () => {
  // 2 bytes per Metric on the wire; decoded all at once they would be a few hundred bytes each.
  const n = 2_000_000;
  const metrics = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) metrics[i * 2] = 0x22;
  const head = Buffer.from([0x0a, 0x01, 0x67, 0x18, 0x01]);
  const fam = Buffer.concat([head, metrics]);
  const len: number[] = [];
  for (let x = fam.length; ; x = Math.floor(x / 128)) {
    if (x < 128) {
      len.push(x);
      break;
    }
    len.push((x & 0x7f) | 0x80);
  }
  const body = Buffer.concat([Buffer.from(len), fam]);
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  let peak = 0;
  const p = createParser(body, 'prometheus-protobuf');
  let series = 0;
  for (let k = p.next(); k !== 'eof'; k = p.next()) {
    if (k !== 'series') continue;
    p.seriesKey();
    p.value();
    if (++series % 200_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - before);
  }
  assert.equal(series, n);
  assert.ok(peak < 150 * 2 ** 20, `heap grew by ${Math.round(peak / 2 ** 20)} MiB`);
});

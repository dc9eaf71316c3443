/**
 * OTLP metrics translation and ingest against a real head: Prometheus 3's names for each
 * translation strategy, labels (escaping, collisions, promotion), summaries, staleness, and the
 * refusals partial_success reports (bad counts and buckets, out-of-order points).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../core/limits/token_bucket.js';
import type { Labels } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { isStaleNaN } from '../../core/model/value.js';
import { Head } from '../tsdb/head.js';
import { OtlpMetricsError } from './errors.js';
import { encodeMetricsRequest, encodeMetricsRequestJson, type EncMetric } from '../../testkit/otlp_metrics_encode.js';
import { decodeMetricsProto } from './decode_proto.js';
import { OtlpMetricsIngestor } from './ingest.js';
import { PointPool } from './model.js';
import { formatBound, labelName, metricName, unitName, type PromType, type TranslationStrategy } from './names.js';

test('metric names: Prometheus 3 suffixes and escaping per translation strategy', () => {
  const cases: Array<[string, string, PromType, TranslationStrategy, string]> = [
    ['http.server.request.duration', 's', 'histogram', 'UnderscoreEscapingWithSuffixes', 'http_server_request_duration_seconds'],
    ['requests.count', '1', 'counter', 'UnderscoreEscapingWithSuffixes', 'requests_count_total'],
    ['memory.usage', 'By', 'gauge', 'UnderscoreEscapingWithSuffixes', 'memory_usage_bytes'],
    ['net.io', 'By/s', 'gauge', 'UnderscoreEscapingWithSuffixes', 'net_io_bytes_per_second'],
    ['cpu.utilization', '1', 'gauge', 'UnderscoreEscapingWithSuffixes', 'cpu_utilization_ratio'],
    ['jobs_total', '', 'counter', 'UnderscoreEscapingWithSuffixes', 'jobs_total'],
    ['total.jobs', '', 'counter', 'UnderscoreEscapingWithSuffixes', 'jobs_total'],
    ['latency_seconds', 's', 'gauge', 'UnderscoreEscapingWithSuffixes', 'latency_seconds'],
    ['http.requests', '{request}', 'counter', 'UnderscoreEscapingWithSuffixes', 'http_requests_total'],
    ['2xx..responses', '', 'gauge', 'UnderscoreEscapingWithSuffixes', '_2xx_responses'],
    ['disk.ops', '{op}/s', 'gauge', 'UnderscoreEscapingWithSuffixes', 'disk_ops_per_second'],
    ['temp', 'Cel', 'gauge', 'UnderscoreEscapingWithSuffixes', 'temp_celsius'],
    ['http.server.duration', 's', 'histogram', 'UnderscoreEscapingWithoutSuffixes', 'http_server_duration'],
    ['requests', '1', 'counter', 'UnderscoreEscapingWithoutSuffixes', 'requests'],
    ['http.server.duration', 's', 'histogram', 'NoUTF8EscapingWithSuffixes', 'http.server.duration_seconds'],
    ['http.requests', '', 'counter', 'NoUTF8EscapingWithSuffixes', 'http.requests_total'],
    ['cpu.utilization', '1', 'gauge', 'NoUTF8EscapingWithSuffixes', 'cpu.utilization_ratio'],
    ['http.server.duration', 's', 'histogram', 'NoTranslation', 'http.server.duration'],
    ['...', '', 'gauge', 'UnderscoreEscapingWithSuffixes', ''],
  ];
  for (const [name, unit, type, strategy, want] of cases) assert.equal(metricName(name, unit, type, strategy), want, `${strategy} ${name} ${unit} ${type}`);
  assert.equal(unitName('By/s'), 'bytes_per_second');
  assert.equal(unitName('{request}'), '');
});

test('label names: escaping, digits, reserved names, UTF-8 kept without escaping', () => {
  assert.equal(labelName('http.method', 'UnderscoreEscapingWithSuffixes'), 'http_method');
  assert.equal(labelName('123invalid', 'UnderscoreEscapingWithSuffixes'), 'key_123invalid');
  assert.equal(labelName('__reserved__', 'UnderscoreEscapingWithSuffixes'), '__reserved__');
  assert.equal(labelName('a..b', 'UnderscoreEscapingWithSuffixes'), 'a_b');
  assert.equal(labelName('___', 'UnderscoreEscapingWithSuffixes'), '');
  assert.equal(labelName('http.method', 'NoUTF8EscapingWithSuffixes'), 'http.method');
  assert.equal(labelName('', 'NoTranslation'), '');
  assert.deepEqual([0.005, 1, 1e-7, 2.5e21, Infinity].map(formatBound), ['0.005', '1', '0.0000001', '2500000000000000000000', '+Inf']);
});

const NOW = Date.UTC(2026, 0, 1);
const ns = (ms: number): string => String(BigInt(ms) * 1_000_000n);

function kv(key: string, value: string): { key: string; value: { stringValue: string } } {
  return { key, value: { stringValue: value } };
}

function request(metrics: unknown[], resource: Array<ReturnType<typeof kv>> = [kv('service.name', 'api'), kv('host.name', 'h1')]): Buffer {
  return Buffer.from(JSON.stringify({ resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ scope: { name: 's' }, metrics }] }] }));
}

/** Every series in the head as `labels -> [t, v][]`. */
function dump(head: Head): Map<string, Array<[number, number]>> {
  const q = head.querier(0, NOW + 3600_000);
  const set = q.select({ start: 0, end: NOW + 3600_000 }, [new Matcher('=~', '__name__', '.+')]);
  const out = new Map<string, Array<[number, number]>>();
  while (set.next()) {
    const s = set.at();
    const it = s.iterator();
    const pts: Array<[number, number]> = [];
    while (it.next()) pts.push([it.t(), it.v()]);
    out.set(show(s.labels), pts);
  }
  q.close();
  return out;
}

function show(labels: Labels): string {
  const name = labels.find((l) => l.name === '__name__')?.value ?? '';
  return `${name}{${labels
    .filter((l) => l.name !== '__name__')
    .map((l) => `${l.name}=${l.value}`)
    .join(',')}}`;
}

function setup(opts: ConstructorParameters<typeof OtlpMetricsIngestor>[1] = {}): { head: Head; ing: OtlpMetricsIngestor } {
  const head = new Head({ now: () => NOW });
  return { head, ing: new OtlpMetricsIngestor(head, { now: () => NOW, ...opts }) };
}

test('summaries, promoted resource attributes, colliding attribute names, target_info', () => {
  const { head, ing } = setup({ translation: { promoteResourceAttributes: ['host.name'] } });
  const res = ing.ingest(
    request([
      {
        name: 'rpc.latency',
        unit: 'ms',
        summary: {
          dataPoints: [
            {
              attributes: [kv('a.b', 'x'), kv('a_b', 'y')],
              timeUnixNano: ns(NOW),
              count: '4',
              sum: 10,
              quantileValues: [
                { quantile: 0.5, value: 2 },
                { quantile: 0.99, value: 5 },
              ],
            },
          ],
        },
      },
    ]),
    'json',
  );
  assert.deepEqual(res, { accepted: 2, rejected: 0, message: '' });
  assert.deepEqual(
    Object.fromEntries(dump(head)),
    Object.fromEntries([
      ['rpc_latency_milliseconds{a_b=x;y,host_name=h1,job=api,quantile=0.5}', [[NOW, 2]]],
      ['rpc_latency_milliseconds{a_b=x;y,host_name=h1,job=api,quantile=0.99}', [[NOW, 5]]],
      ['rpc_latency_milliseconds_count{a_b=x;y,host_name=h1,job=api}', [[NOW, 4]]],
      ['rpc_latency_milliseconds_sum{a_b=x;y,host_name=h1,job=api}', [[NOW, 10]]],
      ['target_info{host_name=h1,job=api}', [[NOW, 1]]],
    ]),
  );
});

test('refused alone in partial_success: mismatched counts and buckets, out-of-order points; the rest is kept', () => {
  const { head, ing } = setup();
  const gauge = (t: number, v: number): unknown => ({ name: 'g', gauge: { dataPoints: [{ timeUnixNano: ns(t), asDouble: v }] } });
  assert.equal(ing.ingest(request([gauge(NOW, 1)], [kv('service.name', 'api')]), 'json').rejected, 0);
  const res = ing.ingest(
    request(
      [
        gauge(NOW - 1000, 0.5),
        gauge(NOW + 1000, 2),
        { name: 'e', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: ns(NOW), count: '1', scale: 2 }] } },
        {
          name: 'h',
          histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: ns(NOW), count: '1', bucketCounts: ['1'], explicitBounds: [1, 2] }] },
        },
      ],
      [kv('service.name', 'api')],
    ),
    'json',
  );
  assert.equal(res.accepted, 1);
  assert.equal(res.rejected, 3);
  assert.match(res.message, /exponential histogram e: the buckets hold 0 observations \(zero bucket included\) but count is 1/);
  assert.match(res.message, /histogram h: 1 bucket counts for 2 explicit bounds/);
  assert.match(res.message, /out of order sample/);
  assert.deepEqual(dump(head).get('g{job=api}'), [
    [NOW, 1],
    [NOW + 1000, 2],
  ]);
  assert.equal(ing.stats.rejectedDataPoints, 3);
});

test('a point flagged "no recorded value" stores a staleness marker; delta sums add up, a late delta is refused', () => {
  const { head, ing } = setup();
  const sum = (t: number, v: number, flags = 0): unknown => ({
    name: 'ops',
    sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: ns(t), asInt: String(v), flags }] },
  });
  ing.ingest(request([sum(NOW, 2), sum(NOW + 1000, 3)], [kv('service.name', 'api')]), 'json');
  const late = ing.ingest(request([sum(NOW + 500, 1)], [kv('service.name', 'api')]), 'json');
  assert.equal(late.rejected, 1);
  assert.match(late.message, /delta sample at .* is not after the series' latest/);
  ing.ingest(request([sum(NOW + 2000, 0, 1)], [kv('service.name', 'api')]), 'json');
  const pts = dump(head).get('ops_total{job=api}')!;
  assert.deepEqual(pts.slice(0, 2), [
    [NOW, 2],
    [NOW + 1000, 5],
  ]);
  assert.ok(isStaleNaN(pts[2]![1]));
});

test('with an out-of-order window, a late delta is still refused after a restart (the total is read back from the newest sample)', () => {
  const head = new Head({ now: () => NOW, outOfOrderWindowMs: 30 * 60_000 });
  const sum = (t: number, v: number): Buffer =>
    request(
      [{ name: 'ops', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ timeUnixNano: ns(t), asInt: String(v) }] } }],
      [kv('service.name', 'api')],
    );
  const before = new OtlpMetricsIngestor(head, { now: () => NOW });
  before.ingest(sum(NOW - 60_000, 2), 'json');
  before.ingest(sum(NOW, 3), 'json');
  // A new ingestor knows no totals, as after a restart: it reads them back from the head.
  const after = new OtlpMetricsIngestor(head, { now: () => NOW });
  const late = after.ingest(sum(NOW - 30_000, 1), 'json');
  assert.equal(late.rejected, 1);
  assert.match(late.message, /delta sample at .* is not after the series' latest/);
  assert.equal(after.ingest(sum(NOW + 1000, 4), 'json').accepted, 1);
  assert.deepEqual(dump(head).get('ops_total{job=api}'), [
    [NOW - 60_000, 2],
    [NOW, 5],
    [NOW + 1000, 9],
  ]);
});

test('malformed bodies are a 400 naming the field; the rate limit is remote_write`s bucket: 429 with the wait, 400 past the burst', () => {
  const { ing } = setup({ rate: new TokenBucket(10, 10, () => NOW) });
  assert.throws(
    () => ing.ingest(Buffer.from('{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":5}]}]}]}'), 'json'),
    (e: unknown) =>
      e instanceof OtlpMetricsError && e.status === 400 && /resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[0\]\.name must be a string/.test(e.message),
  );
  assert.throws(
    () => ing.ingest(Buffer.from([0x0a, 0x05, 0x0a]), 'protobuf'),
    (e: unknown) => e instanceof OtlpMetricsError && e.status === 400 && /malformed OTLP protobuf ExportMetricsServiceRequest/.test(e.message),
  );
  const points = (n: number, t: number): Buffer =>
    request(
      [{ name: 'g', gauge: { dataPoints: Array.from({ length: n }, (_, i) => ({ timeUnixNano: ns(t), asDouble: i, attributes: [kv('i', String(i))] })) } }],
      [],
    );
  assert.equal(ing.ingest(points(8, NOW), 'json').accepted, 8);
  assert.throws(
    () => ing.ingest(points(8, NOW + 1), 'json'),
    (e: unknown) => e instanceof OtlpMetricsError && e.status === 429 && e.retryAfterSec > 0,
  );
  assert.throws(
    () => ing.ingest(points(11, NOW + 2), 'json'),
    (e: unknown) => e instanceof OtlpMetricsError && e.status === 400 && /larger than ingestion_burst_size/.test(e.message),
  );
});

test('keep_identifying_resource_attributes puts service.* on target_info; NoUTF8EscapingWithSuffixes keeps dots, which storage refuses per point', () => {
  const { head, ing } = setup({ translation: { keepIdentifyingResourceAttributes: true } });
  const resource = [kv('service.name', 'api'), kv('service.namespace', 'shop'), kv('service.instance.id', 'i1')];
  const gauge = {
    name: 'http.server.duration',
    unit: 's',
    gauge: { dataPoints: [{ timeUnixNano: ns(NOW), asDouble: 0.5, attributes: [kv('http.route', '/a')] }] },
  };
  assert.equal(ing.ingest(request([gauge], resource), 'json').rejected, 0);
  assert.deepEqual(
    Object.fromEntries(dump(head)),
    Object.fromEntries([
      ['http_server_duration_seconds{http_route=/a,instance=i1,job=shop/api}', [[NOW, 0.5]]],
      ['target_info{instance=i1,job=shop/api,service_instance_id=i1,service_name=api,service_namespace=shop}', [[NOW, 1]]],
    ]),
  );
  // The TSDB takes legacy names only (config.ts warns): a dotted name is refused alone, with the store's reason.
  const utf8 = setup({ translation: { translationStrategy: 'NoUTF8EscapingWithSuffixes' } });
  const res = utf8.ing.ingest(request([gauge, { name: 'up', gauge: { dataPoints: [{ timeUnixNano: ns(NOW), asDouble: 1 }] } }], resource), 'json');
  assert.equal(res.rejected, 1);
  assert.match(res.message, /invalid metric name "http\.server\.duration_seconds"/);
  assert.deepEqual([...dump(utf8.head).keys()], ['up{instance=i1,job=shop/api}']);
});

test('protobuf points reused from request to request carry nothing over: the same requests in JSON store the same', () => {
  // Each request has fewer or other points than the last, so every reused point meets fields the
  // last request set: attributes decoded for a new series, a flag, a value, none at all.
  const resource: Array<[string, string]> = [
    ['service.name', 'api'],
    ['service.instance.id', 'i1'],
  ];
  const requests: EncMetric[][] = [
    [
      {
        name: 'a',
        points: [
          { attrs: [['k', '1']], timeMs: NOW, value: 1 },
          { attrs: [['k', '2']], timeMs: NOW, value: 2, flags: 1 },
          { attrs: [['k', '3']], timeMs: NOW, value: 3 },
        ],
      },
    ],
    [
      { name: 'b', points: [{ attrs: [], timeMs: NOW + 15_000, value: 7 }] },
      {
        name: 'a',
        points: [
          { attrs: [['k', '3']], timeMs: NOW + 15_000, value: 30 },
          { attrs: [['k', '1']], timeMs: NOW + 15_000, value: 10 },
        ],
      },
    ],
    [{ name: 'c', monotonic: true, points: [{ attrs: [['k', '2']], timeMs: NOW + 30_000, value: 5 }] }],
  ];
  const proto = setup();
  const json = setup();
  for (const metrics of requests) {
    assert.deepEqual(proto.ing.ingest(encodeMetricsRequest(resource, metrics), 'protobuf'), {
      accepted: metrics.reduce((n, m) => n + m.points.length, 0),
      rejected: 0,
      message: '',
    });
    json.ing.ingest(Buffer.from(encodeMetricsRequestJson(resource, metrics)), 'json');
  }
  const stored = dump(proto.head);
  assert.deepEqual(stored, dump(json.head));
  assert.deepEqual(Object.fromEntries([...stored].map(([k, pts]) => [k, pts.map(([t, v]) => [t - NOW, isStaleNaN(v) ? 'stale' : v])])), {
    'a{instance=i1,job=api,k=1}': [
      [0, 1],
      [15_000, 10],
    ],
    'a{instance=i1,job=api,k=2}': [[0, 'stale']],
    'a{instance=i1,job=api,k=3}': [
      [0, 3],
      [15_000, 30],
    ],
    'b{instance=i1,job=api}': [[15_000, 7]],
    'c_total{instance=i1,job=api,k=2}': [[30_000, 5]],
  });
});

test('a request with more points than the pool keeps decodes as without a pool; the next reuses only what the pool kept', () => {
  const points = (t: number): EncMetric[] => [
    { name: 'g', points: [1, 2, 3, 4, 5].map((k) => ({ attrs: [['k', String(k)]] as Array<[string, string]>, timeMs: t, value: k })) },
  ];
  const pool = new PointPool(2);
  const first = encodeMetricsRequest([['service.name', 'api']], points(NOW));
  const decoded = decodeMetricsProto(first, pool);
  assert.deepEqual(decoded, decodeMetricsProto(first));
  const kept = decoded.resources[0]!.scopes[0]!.metrics[0]!.points;
  pool.reset();
  const next = decodeMetricsProto(encodeMetricsRequest([['service.name', 'api']], points(NOW + 1000)), pool).resources[0]!.scopes[0]!.metrics[0]!.points;
  // The pool's two points are reused, the other three are new.
  assert.deepEqual(
    next.map((p) => kept.includes(p)),
    [true, true, false, false, false],
  );
  assert.deepEqual(
    next.map((p) => [p.timeMs, p.value]),
    [1, 2, 3, 4, 5].map((k) => [NOW + 1000, k]),
  );
});

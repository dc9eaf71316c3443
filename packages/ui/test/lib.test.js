/* global URLSearchParams */
// Unit tests of the UI's pure modules (bundled for Node by build.js into dist/test/lib.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.js';

test('tokenize classifies metrics, functions, labels, strings, durations and keywords', () => {
  const kinds = lib
    .tokenize('sum by (route) (rate(http_requests_total{job="api"}[5m])) > 0.5')
    .filter((t) => t.kind !== 'space')
    .map((t) => `${t.kind}:${t.text}`);
  assert.deepEqual(kinds, [
    'keyword:sum',
    'keyword:by',
    'paren:(',
    'label:route',
    'paren:)',
    'paren:(',
    'function:rate',
    'paren:(',
    'metric:http_requests_total',
    'paren:{',
    'label:job',
    'operator:=',
    'string:"api"',
    'paren:}',
    'duration:[5m]',
    'paren:)',
    'paren:)',
    'operator:>',
    'number:0.5',
  ]);
  assert.equal(
    lib
      .tokenize('a{b="x')
      .map((t) => t.text)
      .join(''),
    'a{b="x',
    'unterminated input is kept whole',
  );
});

test('completion context: metric, label, value', () => {
  assert.deepEqual(lib.completionContext('rate(http_re', 12), { kind: 'metric', prefix: 'http_re', from: 5 });
  assert.deepEqual(lib.completionContext('up{jo', 5), { kind: 'label', prefix: 'jo', from: 3, metric: 'up' });
  assert.deepEqual(lib.completionContext('up{job="sh', 10), { kind: 'value', prefix: 'sh', from: 8, metric: 'up', label: 'job' });
  assert.equal(lib.completionContext('sum by (ro', 10).kind, 'label');
  assert.equal(lib.completionContext('rate(x[5', 8).kind, 'none');
  assert.deepEqual(lib.rankCompletions(['b_up', 'up', 'upper', 'x'], 'up'), ['upper', 'b_up']);
});

test('durations, ranges and steps', () => {
  assert.equal(lib.parseDuration('1h30m'), 5_400_000);
  assert.equal(lib.parseDuration('5x'), undefined);
  assert.equal(lib.formatDuration(90_000), '1m30s');
  assert.equal(lib.autoStep(3_600_000), 15_000);
  const p = new URLSearchParams('from=2024-01-01T00:00:00Z&to=2024-01-01T01:00:00Z');
  assert.deepEqual(lib.rangeFromParams(p), { kind: 'absolute', from: 1704067200000, to: 1704070800000 });
  assert.deepEqual(lib.rangeFromParams(new URLSearchParams('range=bogus')), { kind: 'relative', range: '1h' });
});

test('formatting by unit', () => {
  assert.equal(lib.formatValue(0.0123, 's'), '12.3 ms');
  assert.equal(lib.formatValue(0.953, 'percentunit'), '95.3%');
  assert.equal(lib.formatValue(1536, 'bytes'), '1.5 KiB');
  assert.equal(lib.formatValue(12345, 'reqps'), '12.3k req/s');
  assert.equal(lib.formatValue(undefined), '–');
});

test('align and stack', () => {
  const a = lib.align([
    {
      metric: { __name__: 'a' },
      values: [
        [1, '1'],
        [2, '2'],
      ],
    },
    {
      metric: { __name__: 'b', x: 'y' },
      values: [
        [2, '5'],
        [3, '6'],
      ],
    },
  ]);
  assert.deepEqual(a, [
    [1, 2, 3],
    [1, 2, null],
    [null, 5, 6],
  ]);
  assert.deepEqual(lib.stack(a), [
    [1, 2, 3],
    [1, 2, null],
    [null, 7, 6],
  ]);
  assert.equal(lib.seriesName({ __name__: 'b', x: 'y' }), 'b{x="y"}');
  assert.equal(lib.legendName({ route: '/a' }, '{{ route }} p95'), '/a p95');
});

test('thresholds and alerts colour the overview', () => {
  const pool = lib.SIGNALS.find((s) => s.id === 'pool');
  assert.equal(lib.levelOf(1, pool), 'critical');
  assert.equal(lib.levelOf(0.75, pool), 'warning');
  assert.equal(lib.levelOf(0.2, pool), 'ok');
  assert.equal(lib.levelOf(undefined, pool), 'unknown');
  const up = lib.SIGNALS.find((s) => s.id === 'up');
  assert.equal(lib.levelOf(0, up), 'critical');
  const a = { labels: { alertname: 'DatabasePoolExhausted', service: 'shop', pool: 'orders-db', severity: 'critical' } };
  assert.equal(lib.signalOfAlert(a), 'pool');
  assert.equal(lib.alertLevel(a), 'critical');
  assert.ok(lib.alertForRow(a, 'shop'));
  assert.equal(lib.worst('warning', 'critical'), 'critical');
});

test('Grafana dashboards import: panels, rows, variables, warnings', () => {
  const d = lib.normalizeDashboard({
    dashboard: {
      uid: 'x',
      title: 'G',
      time: { from: 'now-6h' },
      templating: {
        list: [
          { name: 'job', type: 'query', query: { query: 'label_values(up, job)' }, includeAll: true },
          { name: 'ds', type: 'datasource' },
        ],
      },
      panels: [
        {
          type: 'graph',
          title: 'A',
          gridPos: { x: 0, y: 0, w: 12, h: 8 },
          targets: [
            { expr: 'rate(x{job="$job"}[$__rate_interval])', legendFormat: '{{instance}}' },
            { expr: 'histogram_quantile(0.99, sum by (le) (rate(h_bucket[1m])))', exemplar: true },
          ],
          stack: true,
        },
        { type: 'row', panels: [{ type: 'singlestat', title: 'B', targets: [{ expr: 'up' }] }] },
        { type: 'text', title: 'T' },
        { type: 'stat', title: 'L', targets: [{ refId: 'A', datasource: 'loki' }] },
      ],
    },
  });
  assert.equal(d.id, 'x');
  assert.equal(d.range, '6h');
  assert.deepEqual(
    d.panels.map((p) => `${p.type}:${p.title}:${p.stacked}`),
    ['timeseries:A:true', 'stat:B:false'],
  );
  assert.deepEqual(d.variables, [{ name: 'job', label: 'job', metric: 'up', includeAll: true }]);
  assert.equal(d.warnings.length, 3);
  // Grafana's exemplar switch is kept on the target that has it, and only there.
  assert.deepEqual(
    d.panels[0].targets.map((t) => t.exemplar),
    [undefined, true],
  );
  assert.equal(lib.substitute(d.panels[0].targets[0].expr, { job: 'api' }), 'rate(x{job="api"}[1m])');
  assert.equal(lib.substitute('up{job=~"$job"}', { job: '$__all' }), 'up{job=~".+"}');
  assert.throws(() => lib.normalizeDashboard({ title: 'no panels' }), /panels/);
});

test('quoteLabelValue escapes quotes, backslashes and newlines so a label value cannot end the string', () => {
  assert.equal(lib.quoteLabelValue('shop'), '"shop"');
  assert.equal(lib.quoteLabelValue('a"} or vector(1) or x{y="'), '"a\\"} or vector(1) or x{y=\\""');
  assert.equal(lib.quoteLabelValue('C:\\dir\nnext'), '"C:\\\\dir\\nnext"');
  assert.equal(lib.labelMatcher('job', 'x"y'), 'job="x\\"y"');
  // The escaped form tokenizes as one string, as the PromQL parser will read it.
  const strings = lib.tokenize(`up{${lib.labelMatcher('job', 'a"} or up{b="')}}`).filter((t) => t.kind === 'string');
  assert.equal(strings.length, 1);
});

test('safeHref keeps http(s) and relative links and drops javascript:, data: and other schemes', () => {
  const base = 'http://127.0.0.1:9466/ui/alerts';
  assert.equal(lib.safeHref('https://runbooks.example/x', base), 'https://runbooks.example/x');
  assert.equal(lib.safeHref('/ui/logs?query=%7B%7D', base), '/ui/logs?query=%7B%7D');
  assert.equal(lib.safeHref('logs?x=1', base), 'logs?x=1');
  for (const bad of [
    'javascript:alert(1)',
    ' JavaScript:alert(1)',
    'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:x',
    'file:///etc/passwd',
    '',
  ]) {
    assert.equal(lib.safeHref(bad, base), undefined, bad);
  }
  assert.equal(lib.safeHref(undefined, base), undefined);
});

test('sample values: Go-style strings parse, and show with significant digits and units, never in %e', () => {
  assert.equal(lib.parseSampleValue('3.3912e+00'), 3.3912);
  assert.equal(lib.parseSampleValue('+Inf'), Infinity);
  assert.equal(lib.parseSampleValue('-Inf'), -Infinity);
  assert.ok(Number.isNaN(lib.parseSampleValue('NaN')));
  assert.equal(lib.parseSampleValue('abc'), undefined);
  assert.equal(lib.parseSampleValue('1e'), undefined);
  assert.equal(lib.formatSample('3.3912e+00'), '3.39');
  assert.equal(lib.formatSample('1.9e+01'), '19');
  assert.equal(lib.formatSample('1.234567891e+06'), '1.23M');
  assert.equal(lib.formatSample('1.23e-07'), '123n');
  assert.equal(lib.formatSample('4.5e-05'), '45µ');
  assert.equal(lib.formatSample('0'), '0');
  assert.equal(lib.formatSample('1.23e-02', 's'), '12.3 ms');
  assert.equal(lib.formatSample('9.53e-01', 'percentunit'), '95.3%');
  assert.equal(lib.formatSample('1.572864e+06', 'bytes'), '1.5 MiB');
  assert.equal(lib.formatSample('+Inf'), '+Inf');
  assert.equal(lib.formatSample('NaN'), 'NaN');
  assert.equal(lib.formatSample(undefined), '–');
  assert.equal(lib.formatSample('not a number'), 'not a number', 'an unexpected string is shown, not hidden');
  for (const v of ['3.3912e+00', '1e-9', '1e+15', '-2.5e-4', '0.30000000000000004'])
    assert.doesNotMatch(lib.formatSample(v), /e[+-]\d/, `${v} → ${lib.formatSample(v)}`);
  assert.equal(lib.formatSample('0.30000000000000004'), '0.3');
});

test('units of metrics and expressions: name suffixes, histograms, ratios, and the rule’s hint first', () => {
  assert.equal(lib.unitOfMetric('http_server_request_duration_seconds_bucket'), 's');
  assert.equal(lib.unitOfMetric('process_resident_memory_bytes'), 'bytes');
  assert.equal(lib.unitOfMetric('business_funnel_conversion_ratio'), 'percentunit');
  assert.equal(lib.unitOfMetric('http_server_request_duration_seconds_count'), undefined);
  assert.equal(lib.unitOfMetric('process_cpu_seconds_total'), undefined);
  assert.equal(lib.unitOf('histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="a"}[5m]))) > 0.5'), 's');
  assert.equal(lib.unitOf('sum(rate(x_seconds_sum[5m])) / sum(rate(x_seconds_count[5m]))'), 's', 'a histogram mean is in seconds');
  assert.equal(lib.unitOf('max by (service) (process_resident_memory_bytes) > 1e9'), 'bytes');
  assert.equal(lib.unitOf('node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.1'), 'percentunit');
  assert.equal(lib.unitOf('sum by (service) (rate(errors_total{service="shop"}[5m])) > 0.05'), undefined);
  assert.equal(lib.unitOf('max(database_connections_active) > 18'), undefined);
  assert.equal(lib.unitOf('up{job="x_seconds"} == 0'), undefined, 'label values are not metric names');
  assert.equal(lib.unitOf('max(database_connections_active) > 18', 'percent'), 'percent');
  assert.equal(lib.unitOf('x_bytes', 'seconds'), 's');
  assert.equal(lib.unitOf('x_bytes', 'furlongs'), 'bytes', 'an unknown hint falls back to the names');
  assert.equal(lib.unitOf(undefined), undefined);
  // The demo's payment success rule: one counter's rate over its own rate is a fraction.
  const success =
    'sum by (service) (rate(business_payment_total{service="shop",status="success"}[5m])) / sum by (service) (rate(business_payment_total{service="shop"}[5m])) < 0.95';
  assert.equal(lib.unitOf(success), 'percentunit');
  assert.equal(lib.formatSample('9.312e-01', lib.unitOf(success)), '93.1%');
  assert.equal(lib.unitOf(`100 * ${success}`), 'percent');
  assert.equal(lib.unitOf('sum(rate(x_total[5m])) / count(rate(x_total[5m]))'), undefined, 'an average is not a fraction');
  assert.equal(lib.unitOf('rate(x_total[5m]) / 60'), undefined);
});

test('log lines: JSON and logfmt split into level, message and fields; stacks kept whole; text as it is', () => {
  const stack = 'Error: pool exhausted\n    at acquire (db.js:10:5)\n    at checkout (main.js:20:3)';
  const j = lib.parseLogLine(
    JSON.stringify({
      level: 'error',
      time: 1,
      service: 'shop',
      request_id: 'r1',
      err: { type: 'Error', message: 'pool exhausted', stack },
      msg: 'payment failed',
    }),
    { service: 'shop', level: 'error' },
  );
  assert.equal(j.format, 'json');
  assert.equal(j.level, 'error');
  assert.equal(j.message, 'payment failed');
  assert.deepEqual(j.fields, [
    ['service', 'shop'],
    ['request_id', 'r1'],
    ['err_type', 'Error'],
    ['err_message', 'pool exhausted'],
  ]);
  assert.deepEqual(j.stacks, [['err_stack', stack]]);
  assert.equal(lib.parseLogLine('{"level":50,"msg":"x"}').level, 'error', "pino's numeric levels");
  assert.equal(lib.parseLogLine('{"severity":"WARNING","message":"disk"}').level, 'warn');
  const multi = lib.parseLogLine(JSON.stringify({ level: 'info', msg: 'first\nsecond' }));
  assert.equal(multi.message, 'first');
  assert.deepEqual(multi.stacks, [['msg', 'first\nsecond']]);
  const lf = lib.parseLogLine('ts=2024-01-01T00:00:00Z level=warn msg="card declined" amount=12');
  assert.deepEqual([lf.format, lf.level, lf.message, lf.fields], ['logfmt', 'warn', 'card declined', [['amount', '12']]]);
  const text = lib.parseLogLine('GET /health 200 1ms', { level: 'info' });
  assert.deepEqual([text.format, text.level, text.message, text.fields.length], ['text', 'info', 'GET /health 200 1ms', 0]);
  assert.equal(lib.parseLogLine('a=b in prose').format, 'text', 'one pair in prose is not logfmt');
});

test('facet filters: labels go into the selector, fields into a parser stage that is added once', () => {
  const labels = new Set(['service', 'level']);
  assert.equal(lib.withFilter('{service="shop"}', 'level', 'error', labels, 'json'), '{service="shop", level="error"}');
  assert.equal(
    lib.withFilter('{service="shop"} |= "x"', 'msg', 'payment "failed"', labels, 'json'),
    '{service="shop"} |= "x" | json | msg="payment \\"failed\\""',
  );
  assert.equal(
    lib.withFilter('{service="shop"} | json | msg="a"', 'err_type', 'Error', labels, 'json'),
    '{service="shop"} | json | msg="a" | err_type="Error"',
  );
  assert.equal(lib.withFilter('{job="x"}', 'step', '2', labels, 'logfmt'), '{job="x"} | logfmt | step="2"');
  assert.equal(lib.withFilter('{service="a}b"}', 'level', 'warn', labels, 'json'), '{service="a}b", level="warn"}', 'a brace inside a value is not the end');
});

test('time axis labels follow the span shown: seconds, hh:mm, dates', () => {
  const t = new Date(2024, 0, 15, 14, 5, 30).getTime() / 1000;
  const midnight = new Date(2024, 0, 15, 0, 0, 0).getTime() / 1000;
  assert.equal(lib.timeAxisLabel(t, 300), '14:05:30');
  assert.equal(lib.timeAxisLabel(t, 3600), '14:05');
  assert.equal(lib.timeAxisLabel(t, 86_400), '14:05');
  assert.equal(lib.timeAxisLabel(midnight, 7 * 86_400), 'Jan 15');
  assert.equal(lib.timeAxisLabel(t, 7 * 86_400), 'Jan 15 14:05');
});

test('the overview groups every card under one of the four golden signals', () => {
  assert.deepEqual(
    lib.GOLDEN.map((g) => g.title),
    ['Latency', 'Traffic', 'Errors', 'Saturation'],
  );
  const under = (id) => lib.SIGNALS.filter((s) => s.golden === id).map((s) => s.id);
  assert.deepEqual(under('latency'), ['latency', 'span_latency']);
  assert.deepEqual(under('traffic'), ['rps', 'span_rps']);
  assert.deepEqual(under('errors'), ['errors', 'span_errors', 'up']);
  assert.deepEqual(under('saturation'), ['cpu', 'memory', 'eventloop', 'pool']);
});

test('SLO rows: joined by sloth_id, least budget first, windows in duration order, formatted', () => {
  const id = (sloth_id, extra = {}) => ({ sloth_id, ...extra });
  const rows = lib.sloRows({
    info: [
      { metric: id('search-requests', { sloth_service: 'search', sloth_slo: 'requests', sloth_objective: '99' }), value: [0, '1'] },
      { metric: id('checkout-requests', { sloth_service: 'checkout', sloth_slo: 'requests', sloth_objective: '99.9' }), value: [0, '1'] },
      { metric: id('new-slo', { sloth_service: 'new', sloth_slo: 'slo', sloth_objective: '95' }), value: [0, '1'] },
    ],
    remaining: [
      { metric: id('search-requests'), value: [0, '1'] },
      { metric: id('checkout-requests'), value: [0, '-49'] },
    ],
    periodError: [{ metric: id('checkout-requests'), value: [0, '0.05'] }],
    burn: [
      { metric: id('checkout-requests', { sloth_window: '1d' }), value: [0, '50'] },
      { metric: id('checkout-requests', { sloth_window: '5m' }), value: [0, '50'] },
      { metric: id('checkout-requests', { sloth_window: '4w' }), value: [0, '50'] },
      { metric: id('checkout-requests', { sloth_window: '1d12h' }), value: [0, '50'] },
    ],
    history: [
      {
        metric: id('checkout-requests'),
        values: [
          [1000, '0.5'],
          [2000, '-1'],
        ],
      },
    ],
  });
  assert.deepEqual(
    rows.map((r) => r.id),
    ['checkout-requests', 'search-requests', 'new-slo'],
  );
  assert.deepEqual(
    rows[0].burn.map(([w]) => w),
    ['5m', '1d', '1d12h', '4w'],
  );
  assert.equal(rows[0].objective, 99.9);
  assert.equal(lib.sloPercent(rows[0].availability, 3), '95.000%');
  assert.equal(lib.sloPercent(rows[2].availability), '–');
  assert.deepEqual(rows[0].burndown, [
    [1_000_000, 0.5],
    [2_000_000, -1],
  ]);
  assert.equal(lib.budgetLevel(-49), 'level-critical');
  assert.equal(lib.budgetLevel(0.1), 'level-warning');
  assert.equal(lib.budgetLevel(0.9), 'level-ok');
  assert.equal(lib.budgetLevel(undefined), 'level-none');
  assert.equal(lib.burnRate(50), '50x');
  assert.equal(lib.burnRate(0.2), '0.20x');
  assert.equal(lib.burnLevel(14.4), 'level-critical');
  assert.equal(lib.burnLevel(2), 'level-warning');
  // 0.5 of the budget halfway up; -1 (overspent) at the bottom of a box that starts at -1.
  assert.equal(lib.burndownPoints(rows[0].burndown, 100, 20), '0.0,5.0 100.0,20.0');
  assert.equal(lib.burndownPoints([[0, 1]], 100, 20), '');
  assert.equal(lib.windowMs('1d12h'), 36 * 3600_000);
});

test('exemplarPoints: one point per finite exemplar, oldest first, with the trace link and a title naming the series', () => {
  const pts = lib.exemplarPoints([
    {
      seriesLabels: { __name__: 'latency_bucket', le: '0.5' },
      exemplars: [
        { labels: { trace_id: 'abc', span_id: 's1' }, value: '0.42', timestamp: 20.5 },
        { labels: { other: 'x' }, value: 'NaN', timestamp: 21 },
      ],
    },
    { seriesLabels: { __name__: 'latency_bucket', le: '1' }, exemplars: [{ labels: { traceID: 'a/b' }, value: '0.9', timestamp: 10 }] },
  ]);
  assert.deepEqual(
    pts.map((p) => [p.t, p.v, p.traceId, p.href]),
    [
      [10, 0.9, 'a/b', '/ui/traces/a%2Fb'],
      [20.5, 0.42, 'abc', '/ui/traces/abc'],
    ],
  );
  assert.equal(pts[1].title, 'latency_bucket{le="0.5"} 0.42\ntrace_id=abc span_id=s1');
  const long = lib.exemplarPoints([{ seriesLabels: { __name__: 'x' }, exemplars: [{ labels: { trace_id: 't' }, value: '1.4101237229999997', timestamp: 1 }] }]);
  assert.equal(long[0].title, 'x{} 1.41\ntrace_id=t');
  assert.equal(long[0].v, 1.4101237229999997, 'the point keeps the exact value');
  assert.deepEqual(
    pts.map((p) => p.error),
    [false, false],
  );
  // Failures: an HTTP 5xx, a span's error status, an error outcome; a 4xx is the caller's, not ours.
  const failed = (labels) => lib.exemplarPoints([{ seriesLabels: labels, exemplars: [{ labels: { trace_id: 't' }, value: '1', timestamp: 1 }] }])[0].error;
  assert.equal(failed({ status_code: '503' }), true);
  assert.equal(failed({ status_code: 'STATUS_CODE_ERROR' }), true);
  assert.equal(failed({ outcome: 'error' }), true);
  assert.equal(failed({ status_code: '404' }), false);
  assert.equal(failed({ status_code: '200', outcome: 'success' }), false);
  assert.deepEqual(lib.exemplarPoints(null), []);
  assert.deepEqual(lib.exemplarPoints([{ seriesLabels: {}, exemplars: [{ labels: {}, value: '1', timestamp: 1 }] }])[0].href, undefined);
});

test('thinExemplars: at most n, the slowest of each slice of time, a failed one winning a tie', () => {
  const pt = (t, v, error = false) => ({ t, v, error, traceId: `${t}`, href: undefined, title: '' });
  const pts = [pt(0, 1), pt(1, 3), pt(2, 2), pt(5, 1), pt(6, 1, true), pt(9, 0.5), pt(10, 4)];
  // Slices of 10/3 s: [0, 3.3) keeps t=1 (3), [3.3, 6.7) the failed t=6 (tie at 1), [6.7, 10] t=10 (4).
  assert.deepEqual(
    lib.thinExemplars(pts, 3).map((p) => p.t),
    [1, 6, 10],
  );
  assert.equal(lib.thinExemplars(pts, 10).length, pts.length, 'fewer than n: all of them');
  assert.deepEqual(lib.thinExemplars([pt(4, 1), pt(4, 2)], 1), [pt(4, 2)]);
  assert.deepEqual(lib.thinExemplars([], 3), []);
});

test('span-metrics RED cards stand in only for a service without its own HTTP metrics', () => {
  const ids = (have) => lib.rowSignals((id) => have.includes(id)).map((s) => s.id);
  // A service that only sends traces: RED from span metrics.
  assert.deepEqual(ids(['span_latency', 'span_rps', 'span_errors']), ['span_latency', 'span_rps', 'span_errors']);
  // A scraped service that also sends traces keeps its own cards, not both.
  assert.deepEqual(ids(['latency', 'rps', 'errors', 'span_latency', 'span_rps', 'span_errors', 'cpu']), ['latency', 'rps', 'errors', 'cpu']);
  // Only what is missing is filled in.
  assert.deepEqual(ids(['rps', 'span_latency', 'span_rps']), ['rps', 'span_latency']);
  const red = lib.SIGNALS.find((s) => s.id === 'span_errors');
  assert.match(red.expr('service'), /traces_spanmetrics_calls_total\{span_kind=~"SPAN_KIND_SERVER\|SPAN_KIND_CONSUMER",status_code="STATUS_CODE_ERROR"\}/);
});

test('SLO burn-down range: the whole longest period, a step keeping it to 240 points, refined when the history is short', () => {
  const now = 1_000_000_000_000;
  const day = 86_400_000;
  // 30 days: a 3-hour step (240 points); 7 days: 42 minutes; none known: a day, 6 minutes.
  assert.deepEqual(lib.burndownRange([30 * day, 7 * day], now), { start: now - 30 * day, end: now, step: 3 * 3600_000 });
  assert.equal(lib.burndownRange([7 * day], now).step, 42 * 60_000);
  assert.deepEqual(lib.burndownRange([], now), { start: now - day, end: now, step: 360_000 });
  // The 5-minute floor: an hour-long period still steps 5 minutes.
  assert.equal(lib.burndownRange([3600_000], now).step, 300_000);
  const r = lib.burndownRange([30 * day], now);
  assert.equal((r.end - r.start) / r.step, lib.BURNDOWN_POINTS);
  // One point found: the data spans at most two steps (6 h), drawn at a 90 s step.
  assert.deepEqual(lib.refinedBurndownRange(r, [1, 0]), { start: now - 6 * 3600_000, end: now, step: 90_000 });
  assert.equal(lib.refinedBurndownRange(r, [1, 240]), undefined, 'enough points already');
  const periods = lib.sloPeriods([
    { metric: { sloth_id: 'a', sloth_window: '5m' }, value: [0, '1'] },
    { metric: { sloth_id: 'a', sloth_window: '30d' }, value: [0, '1'] },
    { metric: { sloth_id: 'b', sloth_window: '7d' }, value: [0, '1'] },
  ]);
  assert.deepEqual(
    [...periods],
    [
      ['a', 30 * day],
      ['b', 7 * day],
    ],
  );
  // Each SLO's burn-down keeps only its own period before `now`.
  const rows = lib.sloRows({
    info: [{ metric: { sloth_id: 'b', sloth_service: 's', sloth_slo: 'x', sloth_objective: '99' }, value: [0, '1'] }],
    remaining: [],
    periodError: [],
    burn: [{ metric: { sloth_id: 'b', sloth_window: '7d' }, value: [0, '1'] }],
    history: [
      {
        metric: { sloth_id: 'b' },
        values: [
          [(now - 8 * day) / 1000, '1'],
          [(now - 6 * day) / 1000, '0.9'],
          [now / 1000, '0.5'],
        ],
      },
    ],
    now,
  });
  assert.equal(rows[0].periodMs, 7 * day);
  assert.deepEqual(rows[0].burndown, [
    [now - 6 * day, 0.9],
    [now, 0.5],
  ]);
});

test('overview SLO status per service: least budget left, worst burn over the alert windows (not the period)', () => {
  const day = 86_400_000;
  const st = lib.serviceSloStatus([
    {
      service: 'checkout',
      slo: 'availability',
      remaining: 0.4,
      periodMs: 30 * day,
      burn: [
        ['5m', 2],
        ['1h', 16],
        ['30d', 90],
      ],
    },
    {
      service: 'checkout',
      slo: 'latency',
      remaining: -0.2,
      periodMs: 30 * day,
      burn: [
        ['5m', 3],
        ['30d', 1],
      ],
    },
    { service: 'search', slo: 'requests', remaining: undefined, periodMs: 0, burn: [] },
  ]);
  assert.deepEqual(st.get('checkout'), { count: 2, remaining: -0.2, worstBurn: { value: 16, window: '1h', slo: 'availability' } });
  assert.deepEqual(st.get('search'), { count: 1, remaining: undefined, worstBurn: undefined });
  assert.equal(st.has('cart'), false);
});

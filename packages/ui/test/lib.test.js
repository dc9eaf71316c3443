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
          targets: [{ expr: 'rate(x{job="$job"}[$__rate_interval])', legendFormat: '{{instance}}' }],
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

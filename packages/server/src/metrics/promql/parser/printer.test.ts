import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseExpr } from './parser.js';
import { formatExpr } from './printer.js';
import { normalize } from '../../../testkit/promql_parser.js';

describe('printer: canonical form', () => {
  // [input, canonical output]; a single element means the input is already canonical.
  const cases: ReadonlyArray<readonly [string, string?]> = [
    ['sum by(job) (rate(foo{a="b"}[5m] offset 1m))', 'sum by (job) (rate(foo{a="b"}[5m] offset 1m))'],
    ['sum by() (task:errors:rate10s{job="s"})', 'sum(task:errors:rate10s{job="s"})'],
    ['sum by(code) (task:errors:rate10s{job="s"})', 'sum by (code) (task:errors:rate10s{job="s"})'],
    ['sum without() (task:errors:rate10s{job="s"})', 'sum without () (task:errors:rate10s{job="s"})'],
    ['sum without(instance) (task:errors:rate10s{job="s"})', 'sum without (instance) (task:errors:rate10s{job="s"})'],
    ['sum(x) by (a, b)', 'sum by (a, b) (x)'],
    ['topk(5, task:errors:rate10s{job="s"})'],
    ['topk by (a) (5, x)'],
    ['count_values("value", task:errors:rate10s{job="s"})'],
    ['quantile without (a) (0.9, x)'],
    ['limitk(2, x)'],
    ['limit_ratio(0.5, x)'],
    ['sum by ("foo bar", baz) ({"some.metric"})', 'sum by ("foo bar", baz) ({__name__="some.metric"})'],
    ['a - on() c', 'a - on () c'],
    ['a - on(b) c', 'a - on (b) c'],
    ['a - on(b) group_left(x) c', 'a - on (b) group_left (x) c'],
    ['a - on(b) group_left(x, y) c', 'a - on (b) group_left (x, y) c'],
    ['a - on(b) group_left c', 'a - on (b) group_left () c'],
    ['a - on(b) group_left() (c)', 'a - on (b) group_left () (c)'],
    ['a - ignoring(b) c', 'a - ignoring (b) c'],
    ['a - ignoring() c', 'a - c'],
    ['a / on(x) group_right(y) b', 'a / on (x) group_right (y) b'],
    ['a and on(x) b', 'a and on (x) b'],
    ['up > bool 0'],
    ['1 == bool 1'],
    ['a offset 1m'],
    ['a offset -7m'],
    ['a offset 90s', 'a offset 1m30s'],
    ['a offset 3600', 'a offset 1h'],
    ['a{c="d"}[5m] offset 1m'],
    ['a[5m] offset 1m'],
    ['a[12m] offset -3m'],
    ['a[1h:5m] offset 1m'],
    ['a[5]', 'a[5s]'],
    ['a[1.5]', 'a[1s500ms]'],
    ['a[14d]', 'a[2w]'],
    ['a[365d]', 'a[1y]'],
    ['a{b!="c"}[1m]'],
    ['a{b=~"c"}[1m]'],
    ['a{b!~"c"}[1m]'],
    ['a @ 10', 'a @ 10.000'],
    ['a[1m] @ 10', 'a[1m] @ 10.000'],
    ['a @ -1.5', 'a @ -1.500'],
    ['a @ start()'],
    ['a @ end()'],
    ['a[1m] @ start()'],
    ['a[1m] @ end()'],
    ['a offset 5m @ 10', 'a @ 10.000 offset 5m'],
    ['a[1m] offset 5m @ start()', 'a[1m] @ start() offset 5m'],
    ['rate(a[5m])[1h:]'],
    ['rate(a[5m])[1h:1m] @ end() offset 1d'],
    ['min_over_time(rate(foo{bar="baz"}[2s])[5m:] offset 4m)[4m:3s]'],
    ['foo{b="1",a="2"}', 'foo{a="2",b="1"}'],
    ['{"my.metric", "a b"="c"}', '{"a b"="c",__name__="my.metric"}'],
    ['{__name__="a"}'],
    ['{__name__=~"a.*"}'],
    ['foo{a="line\\nbreak", b=`raw\\n`}', 'foo{a="line\\nbreak",b="raw\\\\n"}'],
    ["foo{a='single \\' \"quote'}", 'foo{a="single \' \\"quote"}'],
    ['"string"'],
    ["'a\\xc5z'", '"a\\xc5z"'],
    ['1'],
    ['1e3', '1000'],
    ['0x1F', '31'],
    ['0755', '493'],
    ['1e-7', '0.0000001'],
    ['1e21', '1000000000000000000000'],
    ['+Inf', '+Inf'],
    ['-inf', '-Inf'],
    ['nan', 'NaN'],
    ['5m', '5m'],
    ['-90s', '-1m30s'],
    ['-1', '-1'],
    ['-(1)'],
    ['-foo'],
    ['+foo'],
    ['-2^2', '-2 ^ 2'],
    ['(-2)^2', '(-2) ^ 2'],
    ['1 + 2 * 3'],
    ['(1 + 2) * 3'],
    ['a atan2 b'],
    ['a and b or c unless d'],
    ['time()'],
    ['label_replace(up, "a", "$1", "b", "(.*)")'],
    ['round(x, 5)'],
    ['histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))'],
    [
      'sum(rate(x[5m])) by (job) / ignoring(code) group_left sum(rate(y[5m])) by (job)',
      'sum by (job) (rate(x[5m])) / ignoring (code) group_left () sum by (job) (rate(y[5m]))',
    ],
    ['foo # comment\n  + bar', 'foo + bar'],
  ];
  for (const [input, out] of cases) {
    it(JSON.stringify(input), () => assert.equal(formatExpr(parseExpr(input)), out ?? input));
  }
});

describe('printer: round trips', () => {
  const inputs = [
    'sum by (job) (rate(http_requests_total{job=~"api|web", code!="500"}[5m] offset 1m))',
    'histogram_quantile(0.99, sum without (instance) (rate(x_bucket[5m] @ 1700000000)))',
    'max_over_time(deriv(rate(distance_covered_total[5s])[30s:5s])[10m:])',
    'a > bool on (x, y) group_right (z) b',
    'topk(3, sum by (a) (x)) or bottomk(3, sum by (a) (x))',
    'count_values without (x) ("version", build_info)',
    'absent_over_time(nonexistent{job="myjob"}[1h])',
    'label_join(up{job="api-server",src1="a",src2="b"}, "foo", ",", "src1", "src2")',
    '-(-foo) ^ -2 % 3',
    '{"ünïcödé.metric", "läbel"="välue"}',
    'foo{a="\\u00e9\\t\\x00"} unless on () bar',
    'sort_by_label_desc(x, "a", "b")',
    '1 + -(2 * -3) - 4 ^ 5 ^ -6',
    'quantile_over_time(0.5, x[1h:1m] @ start() offset -5m)',
    'vector(time()) > bool scalar(count(up))',
  ];
  for (const input of inputs) {
    it(input, () => {
      const first = parseExpr(input);
      const printed = formatExpr(first);
      const second = parseExpr(printed);
      assert.equal(formatExpr(second), printed);
      assert.deepEqual(normalize(second), normalize(first));
    });
  }
});

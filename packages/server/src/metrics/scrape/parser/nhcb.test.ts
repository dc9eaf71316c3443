import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collect, drain } from '../../../testkit/scrape_parser.js';
import { ExpositionError } from './errors.js';

const NHCB = { convertClassicToNhcb: true };
const body = `# TYPE h histogram
h_bucket{a="1",le="0.5"} 1
h_bucket{a="1",le="1"} 3
h_bucket{a="1",le="+Inf"} 4
h_sum{a="1"} 3.5
h_count{a="1"} 4 1700000000000
h_bucket{a="2",le="+Inf"} 2
h_count{a="2"} 2
# TYPE g gauge
g 1
`;

test('nhcb: consecutive classic series of one label set become one custom-bucket histogram', () => {
  for (const format of ['prometheus-text', 'openmetrics-text'] as const) {
    assert.deepEqual(collect(format === 'openmetrics-text' ? body + '# EOF\n' : body, format, NHCB), [
      'type h histogram',
      'h{a="1"} {count:4, sum:3.5, (-Inf,0.5]:1, (0.5,1]:2, (1,+Inf]:1}',
      // No _sum: 0, as nothing was observed to sum.
      'h{a="2"} {count:2, sum:0, (-Inf,+Inf]:2}',
      'type g gauge',
      'g{} 1',
    ]);
  }
});

test('nhcb: the classic series are kept beside the histogram when asked', () => {
  const out = collect(body, 'prometheus-text', { ...NHCB, keepClassicHistograms: true });
  assert.deepEqual(out.slice(0, 7), [
    'type h histogram',
    'h_bucket{a="1", le="0.5"} 1',
    'h_bucket{a="1", le="1.0"} 3',
    'h_bucket{a="1", le="+Inf"} 4',
    'h_sum{a="1"} 3.5',
    'h_count{a="1"} 4 @1700000000000',
    'h{a="1"} {count:4, sum:3.5, (-Inf,0.5]:1, (0.5,1]:2, (1,+Inf]:1}',
  ]);
  assert.equal(out.length, 12);
});

test('nhcb: series of other types, and histograms without TYPE, stay as they are', () => {
  const text = 'x_bucket{le="1"} 1\nx_count 1\n# TYPE s summary\ns_sum 1\ns_count 2\n';
  assert.deepEqual(collect(text, 'prometheus-text', NHCB), ['x_bucket{le="1"} 1', 'x_count{} 1', 'type s summary', 's_sum{} 1', 's_count{} 2']);
});

test('nhcb: buckets that cannot be converted fail the scrape naming the histogram', () => {
  const falling = drain(Buffer.from('# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 2\nh_count 2\n'), 'prometheus-text', NHCB);
  assert.ok(falling instanceof ExpositionError);
  assert.match(falling.message, /cannot convert histogram "h" to custom buckets: a bucket's observation count is negative/);
  const noLe = drain(Buffer.from('# TYPE h histogram\nh_bucket{x="1"} 5\nh_count 5\n'), 'prometheus-text', NHCB);
  assert.ok(noLe instanceof ExpositionError);
  assert.match(noLe.message, /bucket of histogram "h" without a numeric le label/);
});

test('nhcb: an OpenMetrics _created series inside a histogram passes without splitting it', () => {
  const om = '# TYPE h histogram\nh_bucket{le="1"} 1\nh_created 1700000000\nh_bucket{le="+Inf"} 2\nh_count 2\nh_sum 1.5\n# EOF\n';
  assert.deepEqual(collect(om, 'openmetrics-text', NHCB), ['type h histogram', 'h_created{} 1700000000', 'h{} {count:2, sum:1.5, (-Inf,1]:1, (1,+Inf]:1}']);
});

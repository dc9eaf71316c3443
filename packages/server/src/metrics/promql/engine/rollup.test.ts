import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelsFrom } from '../../../core/model/labels.js';
import { STALE_NAN } from '../../../core/model/value.js';
import { Head } from '../../tsdb/head.js';
import { Engine } from './engine.js';
import { toApiJson } from './value.js';

/**
 * Counters and gauges with what makes range functions and sums hard: resets, gaps, staleness
 * markers, NaN, ±Inf, huge and small values (Kahan sums), series that end mid-range. Every series
 * starts at the same time: the step-by-step reference below lists a step's series in order of
 * first appearance, and the sums must add in the same order to agree to the bit.
 */
function head(): Head {
  const h = new Head();
  const app = h.appender();
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let j = 0; j < 24; j++) {
    const labels = labelsFrom({ __name__: j % 3 === 0 ? 'other' : 'm', job: `j${j % 4}`, instance: `i${j}` });
    let v = j % 5 === 0 ? 1e16 : rnd() * 100;
    const last = j % 7 === 2 ? 80 : 120;
    for (let i = 0; i <= last; i++) {
      if (j % 4 === 3 && i % 9 === 4) continue; // a gap
      let x: number;
      if (i === 60 && j % 8 === 5) x = STALE_NAN;
      else if (i === 70 && j === 10) x = NaN;
      else if (i === 75 && j === 11) x = Infinity;
      else {
        v = i % 37 === 36 && j % 2 === 0 ? rnd() : v + rnd() * (j % 5 === 0 ? 1 : 10); // resets
        x = j % 5 === 4 ? -v : v;
      }
      app.append(0, labels, i * 15_000, x);
    }
  }
  app.commit();
  return h;
}

describe('range functions and instant selectors fed straight into an aggregation', () => {
  const e = new Engine();
  const h = head();
  const run = (q: string, start: number, end: number, step: number): unknown => {
    let r;
    try {
      r = e.rangeQuery(h, q, start, end, step, { perStepStats: true });
    } catch (err) {
      return String(err);
    }
    // Peak samples differ by path (the reference holds a vector per step as well).
    const { totalQueryableSamples, totalQueryableSamplesPerStep } = r.stats.samples;
    return { result: toApiJson(r.result), totalQueryableSamples, totalQueryableSamplesPerStep, warnings: r.warnings };
  };
  const grids = [
    [0, 1_800_000, 15_000],
    [300_000, 1_500_000, 60_000],
    [1_200_000, 1_200_000, 1],
  ] as const;
  const funcs = [
    'rate',
    'increase',
    'delta',
    'sum_over_time',
    'avg_over_time',
    'min_over_time',
    'max_over_time',
    'count_over_time',
    'last_over_time',
    'irate',
    'changes',
  ];
  const aggs = ['sum', 'count', 'min', 'max', 'group', 'sum by (job)', 'max without (instance)', 'sum by (__name__)'];
  for (const f of funcs) {
    it(`gives what the step-by-step path gives for ${f}`, () => {
      for (const agg of aggs)
        for (const sel of ['{__name__=~"m|other"}[5m]', 'm[1m] offset 2m', 'm[3m] @ 1200', 'm[10m]']) {
          const fused = `${agg} (${f}(${sel}))`;
          // label_replace with an empty replacement of an absent label is the identity, but it
          // makes the aggregation take its usual path (series of the range function, then groups).
          const stepwise = `${agg} (label_replace(${f}(${sel}), "absent_label", "", "absent_label", ""))`;
          for (const [start, end, step] of grids)
            assert.deepEqual(run(fused, start, end, step), run(stepwise, start, end, step), `${fused} over ${start}..${end}/${step}`);
        }
    });
  }

  it('gives what the step-by-step path gives for instant selectors', () => {
    for (const agg of aggs)
      for (const sel of ['{__name__=~"m|other"}', 'm offset 2m', 'm @ 1200', '(m)']) {
        const fused = `${agg} (${sel})`;
        const stepwise = `${agg} (label_replace(${sel}, "absent_label", "", "absent_label", ""))`;
        for (const [start, end, step] of grids)
          assert.deepEqual(run(fused, start, end, step), run(stepwise, start, end, step), `${fused} over ${start}..${end}/${step}`);
      }
  });

  it('counts samples against the limit as the step-by-step path does', () => {
    const small = new Engine({ maxSamples: 500 });
    assert.throws(() => small.rangeQuery(h, 'sum(rate(m[5m]))', 0, 1_800_000, 15_000), /too many samples/);
    assert.throws(() => small.rangeQuery(h, 'count(m)', 0, 1_800_000, 15_000), /too many samples/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FloatHistogram } from '../../core/model/histogram.js';
import { sortLabels, type Labels } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { STALE_NAN } from '../../core/model/value.js';
import { Engine } from '../promql/engine/engine.js';
import type { Querier, Queryable, SelectHints } from '../storage/interface.js';
import { Head } from './head.js';

const labels = (name: string, i: string): Labels =>
  sortLabels([
    { name: '__name__', value: name },
    { name: 'i', value: i },
  ]);

/**
 * A head holding, for metric `x`: a series ending on a float, one ending on a staleness marker, one
 * ending on a native histogram, one with an out-of-order sample and one that stopped early.
 */
function fill(): Head {
  const head = new Head({ maxFutureMs: Infinity, outOfOrderWindowMs: 3600_000 });
  const app = head.appender();
  for (let t = 0; t <= 100_000; t += 10_000) {
    app.append(0, labels('x', 'float'), t, t / 1000);
    app.append(0, labels('x', 'stale'), t, t / 100);
    if (t <= 40_000) app.append(0, labels('x', 'early'), t, -t);
    if (t <= 80_000) app.append(0, labels('x', 'hist'), t, 1);
    if (t % 20_000 === 0) app.append(0, labels('x', 'ooo'), t, t);
  }
  app.append(0, labels('x', 'stale'), 105_000, STALE_NAN);
  app.appendHistogram!(0, labels('x', 'hist'), 90_000, FloatHistogram.of({ count: 3, sum: 5, schema: 0 }));
  app.commit();
  const late = head.appender();
  late.append(0, labels('x', 'ooo'), 70_000, 7);
  late.commit();
  return head;
}

/** The same store, with the latestOnly hint taken out of every selection: what the engine read before it existed. */
function withoutHint(store: Queryable): Queryable {
  return {
    querier(mint: number, maxt: number): Querier {
      const q = store.querier(mint, maxt);
      const plain = (h: SelectHints): SelectHints => ({ start: h.start, end: h.end, ...(h.limit ? { limit: h.limit } : {}) });
      return {
        select: (h, m) => q.select(plain(h), m),
        labelValues: (n, m, l) => q.labelValues(n, m, l),
        labelNames: (m, l) => q.labelNames(m, l),
        close: () => q.close(),
      };
    },
  };
}

const QUERIES = [
  'x',
  'timestamp(x)',
  'count(x)',
  'x offset 20s',
  'x @ 50',
  'max_over_time(x[1m:10s])',
  'last_over_time(x[1m])',
  'x + on(i) group_left x offset 5s',
];

describe('instant selectors read only the newest sample (SelectHints.latestOnly)', () => {
  it('answers every query as the full read does, at times before, at, between and after the samples', () => {
    const head = fill();
    const engine = new Engine();
    for (const q of QUERIES)
      for (const t of [35_000, 85_000, 90_000, 100_000, 104_999, 105_000, 200_000, 400_000, 500_000]) {
        const fast = engine.instantQuery(head, q, t).result;
        const full = engine.instantQuery(withoutHint(head), q, t).result;
        assert.deepEqual(fast, full, `${q} at ${t}`);
      }
    // Range queries read every sample; one-step ones are instant ones.
    for (const [start, end] of [
      [0, 200_000],
      [100_000, 100_000],
    ] as const)
      for (const q of QUERIES) {
        const fast = engine.rangeQuery(head, q, start, end, 10_000).result;
        assert.deepEqual(fast, engine.rangeQuery(withoutHint(head), q, start, end, 10_000).result, `${q} over [${start}, ${end}]`);
      }
  });

  it('hands out the newest float alone, and the chunks for a staleness marker, a histogram or an older time', () => {
    const head = fill();
    const samples = (i: string, end: number): number[] => {
      const set = head.querier(0, end).select({ start: 0, end, latestOnly: true }, [new Matcher('=', 'i', i)]);
      const ts: number[] = [];
      while (set.next()) {
        const it = set.at().iterator();
        while (it.next()) ts.push(it.t());
      }
      return ts;
    };
    assert.deepEqual(samples('float', 200_000), [100_000]);
    assert.deepEqual(samples('ooo', 200_000), [100_000]);
    assert.equal(samples('stale', 200_000).length, 12);
    assert.equal(samples('hist', 200_000).length, 10);
    assert.equal(samples('float', 55_000).length, 6);
  });
});

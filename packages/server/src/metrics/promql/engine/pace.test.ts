import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelsFrom } from '../../../core/model/labels.js';
import type { Pacer } from '../../../core/util/pace.js';
import type { Querier, Queryable, SelectHints, SeriesSet } from '../../storage/interface.js';
import type { Matcher } from '../../../core/model/matcher.js';
import { Head } from '../../tsdb/head.js';
import { Engine } from './engine.js';
import { EngineError } from './errors.js';

const SERIES = 40_000;

function bigHead(): Head {
  const h = new Head();
  let app = h.appender();
  for (let i = 0; i < SERIES; i++) {
    app.append(0, labelsFrom({ __name__: 'm', i: String(i), job: 'big' }), 60_000, i);
    if (i % 5000 === 4999) {
      app.commit();
      app = h.appender();
    }
  }
  app.commit();
  return h;
}

/** The head, counting every series the engine pulls from a selection. */
function counting(h: Head, onPull: (n: number) => void): Queryable {
  let pulled = 0;
  const wrap = (set: SeriesSet): SeriesSet => ({
    next: () => {
      const more = set.next();
      if (more) onPull(++pulled);
      return more;
    },
    at: () => set.at(),
    warnings: () => set.warnings(),
  });
  return {
    querier(mint: number, maxt: number): Querier {
      const q = h.querier(mint, maxt);
      return {
        select: (hints: SelectHints, ms: readonly Matcher[]) => wrap(q.select(hints, ms)),
        *selectPaced(hints: SelectHints, ms: readonly Matcher[], pace: Pacer) {
          return wrap(yield* q.selectPaced!(hints, ms, pace));
        },
        labelValues: (n, ms, l) => q.labelValues(n, ms, l),
        labelNames: (ms, l) => q.labelNames(ms, l),
        close: () => q.close(),
      };
    },
  };
}

const h = bigHead();

test('an aborted query stops pulling series and fails as canceled', async () => {
  const ac = new AbortController();
  let pulled = 0;
  const q = counting(h, (n) => {
    pulled = n;
    if (n === 1000) ac.abort();
  });
  await assert.rejects(
    new Engine().instantQueryAsync(q, 'count(m)', 60_000, { signal: ac.signal }),
    (err) => err instanceof EngineError && err.code === 'canceled',
  );
  assert.ok(pulled >= 1000 && pulled < SERIES, `pulled ${pulled} of ${SERIES} series`);
  // Not aborted, the same query reads every series.
  let all = 0;
  const r = await new Engine().instantQueryAsync(
    counting(h, (n) => (all = n)),
    'count(m)',
    60_000,
  );
  assert.equal(all, SERIES);
  assert.equal(r.result.type === 'vector' && r.result.samples[0]!.v, SERIES);
});

test('the timeout fires during evaluation of a sliced query', async () => {
  const e = new Engine({ timeoutMs: 20 });
  const heavy = Array.from({ length: 50 }, () => 'sum_over_time((vector(1) + 1)[1d:1s])').join(' + ');
  await assert.rejects(e.instantQueryAsync(h, heavy, 60_000), (err) => err instanceof EngineError && err.code === 'timeout');
});

test('sliced and synchronous evaluation agree', async () => {
  const e = new Engine();
  for (const q of ['count(m)', 'sum by (job) (m)', 'topk(3, m)', 'count(count_over_time(m[5m]))']) {
    assert.deepEqual((await e.instantQueryAsync(h, q, 60_000)).result, e.instantQuery(h, q, 60_000).result, q);
  }
  const r1 = await e.rangeQueryAsync(h, 'sum(m)', 0, 300_000, 60_000);
  assert.deepEqual(r1.result, e.rangeQuery(h, 'sum(m)', 0, 300_000, 60_000).result);
});

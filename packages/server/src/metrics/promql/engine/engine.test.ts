import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelsFrom } from '../../../core/model/labels.js';
import type { Queryable } from '../../storage/interface.js';
import { Head } from '../../tsdb/head.js';
import { Engine } from './engine.js';
import { EngineError } from './errors.js';
import { toApiJson } from './value.js';

function head(): Head {
  const h = new Head();
  const app = h.appender();
  for (let i = 0; i <= 10; i++) {
    app.append(0, labelsFrom({ __name__: 'up', job: 'a' }), i * 60_000, i);
    app.append(0, labelsFrom({ __name__: 'up', job: 'b' }), i * 60_000, 2 * i);
  }
  app.commit();
  return h;
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof EngineError, String(err));
    return err.code;
  }
  return 'none';
}

describe('Engine', () => {
  it('evaluates instant and range queries', () => {
    const e = new Engine();
    const h = head();
    const r = e.instantQuery(h, 'sum(up)', 600_000);
    assert.deepEqual(toApiJson(r.result), { resultType: 'vector', result: [{ metric: {}, value: [600, '30'] }] });
    const m = e.rangeQuery(h, 'up{job="a"} * 2', 0, 120_000, 60_000);
    assert.deepEqual(toApiJson(m.result), {
      resultType: 'matrix',
      result: [
        {
          metric: { job: 'a' },
          values: [
            [0, '0'],
            [60, '2'],
            [120, '4'],
          ],
        },
      ],
    });
  });

  it('formats special values like Prometheus', () => {
    const e = new Engine();
    const h = head();
    assert.deepEqual(toApiJson(e.instantQuery(h, '1/0', 0).result), { resultType: 'scalar', result: [0, '+Inf'] });
    assert.deepEqual(toApiJson(e.instantQuery(h, '-1/0', 0).result), { resultType: 'scalar', result: [0, '-Inf'] });
    assert.deepEqual(toApiJson(e.instantQuery(h, '0/0', 0).result), { resultType: 'scalar', result: [0, 'NaN'] });
    assert.deepEqual(toApiJson(e.instantQuery(h, '1e-7', 0).result), { resultType: 'scalar', result: [0, '0.0000001'] });
  });

  it('maps parse errors and bad ranges to bad_data', () => {
    const e = new Engine();
    assert.equal(
      code(() => e.instantQuery(head(), 'sum(', 0)),
      'bad_data',
    );
    assert.equal(
      code(() => e.rangeQuery(head(), 'up[5m]', 0, 60_000, 1000)),
      'bad_data',
    );
    assert.equal(
      code(() => e.rangeQuery(head(), 'up', 0, 60_000, 0)),
      'bad_data',
    );
  });

  it('times out with a driven clock', () => {
    let now = 0;
    const e = new Engine({ timeoutMs: 1000, now: () => (now += 600) });
    assert.equal(
      code(() => e.rangeQuery(head(), 'rate(up[5m])', 0, 600_000, 1000)),
      'timeout',
    );
  });

  it('honours an aborted signal, also when aborted during selection', () => {
    const e = new Engine();
    const ac = new AbortController();
    ac.abort();
    assert.equal(
      code(() => e.instantQuery(head(), 'up', 0, { signal: ac.signal })),
      'canceled',
    );
    const h = head();
    const ac2 = new AbortController();
    const q: Queryable = {
      querier: (mint, maxt) => {
        ac2.abort();
        return h.querier(mint, maxt);
      },
    };
    assert.equal(
      code(() => e.instantQuery(q, 'up', 0, { signal: ac2.signal })),
      'canceled',
    );
  });

  it('enforces the max-samples limit', () => {
    const e = new Engine({ maxSamples: 10 });
    assert.equal(
      code(() => e.rangeQuery(head(), 'up', 0, 600_000, 60_000)),
      'execution',
    );
    assert.equal(
      code(() => new Engine({ maxSamples: 100 }).instantQuery(head(), 'up', 0)),
      'none',
    );
  });

  it('applies a per-query lookback delta', () => {
    const e = new Engine();
    const h = head();
    assert.equal((e.instantQuery(h, 'up', 600_000 + 120_000).result as { samples: unknown[] }).samples.length, 2);
    const r = e.instantQuery(h, 'up', 600_000 + 120_000, { lookbackDelta: 60_000 });
    assert.equal((r.result as { samples: unknown[] }).samples.length, 0);
  });

  it('returns warnings separately from results', () => {
    const e = new Engine();
    const r = e.rangeQuery(head(), 'sort(up)', 0, 60_000, 60_000);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /sort is ineffective/);
    const q = e.instantQuery(head(), 'quantile(2, up)', 60_000);
    assert.match(q.warnings[0]!, /quantile value should be between 0 and 1/);
  });

  it('reports duplicate label sets after name removal', () => {
    const e = new Engine();
    const h = new Head();
    const app = h.appender();
    app.append(0, labelsFrom({ __name__: 'x', a: '1' }), 0, 1);
    app.append(0, labelsFrom({ __name__: 'y', a: '1' }), 0, 2);
    app.commit();
    assert.equal(
      code(() => e.instantQuery(h, '-{a="1"}', 0)),
      'execution',
    );
    assert.equal(
      code(() => e.instantQuery(h, 'x + on(a) {a="1"}', 0)),
      'execution',
    );
  });
});

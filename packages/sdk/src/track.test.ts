import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVigil } from './vigil.js';
import { classifyError } from './track.js';
import { captureLogs, seriesLines, seriesValue } from './testing.js';

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

test('track records latency and outcome, and errors by type and severity', async () => {
  const vigil = createVigil({ service: 't', defaultMetrics: false, serviceLabels: false, logDestination: captureLogs() });
  assert.equal(
    vigil.track('sum', () => 1 + 1),
    2,
  );
  assert.equal(await vigil.track('fetch', async () => 'ok'), 'ok');
  await assert.rejects(
    vigil.track('fetch', async () => {
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    }),
  );
  await assert.rejects(
    vigil.track('fetch', async () => {
      throw new TimeoutError('slow');
    }),
  );
  assert.throws(() =>
    vigil.track('parse', () => {
      throw new SyntaxError('bad');
    }),
  );
  const text = (await vigil.metrics()).body;
  assert.deepEqual(seriesLines(text, 'function_duration_seconds_count'), [
    'function_duration_seconds_count{function="sum",outcome="success"} 1',
    'function_duration_seconds_count{function="fetch",outcome="success"} 1',
    'function_duration_seconds_count{function="fetch",outcome="error"} 2',
    'function_duration_seconds_count{function="parse",outcome="error"} 1',
  ]);
  assert.deepEqual(seriesLines(text, 'errors_total'), [
    'errors_total{source="fetch",type="ECONNREFUSED",severity="high"} 1',
    'errors_total{source="fetch",type="TimeoutError",severity="medium"} 1',
    'errors_total{source="parse",type="SyntaxError",severity="low"} 1',
  ]);
  await vigil.shutdown();
});

test('the decorator tracks methods under Class.method; classification is overridable', async () => {
  const vigil = createVigil({
    service: 't',
    defaultMetrics: false,
    serviceLabels: false,
    logDestination: captureLogs(),
    classifyError: (err) => (err instanceof Error && err.message === 'card declined' ? { type: 'CardDeclined', severity: 'critical' } : undefined),
  });
  class Payments {
    calls = 0;
    @vigil.tracked()
    async charge(amount: number): Promise<number> {
      this.calls++;
      if (amount < 0) throw new Error('card declined');
      return amount;
    }
    @vigil.tracked('refund', { classify: () => ({ type: 'Refund', severity: 'low' }) })
    refund(): void {
      throw new Error('nope');
    }
  }
  const p = new Payments();
  assert.equal(await p.charge(5), 5);
  await assert.rejects(p.charge(-1));
  assert.throws(() => p.refund());
  assert.equal(p.calls, 2, 'this is preserved');
  const text = (await vigil.metrics()).body;
  assert.equal(seriesValue(text, 'function_duration_seconds_count{function="Payments.charge",outcome="success"}'), 1);
  assert.equal(seriesValue(text, 'errors_total{source="Payments.charge",type="CardDeclined",severity="critical"}'), 1);
  assert.equal(seriesValue(text, 'errors_total{source="refund",type="Refund",severity="low"}'), 1);
  await vigil.shutdown();
});

test('default classification', () => {
  assert.deepEqual(classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' })), { type: 'ECONNRESET', severity: 'high' });
  assert.deepEqual(classifyError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' })), { type: 'ETIMEDOUT', severity: 'medium' });
  assert.deepEqual(classifyError(new DOMException('aborted', 'AbortError')), { type: 'AbortError', severity: 'medium' });
  assert.deepEqual(classifyError(new TypeError('x')), { type: 'TypeError', severity: 'low' });
  assert.deepEqual(classifyError('a string'), { type: 'string', severity: 'low' });
});

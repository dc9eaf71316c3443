import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom } from '../../core/model/labels.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { Head } from '../../metrics/tsdb/head.js';
import { RecordingRule } from './recording.js';
import type { QueryFn } from './types.js';

describe('recording rules over native histograms', () => {
  const head = new Head({ maxFutureMs: Infinity });
  const app = head.appender();
  const h = FloatHistogram.of({ count: 4, sum: 6, positiveSpans: [{ offset: 1, length: 1 }], positiveBuckets: [4] });
  app.appendHistogram(0, labelsFrom({ __name__: 'latency' }), 0, h);
  app.commit();
  const engine = new Engine();
  const query = ((expr: string, t: number) => engine.instantQuery(head, expr, t).result) as QueryFn;

  it('refuses to record histogram samples (the TSDB cannot keep them durably yet) instead of writing NaN', async () => {
    await assert.rejects(new RecordingRule('latency:copy', 'latency', {}).eval(0, 0, query, 0), /native histogram/);
  });

  it('records what the functions over them give as floats', async () => {
    const out = await new RecordingRule('latency:count', 'histogram_count(latency)', {}).eval(0, 0, query, 0);
    assert.deepEqual(
      out.map((s) => s.v),
      [4],
    );
  });
});

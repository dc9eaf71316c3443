import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { StorageError } from '../../core/errors.js';
import { Head } from './head.js';
import { DB } from './db.js';
import { NO_SERIES_LIMITS, SeriesLimitError } from './series_limits.js';
import { stored } from '../../testkit/scrape.js';

const T = 1_700_000_000_000;
const limited = (over: Partial<typeof NO_SERIES_LIMITS>): Head => new Head({ maxFutureMs: Infinity, limits: { ...NO_SERIES_LIMITS, ...over } });

function refusedBy(limit: string): (err: unknown) => boolean {
  return (err) => err instanceof SeriesLimitError && err.code === 'limit_exceeded' && err.limit === limit && err.message.includes(limit);
}

test('the head refuses new series past max_global_series and counts the refusal; existing series still append', () => {
  const head = limited({ maxGlobalSeries: 2 });
  const app = head.appender();
  app.append(0, labelsFrom({ __name__: 'a' }), T, 1);
  app.append(0, labelsFrom({ __name__: 'b' }), T, 1);
  assert.throws(() => app.append(0, labelsFrom({ __name__: 'c' }), T, 1), refusedBy('max_global_series'));
  app.append(0, labelsFrom({ __name__: 'a' }), T + 1, 2);
  app.commit();
  assert.equal(head.numSeries, 2);
  assert.equal(head.limitRefusals.get('max_global_series'), 1);
});

test('max_global_series_per_metric counts series by metric name', () => {
  const head = limited({ maxGlobalSeriesPerMetric: 2 });
  const app = head.appender();
  for (const i of ['1', '2']) app.append(0, labelsFrom({ __name__: 'm', i }), T, 1);
  assert.throws(() => app.append(0, labelsFrom({ __name__: 'm', i: '3' }), T, 1), refusedBy('max_global_series_per_metric'));
  app.append(0, labelsFrom({ __name__: 'other', i: '3' }), T, 1);
  app.commit();
  assert.equal(head.largestMetricSeries(), 2);
});

test('label count and length limits', () => {
  const head = limited({ maxLabelNamesPerSeries: 2, maxLabelNameLength: 8, maxLabelValueLength: 5 });
  const app = head.appender();
  assert.throws(() => app.append(0, labelsFrom({ __name__: 'm', a: '1', b: '2' }), T, 1), refusedBy('max_label_names_per_series'));
  assert.throws(() => app.append(0, labelsFrom({ __name__: 'm', abcdefghi: '1' }), T, 1), refusedBy('max_label_name_length'));
  assert.throws(() => app.append(0, labelsFrom({ __name__: 'm', a: '123456' }), T, 1), refusedBy('max_label_value_length'));
  app.rollback();
  assert.equal(head.numSeries, 0);
});

test('a rolled-back batch takes back the series it created, so they do not count against the limit', () => {
  const head = limited({ maxGlobalSeries: 3 });
  const kept = head.appender();
  kept.append(0, labelsFrom({ __name__: 'kept' }), T, 1);
  kept.commit();
  const app = head.appender();
  app.append(0, labelsFrom({ __name__: 'kept' }), T + 1, 2);
  app.append(0, labelsFrom({ __name__: 'new1' }), T, 1);
  app.append(0, labelsFrom({ __name__: 'new2' }), T, 1);
  assert.throws(() => app.append(0, labelsFrom({ __name__: 'new3' }), T, 1), refusedBy('max_global_series'));
  app.rollback();
  assert.equal(head.numSeries, 1);
  assert.deepEqual(
    head.selectRefs([]),
    head.selectRefs([]).filter((r) => head.series(r)),
  );
  assert.deepEqual([...head.indexValues('__name__')], ['kept']);
  const again = head.appender();
  again.append(0, labelsFrom({ __name__: 'new1' }), T, 1);
  again.append(0, labelsFrom({ __name__: 'new2' }), T, 1);
  again.commit();
  assert.equal(head.numSeries, 3);
  assert.deepEqual(
    stored(head, 'new.*').map((s) => s.labels['__name__']),
    ['new1', 'new2'],
  );
});

test('WAL replay is never refused by limits: a restart with a lowered limit keeps every series', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-series-limits-'));
  try {
    const db = new DB({ dir, now: () => T });
    await db.start();
    const app = db.appender();
    for (let i = 0; i < 5; i++) app.append(0, labelsFrom({ __name__: 'm', i: String(i) }), T, i);
    app.commit();
    await db.stop();

    const reopened = new DB({ dir, now: () => T, seriesLimits: { ...NO_SERIES_LIMITS, maxGlobalSeries: 2, maxGlobalSeriesPerMetric: 1 } });
    await reopened.start();
    try {
      assert.equal(reopened.head.numSeries, 5);
      assert.equal(stored(reopened, 'm').length, 5);
      const more = reopened.appender();
      more.append(0, labelsFrom({ __name__: 'm', i: '0' }), T + 1, 9);
      assert.throws(
        () => more.append(0, labelsFrom({ __name__: 'n' }), T + 1, 9),
        (e: unknown) => e instanceof StorageError && e.code === 'limit_exceeded',
      );
      more.rollback();
    } finally {
      await reopened.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

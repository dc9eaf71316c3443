import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { isStaleNaN, STALE_NAN } from '../../core/model/value.js';
import { tempDir } from '../../testkit/helpers.js';
import { Head } from './head.js';
import { Wal } from './wal.js';

const labels = labelsFrom({ __name__: 'latency', job: 'a' });
const h = (count: number, hint?: 'gauge' | 'reset'): FloatHistogram =>
  FloatHistogram.of({ count, sum: count, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [count], ...(hint ? { counterResetHint: hint } : {}) });

/** Every sample of the series as [t, value or histogram count with its hint]. */
function read(head: Head): [number, number | string][] {
  const set = head.querier(-Infinity, Infinity).select({ start: -Infinity, end: Infinity }, [new Matcher('=', '__name__', 'latency')]);
  const out: [number, number | string][] = [];
  while (set.next()) {
    const it = set.at().iterator();
    while (it.next()) {
      const x = it.h?.();
      out.push([it.t(), x === undefined ? (isStaleNaN(it.v()) ? 'stale' : it.v()) : `h${x.count}/${x.counterResetHint}`]);
    }
  }
  return out;
}

describe('head with native histograms', () => {
  it('keeps floats and histograms of one series in time order, with the hints chunks give', () => {
    const head = new Head({ maxFutureMs: Infinity });
    const app = head.appender();
    app.append(0, labels, 1000, 1);
    app.appendHistogram(0, labels, 2000, h(1));
    app.appendHistogram(0, labels, 3000, h(3));
    app.appendHistogram(0, labels, 4000, h(2)); // a reset: count went down, so a new chunk
    app.appendHistogram(0, labels, 4500, h(3, 'reset')); // declared: kept
    app.append(0, labels, 5000, 7);
    app.append(0, labels, 6000, STALE_NAN);
    app.appendHistogram(0, labels, 7000, h(5, 'gauge'));
    app.commit();
    assert.deepEqual(read(head), [
      [1000, 1],
      [2000, 'h1/unknown'],
      [3000, 'h3/not_reset'],
      [4000, 'h2/unknown'],
      [4500, 'h3/reset'],
      [5000, 7],
      [6000, 'stale'],
      [7000, 'h5/gauge'],
    ]);
    assert.equal(head.stats().samplesAppended, 8);
  });

  it('treats a resent histogram as a duplicate only when it is equal', () => {
    const head = new Head({ maxFutureMs: Infinity });
    const app = head.appender();
    app.appendHistogram(0, labels, 1000, h(1));
    app.appendHistogram(0, labels, 1000, h(1));
    assert.throws(() => app.appendHistogram(0, labels, 1000, h(2)), /duplicate sample/);
    assert.throws(() => app.append(0, labels, 1000, 1), /duplicate sample/);
    assert.throws(() => app.appendHistogram(0, labels, 500, h(1)), /out of order/);
    app.commit();
    assert.deepEqual(read(head), [[1000, 'h1/unknown']]);
  });

  it('drops histogram chunks on truncation', async () => {
    const head = new Head({ maxFutureMs: Infinity, chunkRange: 10_000 });
    const app = head.appender();
    app.appendHistogram(0, labels, 1000, h(1));
    app.appendHistogram(0, labels, 12_000, h(2));
    app.commit();
    await head.truncateBeforeSliced(10_000, { due: () => false, tick: () => Promise.resolve() } as never);
    assert.deepEqual(read(head), [[12_000, 'h2/unknown']]);
  });

  it('logs histograms in the WAL: a restart replays them in order with the floats, and a checkpoint keeps them', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const fill = (head: Head): void => {
        const app = head.appender();
        app.append(0, labels, 1000, 1);
        app.appendHistogram(0, labels, 2000, h(1));
        app.appendHistogram(0, labels, 3000, h(3));
        app.appendHistogram(0, labels, 4000, h(2));
        app.appendHistogram(0, labels, 4500, h(3, 'reset'));
        app.append(0, labels, 5000, 7); // one batch switches kind three times
        app.appendHistogram(0, labels, 6000, h(4).with({ sum: STALE_NAN }));
        app.appendHistogram(0, labels, 7000, h(5, 'gauge'));
        app.commit();
      };
      const want = [
        [1000, 1],
        [2000, 'h1/unknown'],
        [3000, 'h3/not_reset'],
        [4000, 'h2/unknown'],
        [4500, 'h3/reset'],
        [5000, 7],
        [6000, 'h4/unknown'],
        [7000, 'h5/gauge'],
      ];
      const reopen = (): { head: Head; wal: Wal } => {
        const wal = new Wal(dir, { warn: () => {} });
        const head = new Head({ wal, maxFutureMs: Infinity });
        wal.replay({
          series: (ref, l) => head.replaySeries(ref, l),
          sample: (ref, t, v) => head.replaySample(ref, t, v),
          histogram: (ref, t, x) => head.replayHistogram(ref, t, x),
        });
        return { head, wal };
      };
      let { head, wal } = reopen();
      fill(head);
      assert.deepEqual(read(head), want);
      wal.close();
      ({ head, wal } = reopen());
      assert.deepEqual(read(head), want, 'replayed');
      const stale = (x: Head): boolean => {
        const it = x.querier(6000, 6000).select({ start: 6000, end: 6000 }, [new Matcher('=', '__name__', 'latency')]);
        assert.ok(it.next());
        const si = it.at().iterator();
        assert.ok(si.next());
        return isStaleNaN(si.h!()!.sum);
      };
      assert.ok(stale(head), 'a stale marker in a histogram sum comes back as one');
      await wal.truncate(3000, () => true);
      wal.close();
      ({ head, wal } = reopen());
      // Samples before the checkpoint's bound are dropped from it; those after stay, in order.
      assert.deepEqual(
        read(head),
        want.filter(([t]) => (t as number) >= 3000).map(([t, v]) => [t, t === 3000 ? 'h3/unknown' : v]),
        'from the checkpoint',
      );
      assert.ok(stale(head));
      wal.close();
    } finally {
      cleanup();
    }
  });
});

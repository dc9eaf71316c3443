/**
 * The storage contract: one suite of tests that every Appendable + Queryable implementation must
 * pass. Implementations call {@link storageContract} from their own test files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom, labelsToRecord } from '../../core/model/labels.js';
import { Matcher, type MatchType } from '../../core/model/matcher.js';
import { STALE_NAN, isStaleNaN } from '../../core/model/value.js';
import { StorageError } from '../../core/errors.js';
import { FloatHistogram, type CounterResetHint } from '../../core/model/histogram.js';
import type { Appendable, Appender, Queryable } from '../../metrics/storage/interface.js';

/** A store under test. `settle` runs after writes (e.g. to move data into blocks); `close` frees it. */
export interface ContractSubject {
  store: Appendable & Queryable;
  settle?: () => void | Promise<void>;
  close: () => void | Promise<void>;
}

type Sample = [number, number];

export async function readAll(
  store: Queryable,
  matchers: Matcher[],
  mint = -Infinity,
  maxt = Infinity,
): Promise<Array<{ labels: Record<string, string>; samples: Sample[] }>> {
  const q = store.querier(mint, maxt);
  const ss = q.select({ start: mint, end: maxt }, matchers);
  const out: Array<{ labels: Record<string, string>; samples: Sample[] }> = [];
  while (ss.next()) {
    const s = ss.at();
    const it = s.iterator();
    const samples: Sample[] = [];
    while (it.next()) samples.push([it.t(), it.v()]);
    out.push({ labels: labelsToRecord(s.labels), samples });
  }
  q.close();
  return out;
}

const m = (type: MatchType, name: string, value: string): Matcher => new Matcher(type, name, value);

/** Every sample of the series `name`: a float, or a histogram. */
async function readMixed(store: Queryable, name: string): Promise<Array<{ t: number; v: number; h: FloatHistogram | undefined }>> {
  const q = store.querier(-Infinity, Infinity);
  const ss = q.select({ start: -Infinity, end: Infinity }, [m('=', '__name__', name)]);
  const out: Array<{ t: number; v: number; h: FloatHistogram | undefined }> = [];
  while (ss.next()) {
    const it = ss.at().iterator();
    while (it.next()) out.push({ t: it.t(), v: it.v(), h: it.h?.() });
  }
  q.close();
  return out;
}

/** A counter histogram of schema 1 whose buckets grow with `i`. */
export function counterHistogram(i: number, hint: CounterResetHint = 'unknown'): FloatHistogram {
  const buckets = [i, 2 * i + 1, 3, 0, i * 0.5];
  return FloatHistogram.of({
    counterResetHint: hint,
    schema: 1,
    zeroThreshold: 1e-128,
    zeroCount: i % 7,
    count: buckets.reduce((a, b) => a + b, 0) + (i % 7) + i,
    sum: i * 3.25,
    positiveSpans: [
      { offset: -1, length: 3 },
      { offset: 2, length: 2 },
    ],
    positiveBuckets: buckets,
    negativeSpans: [{ offset: 0, length: 1 }],
    negativeBuckets: [i],
  });
}

function appendHistogram(a: Appender, ref: number, labels: ReturnType<typeof labelsFrom>, t: number, h: FloatHistogram): number {
  assert.ok(a.appendHistogram, 'the store takes native histograms');
  return a.appendHistogram(ref, labels, t, h);
}

/** Registers the contract tests for a store made by `make`. */
export function storageContract(name: string, make: () => Promise<ContractSubject>): void {
  const withStore = (title: string, fn: (s: ContractSubject) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const subject = await make();
      try {
        await fn(subject);
      } finally {
        await subject.close();
      }
    });
  };

  withStore('committed samples are read back in order; rolled back ones are not', async (s) => {
    const a = s.store.appender();
    const lbl = labelsFrom({ __name__: 'up', job: 'a' });
    let ref = 0;
    for (let i = 0; i < 300; i++) ref = a.append(ref, lbl, 1000 * i, i * 1.5);
    a.commit();
    const b = s.store.appender();
    b.append(0, labelsFrom({ __name__: 'up', job: 'b' }), 1000, 1);
    b.rollback();
    await s.settle?.();
    const got = await readAll(s.store, [m('=', '__name__', 'up')]);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0]!.labels, { __name__: 'up', job: 'a' });
    assert.equal(got[0]!.samples.length, 300);
    assert.deepEqual(got[0]!.samples[299], [299_000, 448.5]);
  });

  withStore('rejects out-of-order and conflicting duplicate samples, accepts exact resends', async (s) => {
    const lbl = labelsFrom({ __name__: 'x' });
    const a = s.store.appender();
    a.append(0, lbl, 2000, 1);
    a.commit();
    const b = s.store.appender();
    assert.throws(
      () => b.append(0, lbl, 1000, 1),
      (e: unknown) => e instanceof StorageError && e.code === 'out_of_order',
    );
    assert.throws(
      () => b.append(0, lbl, 2000, 7),
      (e: unknown) => e instanceof StorageError && e.code === 'duplicate_sample',
    );
    b.append(0, lbl, 2000, 1);
    b.append(0, lbl, 3000, 2);
    assert.throws(
      () => b.append(0, lbl, 2500, 2),
      (e: unknown) => e instanceof StorageError && e.code === 'out_of_order',
    );
    b.commit();
    await s.settle?.();
    const got = await readAll(s.store, [m('=', '__name__', 'x')]);
    assert.deepEqual(got[0]!.samples, [
      [2000, 1],
      [3000, 2],
    ]);
  });

  withStore('rejects invalid label sets with a clear error', async (s) => {
    const a = s.store.appender();
    assert.throws(() => a.append(0, labelsFrom({ job: 'x' }), 1, 1), /no metric name/);
    assert.throws(
      () =>
        a.append(
          0,
          [
            { name: '__name__', value: 'a' },
            { name: '0bad', value: 'v' },
          ],
          1,
          1,
        ),
      /invalid label name/,
    );
    assert.throws(
      () =>
        a.append(
          0,
          [
            { name: '__name__', value: 'a' },
            { name: 'z', value: '1' },
            { name: 'b', value: '2' },
          ],
          1,
          1,
        ),
      /not sorted/,
    );
    a.rollback();
  });

  withStore('resolves all four matcher types, with empty-value semantics', async (s) => {
    const a = s.store.appender();
    const series = [
      { __name__: 'm', env: 'prod', dc: 'eu' },
      { __name__: 'm', env: 'dev', dc: 'us' },
      { __name__: 'm', dc: 'us' },
      { __name__: 'other', env: 'prod' },
    ];
    for (const r of series) a.append(0, labelsFrom(r), 1000, 1);
    a.commit();
    await s.settle?.();
    const names = async (ms: Matcher[]): Promise<string[]> =>
      (await readAll(s.store, ms)).map((x) => `${x.labels['__name__']}/${x.labels['env'] ?? '-'}/${x.labels['dc'] ?? '-'}`);
    assert.deepEqual(await names([m('=', '__name__', 'm'), m('=', 'env', 'prod')]), ['m/prod/eu']);
    assert.deepEqual(await names([m('=', '__name__', 'm'), m('!=', 'env', 'prod')]), ['m/-/us', 'm/dev/us']);
    assert.deepEqual(await names([m('=', '__name__', 'm'), m('=', 'env', '')]), ['m/-/us']);
    assert.deepEqual(await names([m('=~', 'env', 'pro.*')]), ['m/prod/eu', 'other/prod/-']);
    assert.deepEqual(await names([m('=~', 'env', 'pro')]), [], 'regex is anchored');
    assert.deepEqual(await names([m('=', '__name__', 'm'), m('!~', 'dc', 'u.')]), ['m/prod/eu']);
    assert.deepEqual(await names([m('=~', '__name__', '.+'), m('=~', 'env', '')]), ['m/-/us']);
  });

  withStore('answers label names and values, filtered by matchers, with limits', async (s) => {
    const a = s.store.appender();
    a.append(0, labelsFrom({ __name__: 'a', job: 'x', zone: '1' }), 1000, 1);
    a.append(0, labelsFrom({ __name__: 'b', job: 'y' }), 1000, 1);
    a.commit();
    await s.settle?.();
    const q = s.store.querier(0, 10_000);
    assert.deepEqual(q.labelNames([]), ['__name__', 'job', 'zone']);
    assert.deepEqual(q.labelValues('job', []), ['x', 'y']);
    assert.deepEqual(q.labelValues('job', [m('=', '__name__', 'b')]), ['y']);
    assert.deepEqual(q.labelNames([m('=', '__name__', 'b')]), ['__name__', 'job']);
    assert.deepEqual(q.labelValues('__name__', [], 1), ['a']);
    q.close();
  });

  withStore('keeps staleness markers and special floats', async (s) => {
    const lbl = labelsFrom({ __name__: 'g' });
    const a = s.store.appender();
    a.append(0, lbl, 1, 1);
    a.append(0, lbl, 2, STALE_NAN);
    a.append(0, lbl, 3, NaN);
    a.append(0, lbl, 4, -Infinity);
    a.commit();
    await s.settle?.();
    const [got] = await readAll(s.store, [m('=', '__name__', 'g')]);
    const vals = got!.samples.map((x) => x[1]);
    assert.ok(isStaleNaN(vals[1]!));
    assert.ok(Number.isNaN(vals[2]!) && !isStaleNaN(vals[2]!));
    assert.equal(vals[3], -Infinity);
  });

  withStore('limits results to the time range, sorted by labels, and seeks', async (s) => {
    const a = s.store.appender();
    for (const job of ['c', 'a', 'b']) for (let t = 0; t <= 100_000; t += 10_000) a.append(0, labelsFrom({ __name__: 'r', job }), t, t / 1000);
    a.commit();
    await s.settle?.();
    const got = await readAll(s.store, [m('=', '__name__', 'r')], 25_000, 55_000);
    assert.deepEqual(
      got.map((g) => g.labels['job']),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      got[0]!.samples.map((x) => x[0]),
      [30_000, 40_000, 50_000],
    );
    const q = s.store.querier(0, 100_000);
    const ss = q.select({ start: 0, end: 100_000, limit: 2 }, [m('=', '__name__', 'r')]);
    let n = 0;
    while (ss.next()) {
      const it = ss.at().iterator();
      assert.ok(it.seek(41_000));
      assert.equal(it.t(), 50_000);
      n++;
    }
    assert.equal(n, 2);
    q.close();
  });

  withStore('holds many series over many chunks', async (s) => {
    const a = s.store.appender();
    const refs = new Array<number>(200).fill(0);
    for (let t = 0; t < 1000; t++) {
      for (let i = 0; i < 200; i++) refs[i] = a.append(refs[i]!, labelsFrom({ __name__: 'many', i: String(i) }), t * 15_000, t + i);
    }
    a.commit();
    await s.settle?.();
    const got = await readAll(s.store, [m('=', '__name__', 'many'), m('=~', 'i', '1.')]);
    assert.equal(got.length, 10);
    for (const g of got) {
      assert.equal(g.samples.length, 1000);
      assert.equal(g.samples[999]![1], 999 + Number(g.labels['i']));
    }
  });

  withStore('keeps native histograms beside floats: values, hints and staleness, written in two batches', async (s) => {
    const lbl = labelsFrom({ __name__: 'hist', job: 'a' });
    const custom = FloatHistogram.of({
      counterResetHint: 'gauge',
      schema: -53,
      customValues: [0.25, 1, 4],
      count: 6,
      sum: 5.5,
      positiveSpans: [{ offset: 0, length: 4 }],
      positiveBuckets: [1, 2, 0, 3],
    });
    const want: Array<{ t: number; v?: number; h?: FloatHistogram }> = [];
    // First batch: a float, then 150 counter histograms (more than a chunk holds), a declared reset.
    let a = s.store.appender();
    let ref = a.append(0, lbl, 1000, 42);
    want.push({ t: 1000, v: 42 });
    for (let i = 0; i < 150; i++) {
      const h = counterHistogram(i, i === 100 ? 'reset' : 'unknown');
      ref = appendHistogram(a, ref, lbl, 2000 + i * 1000, h);
      want.push({ t: 2000 + i * 1000, h });
    }
    a.commit();
    await s.settle?.();
    // Second batch, after the first has settled (a block, then merged with this one's): a gauge
    // histogram with custom buckets, a stale marker in a histogram's sum, a float and a float stale marker.
    a = s.store.appender();
    appendHistogram(a, 0, lbl, 400_000, custom);
    appendHistogram(a, 0, lbl, 401_000, custom.with({ sum: STALE_NAN }));
    a.append(0, lbl, 402_000, 7);
    a.append(0, lbl, 403_000, STALE_NAN);
    a.commit();
    want.push({ t: 400_000, h: custom }, { t: 401_000, h: custom.with({ sum: STALE_NAN }) }, { t: 402_000, v: 7 }, { t: 403_000, v: STALE_NAN });
    await s.settle?.();

    const got = await readMixed(s.store, 'hist');
    assert.deepEqual(
      got.map((x) => x.t),
      want.map((x) => x.t),
      'every sample, in time order',
    );
    for (let i = 0; i < want.length; i++) {
      const w = want[i]!;
      const g = got[i]!;
      if (w.h === undefined) {
        assert.equal(g.h, undefined, `a float at ${w.t}`);
        assert.ok(Object.is(g.v, w.v) || (isStaleNaN(g.v) && isStaleNaN(w.v!)), `float value at ${w.t}`);
        continue;
      }
      assert.ok(g.h !== undefined, `a histogram at ${w.t}`);
      assert.ok(Number.isNaN(g.v), 'a histogram sample has no float value');
      assert.ok(g.h.equals(w.h), `histogram at ${w.t}: ${JSON.stringify(g.h)}`);
    }
    const hints = got.map((x) => x.h?.counterResetHint);
    assert.equal(hints[1], 'unknown', 'the first histogram of a series has no known reset');
    assert.equal(hints[101], 'reset', 'a declared reset is kept');
    for (let i = 2; i <= 150; i++) if (i !== 101) assert.ok(hints[i] === 'not_reset' || hints[i] === 'unknown', `hint ${hints[i]} at ${i}`);
    assert.ok(hints.slice(2, 101).includes('not_reset'), 'a continuing counter histogram is marked not_reset');
    assert.equal(hints[151], 'gauge');
    assert.ok(isStaleNaN(got[152]!.h!.sum), 'a stale marker in a histogram sum is still one');
    assert.ok(isStaleNaN(got[154]!.v), 'a float stale marker after histograms is still one');
  });
}

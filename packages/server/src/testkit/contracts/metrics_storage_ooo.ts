/**
 * The out-of-order contract: what a store made with a 30-minute out-of-order window must do
 * (Prometheus' `out_of_order_time_window`). Stores that support the window call
 * {@link outOfOrderContract} beside {@link storageContract}; `settle` may cut blocks or reopen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { StorageError } from '../../core/errors.js';
import { counterHistogram, readAll, type ContractSubject } from './metrics_storage.js';

/** The window the store under test is made with. */
export const CONTRACT_OOO_WINDOW_MS = 30 * 60_000;

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const byName = (name: string): Matcher[] => [new Matcher('=', '__name__', name)];
const refusedWith =
  (code: string) =>
  (e: unknown): boolean =>
    e instanceof StorageError && e.code === code;

/** Registers the out-of-order tests for a store made by `make` with a {@link CONTRACT_OOO_WINDOW_MS} window. */
export function outOfOrderContract(name: string, make: () => Promise<ContractSubject>): void {
  const withStore = (title: string, fn: (s: ContractSubject) => Promise<void>): void => {
    test(`${name}: out-of-order: ${title}`, async () => {
      const subject = await make();
      try {
        await fn(subject);
      } finally {
        await subject.close();
      }
    });
  };

  withStore('a late sample within the window is accepted and read back in time order, once', async (s) => {
    const lbl = labelsFrom({ __name__: 'late' });
    const a = s.store.appender();
    for (let i = 0; i <= 20; i += 2) a.append(0, lbl, T0 + i * MIN, i);
    a.commit();
    // Odd minutes arrive after the series reached minute 20: all within 30 minutes of it.
    const b = s.store.appender();
    for (let i = 19; i >= 1; i -= 2) b.append(0, lbl, T0 + i * MIN, i);
    b.commit();
    await s.settle?.();
    const got = await readAll(s.store, byName('late'));
    assert.equal(got.length, 1);
    assert.deepEqual(
      got[0]!.samples,
      Array.from({ length: 21 }, (_, i) => [T0 + i * MIN, i]),
    );
    // A range inside the series sees the same merge.
    const part = await readAll(s.store, byName('late'), T0 + 5 * MIN, T0 + 8 * MIN);
    assert.deepEqual(part[0]!.samples, [
      [T0 + 5 * MIN, 5],
      [T0 + 6 * MIN, 6],
      [T0 + 7 * MIN, 7],
      [T0 + 8 * MIN, 8],
    ]);
  });

  withStore('a sample older than the window is refused; the rest of the store is unchanged', async (s) => {
    const lbl = labelsFrom({ __name__: 'old' });
    const a = s.store.appender();
    a.append(0, lbl, T0 + 60 * MIN, 1);
    a.commit();
    const b = s.store.appender();
    assert.throws(() => b.append(0, lbl, T0 + 60 * MIN - CONTRACT_OOO_WINDOW_MS - 1, 2), refusedWith('out_of_order'));
    // The window's edge itself is inside.
    b.append(0, lbl, T0 + 60 * MIN - CONTRACT_OOO_WINDOW_MS, 3);
    b.commit();
    await s.settle?.();
    const got = await readAll(s.store, byName('old'));
    assert.deepEqual(got[0]!.samples, [
      [T0 + 30 * MIN, 3],
      [T0 + 60 * MIN, 1],
    ]);
  });

  withStore('a late duplicate with another value is refused; an exact resend is accepted and stored once', async (s) => {
    const lbl = labelsFrom({ __name__: 'dup' });
    const a = s.store.appender();
    a.append(0, lbl, T0, 1);
    a.append(0, lbl, T0 + 10 * MIN, 10);
    a.commit();
    const b = s.store.appender();
    b.append(0, lbl, T0 + 5 * MIN, 5);
    b.commit();
    const c = s.store.appender();
    // Against an in-order sample and against an out-of-order one.
    assert.throws(() => c.append(0, lbl, T0, 2), refusedWith('duplicate_sample'));
    assert.throws(() => c.append(0, lbl, T0 + 5 * MIN, 6), refusedWith('duplicate_sample'));
    c.append(0, lbl, T0, 1);
    c.append(0, lbl, T0 + 5 * MIN, 5);
    c.commit();
    await s.settle?.();
    const got = await readAll(s.store, byName('dup'));
    assert.deepEqual(got[0]!.samples, [
      [T0, 1],
      [T0 + 5 * MIN, 5],
      [T0 + 10 * MIN, 10],
    ]);
  });

  withStore('appendInOrder stays out of the window: refused behind the newest sample, stored or in the batch; taken after it', async (s) => {
    const lbl = labelsFrom({ __name__: 'in_order' });
    const a = s.store.appender();
    a.append(0, lbl, T0 + 10 * MIN, 10);
    a.commit();
    const b = s.store.appender();
    // Within the window: append takes it, appendInOrder does not.
    assert.throws(() => b.appendInOrder(0, lbl, T0 + 5 * MIN, 0), refusedWith('out_of_order'));
    assert.throws(() => b.appendInOrder(0, lbl, T0 + 10 * MIN, 0), refusedWith('duplicate_sample'));
    b.append(0, lbl, T0 + 5 * MIN, 5);
    b.appendInOrder(0, lbl, T0 + 11 * MIN, 0);
    // Behind the batch's own newest sample; an exact resend changes nothing.
    assert.throws(() => b.appendInOrder(0, lbl, T0 + 10 * MIN + 30_000, 0), refusedWith('out_of_order'));
    b.appendInOrder(0, lbl, T0 + 11 * MIN, 0);
    b.commit();
    await s.settle?.();
    const got = await readAll(s.store, byName('in_order'));
    assert.deepEqual(got[0]!.samples, [
      [T0 + 5 * MIN, 5],
      [T0 + 10 * MIN, 10],
      [T0 + 11 * MIN, 0],
    ]);
  });

  withStore('a late batch over many series is accepted whole', async (s) => {
    const a = s.store.appender();
    for (let k = 0; k < 50; k++) a.append(0, labelsFrom({ __name__: 'batch', k: String(k) }), T0 + 20 * MIN, k);
    a.commit();
    // The window is measured from the newest sample of the whole store, not of each series.
    const other = s.store.appender();
    other.append(0, labelsFrom({ __name__: 'clock' }), T0 + 25 * MIN, 0);
    other.commit();
    const late = s.store.appender();
    for (let k = 0; k < 50; k++) late.append(0, labelsFrom({ __name__: 'batch', k: String(k) }), T0 + MIN, -k);
    late.commit();
    await s.settle?.();
    const got = await readAll(s.store, byName('batch'));
    assert.equal(got.length, 50);
    for (const series of got) {
      const k = Number(series.labels['k']);
      assert.deepEqual(series.samples, [
        [T0 + MIN, -k],
        [T0 + 20 * MIN, k],
      ]);
    }
  });

  withStore('native histograms stay in order only', async (s) => {
    const lbl = labelsFrom({ __name__: 'hist' });
    const a = s.store.appender();
    assert.ok(a.appendHistogram, 'the store takes native histograms');
    a.appendHistogram(0, lbl, T0 + 10 * MIN, counterHistogram(2));
    a.commit();
    const b = s.store.appender();
    assert.throws(() => b.appendHistogram(0, lbl, T0 + 5 * MIN, counterHistogram(1)), refusedWith('out_of_order'));
    // A float sample behind a histogram is refused too: the series is a histogram series now.
    assert.throws(() => b.append(0, lbl, T0 + 5 * MIN, 1), refusedWith('out_of_order'));
    b.rollback();
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NO_PACE, pacedSort, type Pacer, runSliced, runSync, TimeSlicer, type Work } from './pace.js';

/** A pacer that asks for a pause at every check, counting them. */
function eager(): Pacer & { pauses: number } {
  return {
    pauses: 0,
    check: () => undefined,
    due() {
      this.pauses++;
      return true;
    },
  };
}

test('pacedSort sorts like the native stable sort, pausing as it goes', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 12_000 }), (keys) => {
      const items = keys.map((k, i) => ({ k, i }));
      const want = [...items].sort((a, b) => a.k - b.k);
      const pace = eager();
      const got = runSync(pacedSort(items, (a, b) => a.k - b.k, pace));
      // Equal keys keep their order: the sort is stable.
      assert.deepEqual(got, want);
      if (keys.length > 4096) assert.ok(pace.pauses > 1, 'a long sort pauses');
    }),
    { seed: 7, numRuns: 60 },
  );
  assert.deepEqual(runSync(pacedSort([3, 1, 2], (a, b) => a - b, NO_PACE)), [1, 2, 3]);
});

test('runSliced lets the event loop run between slices and stops at an abort, closing the work', async () => {
  let finalized = false;
  let steps = 0;
  function* work(pace: Pacer): Work<number> {
    try {
      for (;;) {
        steps++;
        if (pace.due()) yield;
      }
    } finally {
      finalized = true;
    }
  }
  const ac = new AbortController();
  const slicer = new TimeSlicer({ sliceMs: 1, signal: ac.signal, canceled: () => new Error('canceled'), timedOut: () => new Error('timed out') });
  let ticks = 0;
  const timer = setInterval(() => {
    // Timers fire while the endless work runs: it pauses.
    if (++ticks === 3) ac.abort();
  }, 1);
  await assert.rejects(runSliced(work(slicer), slicer), /canceled/);
  clearInterval(timer);
  assert.ok(slicer.pauses >= 3);
  assert.ok(steps > 0);
  assert.equal(finalized, true, 'finally blocks ran (queriers close)');
});

test('the deadline stops sliced work at the next pause', async () => {
  function* endless(pace: Pacer): Work<never> {
    for (;;) if (pace.due()) yield;
  }
  let now = 0;
  const slicer = new TimeSlicer({
    sliceMs: 1,
    deadline: 10,
    now: () => (now += 5),
    canceled: () => new Error('canceled'),
    timedOut: () => new Error('timed out'),
  });
  await assert.rejects(runSliced(endless(slicer), slicer), /timed out/);
});

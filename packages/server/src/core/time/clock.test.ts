import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from './clock.js';
import { ManualClock } from './manual_clock.js';

test('the manual clock fires due timers in time order, then insertion order, and stops at the target', async () => {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  clock.setTimer(() => void fired.push(`b@${clock.now()}`), 200);
  clock.setTimer(() => void fired.push(`a@${clock.now()}`), 100);
  clock.setTimer(() => void fired.push(`c@${clock.now()}`), 200);
  clock.setTimer(() => void fired.push('late'), 501);
  await clock.advance(500);
  assert.deepEqual(fired, ['a@1100', 'b@1200', 'c@1200']);
  assert.equal(clock.now(), 1500);
});

test('the manual clock waits for the work a timer starts, including timers that work sets', async () => {
  const clock = new ManualClock(0);
  const ticks: number[] = [];
  const tick = async (): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    ticks.push(clock.now());
    clock.setTimer(tick, 10);
  };
  clock.setTimer(tick, 10);
  await clock.advanceTo(35);
  assert.deepEqual(ticks, [10, 20, 30]);
});

test('cancelled timers do not fire; jump moves time without firing', async () => {
  const clock = new ManualClock(0);
  let fired = 0;
  const t = clock.setTimer(() => void fired++, 10);
  t.cancel();
  t.cancel();
  clock.setTimer(() => void fired++, 20);
  clock.jump(100);
  assert.equal(fired, 0);
  assert.equal(clock.now(), 100);
  await clock.advance(0);
  assert.equal(fired, 1);
});

test('sleep resolves on the clock, and rejects when aborted', async () => {
  const clock = new ManualClock(0);
  let woke = false;
  const slept = clock.sleep(50).then(() => (woke = true));
  await clock.advance(49);
  assert.equal(woke, false);
  await clock.advance(1);
  await slept;
  assert.equal(woke, true);

  const abort = new AbortController();
  const aborted = systemClock.sleep(60_000, abort.signal);
  abort.abort(new Error('stop'));
  await assert.rejects(aborted, { message: 'stop' });
});

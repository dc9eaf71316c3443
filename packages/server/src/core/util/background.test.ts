import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TimeSlicer } from './pace.js';
import { BackgroundJobs, runStraight, SteppedJob, type BackgroundWork } from './background.js';

/** Work that writes a file, asks for it to be synced, and reports what it saw. */
function* writeAndSync(file: string, log: string[]): BackgroundWork<string> {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, 'data');
    log.push('written');
    yield;
    try {
      yield { fsync: fd };
      log.push('synced');
    } catch (err) {
      log.push(`fsync failed: ${(err as NodeJS.ErrnoException).code}`);
    }
    return 'done';
  } finally {
    fs.closeSync(fd);
    log.push('closed');
  }
}

test('background work: sliced, straight through, finished from a pending fsync, abandoned, and a failed fsync thrown back in', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-background-'));
  try {
    const file = path.join(dir, 'f');
    const slicer = new TimeSlicer({ sliceMs: 0 });

    let log: string[] = [];
    assert.equal(await new SteppedJob(writeAndSync(file, log)).run(slicer), 'done');
    assert.deepEqual(log, ['written', 'synced', 'closed']);

    log = [];
    assert.equal(runStraight(writeAndSync(file, log)), 'done');
    assert.deepEqual(log, ['written', 'synced', 'closed']);

    // finishNow() while the sliced driver waits for the thread pool's fsync: the work goes on at once
    // (syncing itself), and the driver, woken later, leaves it alone.
    log = [];
    const job = new SteppedJob(writeAndSync(file, log));
    const running = job.run(slicer);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['written'], 'paused at the fsync (or the slice before it)');
    assert.equal(job.finishNow(), 'done');
    assert.deepEqual(log, ['written', 'synced', 'closed']);
    assert.equal(await running, undefined);
    assert.deepEqual(log, ['written', 'synced', 'closed'], 'nothing ran twice');

    log = [];
    const dropped = new SteppedJob(writeAndSync(file, log));
    const droppedRun = dropped.run(slicer);
    dropped.abandon();
    assert.equal(await droppedRun, undefined);
    assert.deepEqual(log, ['written', 'closed'], 'abandoned: its finally ran, nothing more');

    // An fsync of a descriptor that is not open fails; the error reaches the work.
    function* badSync(): BackgroundWork<string> {
      try {
        yield { fsync: 1_000_000 };
        return 'synced';
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? 'error';
      }
    }
    assert.equal(await new SteppedJob(badSync()).run(slicer), 'EBADF');
    assert.equal(runStraight(badSync()), 'EBADF');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('background jobs run one at a time in order; once() does not queue a name twice; a closed queue starts nothing', async () => {
  let open = true;
  const errors: unknown[] = [];
  const jobs = new BackgroundJobs({ isOpen: () => open, onError: (err) => errors.push(err), sliceMs: 0 });
  const log: string[] = [];
  function* steps(name: string, n: number): BackgroundWork<void> {
    for (let i = 0; i < n; i++) {
      log.push(`${name}${i}`);
      yield;
    }
  }
  void jobs.add(() => steps('a', 3));
  void jobs.once('tick', () => steps('t', 2));
  void jobs.once('tick', () => steps('x', 2));
  void jobs.add(() => {
    throw new Error('cannot start');
  });
  await jobs.add(() => steps('b', 2));
  assert.deepEqual(log, ['a0', 'a1', 'a2', 't0', 't1', 'b0', 'b1'], 'in order, one at a time, the second tick not queued');
  assert.equal(errors.length, 1, 'a failing job is reported, and the queue goes on');

  // finishRunning() completes the paused job at once; abandonRunning() leaves it.
  log.length = 0;
  const first = jobs.add(() => steps('c', 4));
  await new Promise((resolve) => setImmediate(resolve));
  jobs.finishRunning();
  assert.deepEqual(log, ['c0', 'c1', 'c2', 'c3']);
  await first;
  log.length = 0;
  const second = jobs.add(() => steps('d', 4));
  await new Promise((resolve) => setImmediate(resolve));
  jobs.abandonRunning();
  await second;
  assert.ok(log.length < 4, `abandoned after ${log.length} steps`);

  // Closed: a queued job never starts.
  log.length = 0;
  open = false;
  await jobs.add(() => steps('e', 2));
  assert.deepEqual(log, []);
});

test('stepFor() moves a paused job on synchronously, stopping at an fsync request that the sliced driver then makes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-background-'));
  try {
    const log: string[] = [];
    const job = new SteppedJob(writeAndSync(path.join(dir, 'f'), log));
    const running = job.run(new TimeSlicer({ sliceMs: 0 }));
    assert.deepEqual(log, ['written'], 'paused after the write');
    job.stepFor(1000);
    assert.deepEqual(log, ['written'], 'stopped at the fsync request, not past it');
    assert.equal(await running, 'done');
    assert.deepEqual(log, ['written', 'synced', 'closed']);

    // Stepped to its end while the driver slept: finishNow() returns the result without stepping again.
    function* twoSteps(): BackgroundWork<string> {
      yield;
      yield;
      return 'end';
    }
    const short = new SteppedJob(twoSteps());
    const shortRun = short.run(new TimeSlicer({ sliceMs: 0 }));
    short.stepFor(1000);
    assert.equal(short.finishNow(), 'end');
    assert.equal(await shortRun, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TimeSlicer } from '../../core/util/pace.js';
import { BlockJob, runBlockWork, type BlockWork } from './block_work.js';

/** Work that writes a file, asks for it to be synced, and reports what it saw. */
function* writeAndSync(file: string, log: string[]): BlockWork<string> {
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

test('block work: sliced, straight through, finished from a pending fsync, abandoned, and a failed fsync thrown back in', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-blockwork-'));
  try {
    const file = path.join(dir, 'f');
    const slicer = new TimeSlicer({ sliceMs: 0 });

    let log: string[] = [];
    assert.equal(await new BlockJob(writeAndSync(file, log)).run(slicer), 'done');
    assert.deepEqual(log, ['written', 'synced', 'closed']);

    log = [];
    assert.equal(runBlockWork(writeAndSync(file, log)), 'done');
    assert.deepEqual(log, ['written', 'synced', 'closed']);

    // finishNow() while the sliced driver waits for the thread pool's fsync: the work goes on at once
    // (syncing itself), and the driver, woken later, leaves it alone.
    log = [];
    const job = new BlockJob(writeAndSync(file, log));
    const running = job.run(slicer);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(log, ['written'], 'paused at the fsync (or the slice before it)');
    assert.equal(job.finishNow(), 'done');
    assert.deepEqual(log, ['written', 'synced', 'closed']);
    assert.equal(await running, undefined);
    assert.deepEqual(log, ['written', 'synced', 'closed'], 'nothing ran twice');

    log = [];
    const dropped = new BlockJob(writeAndSync(file, log));
    const droppedRun = dropped.run(slicer);
    dropped.abandon();
    assert.equal(await droppedRun, undefined);
    assert.deepEqual(log, ['written', 'closed'], 'abandoned: its finally ran, nothing more');

    // An fsync of a descriptor that is not open fails; the error reaches the work.
    function* badSync(): BlockWork<string> {
      try {
        yield { fsync: 1_000_000 };
        return 'synced';
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? 'error';
      }
    }
    assert.equal(await new BlockJob(badSync()).run(slicer), 'EBADF');
    assert.equal(runBlockWork(badSync()), 'EBADF');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** The nice value of thread `tid` of this process (field 19 of its stat line). */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

test('a worker thread lowers its own priority and no other thread’s', { skip: !existsSync('/proc/thread-self') }, async () => {
  const module = new URL('./thread_priority.js', import.meta.url).href;
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     import(${JSON.stringify(module)}).then((m) => {
       const lowered = m.lowerThreadPriority(10);
       const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
       parentPort.postMessage({ lowered, tid });
       parentPort.once('message', () => process.exit(0));
     });`,
    { eval: true },
  );
  try {
    const { lowered, tid } = await new Promise<{ lowered: boolean; tid: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(lowered, true);
    assert.equal(niceOf(tid), 10);
    assert.notEqual(niceOf(process.pid), 10, 'the main thread keeps its priority');
  } finally {
    worker.postMessage('exit');
    await new Promise((resolve) => worker.once('exit', resolve));
  }
});

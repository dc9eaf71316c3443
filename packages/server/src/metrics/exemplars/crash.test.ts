// kill -9 while exemplars are written: at the crash points after a log append and before a log
// rewrite's rename, and at a random moment from outside. The test reopens the directory and checks
// that every acknowledged exemplar the buffer still has room for is there, intact, and nothing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labelsToRecord } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { crashTraceId, EX_CRASH_SERIES, EX_CRASH_T0 } from '../../testkit/children/exemplar_crash_child.js';
import { ExemplarStorage } from './storage.js';

const CHILD = fileURLToPath(new URL('../../testkit/children/exemplar_crash_child.js', import.meta.url));

interface Run {
  lastAck: number;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/** Runs the child; `killAfterAcks` > 0 kills it from outside once that many acks arrived. */
function runChild(dir: string, max: number, crashAt: string, killAfterAcks = 0): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD, dir, String(max), killAfterAcks ? '1000000' : '3000'], {
      env: { ...process.env, VIGIL_CRASH_AT: crashAt },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterAcks && out.split('\n').length > killAfterAcks) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const acks = out
        .split('\n')
        .filter((l) => l.startsWith('ack '))
        .map((l) => Number(l.slice(4)));
      resolve({ lastAck: acks.length ? Math.max(...acks) : -1, signal, code, stderr: err });
    });
  });
}

async function crashAndCheck(max: number, crashAt: string, killAfterAcks = 0): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-excrash-'));
  try {
    const run = await runChild(dir, max, crashAt, killAfterAcks);
    assert.equal(run.signal, 'SIGKILL', `child should die (${crashAt || 'killed from outside'}); exit ${run.code}: ${run.stderr}`);
    // (Killed after the very first append, the child has acknowledged nothing: lastAck is -1.)
    const s = new ExemplarStorage({ maxExemplars: max, dir });
    s.start();
    const found = new Map<number, number>();
    for (const r of s.select(-Infinity, Infinity, [[new Matcher('=', '__name__', 'crash_latency_bucket')]])) {
      const series = Number(labelsToRecord(r.seriesLabels)['le']);
      for (const e of r.exemplars) {
        const i = (e.ts - EX_CRASH_T0) / 1000;
        assert.equal(labelsToRecord(e.labels)['trace_id'], crashTraceId(i, series));
        assert.equal(e.value, i + series / 10);
        found.set(i, (found.get(i) ?? 0) + 1);
      }
    }
    s.stop();
    // The buffer keeps the newest `max`; at most one batch past the last ack may have reached the log.
    const keep = Math.floor(max / EX_CRASH_SERIES) - 1;
    for (let i = Math.max(0, run.lastAck - keep + 1); i <= run.lastAck; i++)
      assert.equal(found.get(i), EX_CRASH_SERIES, `acknowledged batch ${i} of ${run.lastAck}`);
    for (const [i, n] of found) {
      assert.ok(i <= run.lastAck + 1, `batch ${i} was never written`);
      assert.equal(n, EX_CRASH_SERIES, `batch ${i} whole, once`);
    }
    assert.equal(fs.existsSync(path.join(dir, 'exemplars.log.tmp')), false, 'no temporary log left after start');
    return run.lastAck;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('kill -9 right after a log append: every acknowledged exemplar comes back', async () => {
  for (const pass of [1, 7, 250]) await crashAndCheck(100_000, `exemplars_after_log_write:${pass}`);
});

test('kill -9 between writing a rewritten log and renaming it: the old log still has every acknowledged exemplar', async () => {
  // 16 slots: the log is rewritten every 17 batches or so.
  for (const pass of [1, 2, 5]) await crashAndCheck(16, `exemplars_before_rewrite_rename:${pass}`);
});

test('kill -9 from outside at an arbitrary moment, with and without rewrites', async () => {
  for (const [max, acks] of [
    [100_000, 500],
    [16, 300],
    [64, 1000],
  ] as const) {
    const last = await crashAndCheck(max, '', acks);
    assert.ok(last >= acks - 1, `killed after ${last + 1} acks`);
  }
});

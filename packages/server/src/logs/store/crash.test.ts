/**
 * kill -9 at every crash point of the log store (util/crashpoint.ts), at a first and a later pass:
 * after reopening, the lines present are exactly the acknowledged ones (none lost, none
 * duplicated), plus possibly the one batch in flight when the child died, all or nothing. Lines
 * retention may have dropped (older than the retention period at the kill) may be absent, never
 * doubled. The directory the child left also passes `vigil logs verify`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Matcher } from '../../core/model/matcher.js';
import { verifyLogs } from '../../server/cmd/logs_verify.js';
import { BUSY_LINES, CHILD_BATCH_MS, CHILD_RETENTION_MS, childLine } from '../../testkit/children/logstore_crash_child.js';
import { CRASH_POINTS, LogStore } from './store.js';

const CHILD = fileURLToPath(new URL('../../testkit/children/logstore_crash_child.js', import.meta.url));

/** Runs the child until it kills itself at `at`; returns the last acknowledged batch (-1: none). */
async function runChild(dir: string, at: string): Promise<number> {
  const p = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, VIGIL_CRASH_AT: at } });
  let acked = -1;
  let tail = '';
  p.stdout.on('data', (d: Buffer) => {
    const text = tail + d.toString();
    const cut = text.lastIndexOf('\n');
    for (const m of text.slice(0, cut + 1).matchAll(/acked (\d+)/g)) acked = Number(m[1]);
    tail = text.slice(cut + 1);
  });
  const timer = setTimeout(() => p.kill('SIGTERM'), 20_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((r) => p.on('exit', (c, s) => r([c, s])));
  clearTimeout(timer);
  assert.equal(signal, 'SIGKILL', `${at}: the child should die at the crash point (exit ${code}, signal ${signal}, acked ${acked})`);
  return acked;
}

/** How often each line is present after reopening. */
function presentLines(dir: string): Map<string, number> {
  const store = new LogStore({ dir });
  store.start();
  const seen = new Map<string, number>();
  for (const app of ['busy', 'quiet'])
    for (const g of store.query({ matchers: [new Matcher('=', 'app', app)], start: 0n, end: 1n << 62n, direction: 'forward', limit: 1e7 }))
      for (const e of g.entries) seen.set(e.line, (seen.get(e.line) ?? 0) + 1);
  store.stop();
  return seen;
}

function check(at: string, dir: string, acked: number): { acked: number; present: number } {
  const seen = presentLines(dir);
  const inflight = acked + 1;
  // Batches this far back were older than retention when the child died.
  const retained = inflight - CHILD_RETENTION_MS / CHILD_BATCH_MS;
  let present = 0;
  for (const [line, n] of seen) {
    assert.equal(n, 1, `${at}: ${line} present ${n} times`);
    const b = Number(/b=(\d+)/.exec(line)![1]);
    assert.ok(b <= inflight, `${at}: ${line} present but never pushed (acked up to ${acked})`);
    present++;
  }
  for (let b = Math.max(0, retained); b <= acked; b++) {
    for (let i = 0; i < BUSY_LINES; i++) assert.ok(seen.has(childLine('busy', b, i)), `${at}: acknowledged ${childLine('busy', b, i)} lost`);
    assert.ok(seen.has(childLine('quiet', b, 0)), `${at}: acknowledged ${childLine('quiet', b, 0)} lost`);
  }
  const inflightLines = BUSY_LINES + 1;
  let got = 0;
  for (let i = 0; i < BUSY_LINES; i++) if (seen.has(childLine('busy', inflight, i))) got++;
  if (seen.has(childLine('quiet', inflight, 0))) got++;
  assert.ok(got === 0 || got === inflightLines, `${at}: ${got} of the in-flight batch's ${inflightLines} lines present (one WAL record: all or none)`);
  return { acked: (acked + 1) * inflightLines, present };
}

test('kill -9 at every log store crash point loses and duplicates no acknowledged line', async () => {
  // A first and a later pass (only two streams are ever created).
  const runs = CRASH_POINTS.flatMap((p) => [`${p}:1`, p === 'logs.stream.after-write' ? `${p}:2` : `${p}:3`]);
  const figures: string[] = [];
  // Two children at a time: the machine's two cores.
  const queue = [...runs];
  const worker = async (): Promise<void> => {
    for (let at = queue.shift(); at; at = queue.shift()) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logcrash-'));
      const acked = await runChild(dir, at);
      const out: string[] = [];
      assert.equal(
        verifyLogs(dir, (l) => out.push(l)),
        0,
        `${at}: verify after kill -9:\n${out.join('\n')}`,
      );
      const f = check(at, dir, acked);
      figures.push(`${at}: acknowledged ${f.acked} lines, present ${f.present}`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  await Promise.all([worker(), worker()]);
  assert.equal(figures.length, runs.length);
  console.log(figures.sort().join('\n'));
});

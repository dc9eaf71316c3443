/**
 * kill -9 at every crash point of the trace store, at a first and a later pass: after reopening,
 * every acknowledged span is present exactly once, the batch in flight is all there or not at all,
 * and the directory passes `vigil traces verify`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_SPANS, childTraceId } from '../../testkit/children/tracestore_crash_child.js';
import { TRACE_CRASH_POINTS, TraceStore } from './store.js';
import { verifyTraces } from './verify.js';

const CHILD = fileURLToPath(new URL('../../testkit/children/tracestore_crash_child.js', import.meta.url));

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
  assert.equal(signal, 'SIGKILL', `${at}: the child should die at the crash point (exit ${code}, acked ${acked})`);
  return acked;
}

test('kill -9 at every trace store crash point loses and duplicates no acknowledged span', async () => {
  const runs = TRACE_CRASH_POINTS.flatMap((p) => [`${p}:1`, `${p}:3`]);
  const figures: string[] = [];
  const queue = [...runs];
  const worker = async (): Promise<void> => {
    for (let at = queue.shift(); at; at = queue.shift()) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tracecrash-'));
      try {
        const acked = await runChild(dir, at);
        const out: string[] = [];
        assert.equal(
          verifyTraces(dir, (l) => out.push(l)),
          0,
          `${at}: verify after kill -9:\n${out.join('\n')}`,
        );
        const store = new TraceStore({ dir, tickIntervalMs: 0, now: () => 1_800_000_000_000 });
        store.start();
        for (let b = 0; b <= acked; b++) {
          const spans = store.trace(childTraceId(b));
          assert.equal(spans.length, CHILD_SPANS, `${at}: batch ${b} (acked up to ${acked}) has ${spans.length} spans`);
          assert.equal(new Set(spans.map((s) => s.spanId)).size, CHILD_SPANS, `${at}: batch ${b} duplicated`);
        }
        const inflight = store.trace(childTraceId(acked + 1)).length;
        assert.ok(inflight === 0 || inflight === CHILD_SPANS, `${at}: ${inflight} spans of the batch in flight (one WAL record: all or none)`);
        assert.equal(store.trace(childTraceId(acked + 2)).length, 0);
        figures.push(`${at}: acknowledged ${(acked + 1) * CHILD_SPANS} spans, all present`);
        store.stop();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  };
  await Promise.all([worker(), worker()]);
  assert.equal(figures.length, runs.length);
  console.log(figures.sort().join('\n'));
});

/**
 * The memory budget (issue 19): `vigil start` runs under a V8 heap limit set from it, keeps its
 * exit codes and signals, and near the limit refuses queries, new series and log pushes with 503
 * instead of crashing.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { labelsFrom } from '../../core/model/labels.js';
import { exited, freePort, postWrite, spawnVigil, tempDir, VIGIL_BIN, writeBody } from '../../testkit/helpers.js';
import { heapLimitMb, memoryBudgetOf } from './memory.js';

const { dir, cleanup } = tempDir('vigil-memory-');
after(cleanup);

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, name);
  return Number(line.slice(name.length + 1));
}

test('the heap limit comes from --memory.budget, else memory_budget, else 75% of the machine', () => {
  assert.equal(heapLimitMb(['start', '--memory.budget', '1GB']), 768);
  assert.equal(heapLimitMb(['start', '--memory.budget=2GB']), 1536);
  assert.equal(heapLimitMb(['--help']), undefined);
  assert.equal(heapLimitMb(['check', 'config', 'x.yml']), undefined);
  assert.ok(memoryBudgetOf(['start']) > 0);
  const r = spawnSync(process.execPath, [VIGIL_BIN, 'start', '--memory.budget', '10MB', '--data', dir], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /invalid --memory\.budget: memory budget 10MB is too small: at least 256MB/);
});

test('start runs under the budget; SIGTERM and SIGINT stop it with exit code 0', async () => {
  const v = await spawnVigil(`${dir}/a`, await freePort(), ['--memory.budget', '512MB']);
  const limit = await metric(v.url, 'nodejs_heap_size_limit_bytes');
  // 75% of 512MB for the old generation, plus the young generation: 12 MiB, not V8's default 48.
  assert.ok(limit >= (384 + 8) * 1024 * 1024 && limit <= (384 + 12) * 1024 * 1024, `heap limit ${limit}`);
  v.proc.kill('SIGTERM');
  assert.deepEqual(await exited(v.proc), { code: 0, signal: null });
  // SIGINT too, and the stop is a full one (the signal reaches the server's thread once).
  const w = await spawnVigil(`${dir}/a`, await freePort(), ['--memory.budget', '512MB']);
  w.proc.kill('SIGINT');
  assert.deepEqual(await exited(w.proc), { code: 0, signal: null });
  assert.match(w.stderr(), /Vigil stopped/);
});

test('near the heap limit: new series and queries get 503, the server keeps answering', async () => {
  const v = await spawnVigil(`${dir}/b`, await freePort(), ['--memory.budget', '256MB']);
  try {
    const t = Date.now() - 60_000;
    let refused: { status: number; text: string } | undefined;
    for (let batch = 0; batch < 400 && !refused; batch++) {
      const series = Array.from({ length: 5000 }, (_, i) => ({
        labels: labelsFrom({ __name__: `fill_${batch % 10}`, instance: `host-${batch}-${i}`, pad: 'x'.repeat(64) }),
        samples: [[t, i]] as Array<[number, number]>,
      }));
      const res = await postWrite(v.url, writeBody(series));
      if (res.status !== 204) refused = res;
    }
    assert.ok(refused, 'the flood was refused before the heap ran out');
    assert.equal(refused.status, 503, refused.text);
    assert.match(refused.text, /refused: memory use is at \d+% of the heap limit/);
    const q = await fetch(`${v.url}/api/v1/query?query=${encodeURIComponent('count({__name__=~"fill_.*"})')}`);
    assert.equal(q.status, 503);
    assert.ok(q.headers.get('retry-after'));
    assert.equal((await fetch(`${v.url}/-/ready`)).status, 200, 'still answering');
    assert.equal(v.proc.exitCode, null, 'still running');
  } finally {
    v.proc.kill('SIGTERM');
    await exited(v.proc);
  }
});

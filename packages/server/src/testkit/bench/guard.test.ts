import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { compareRuns, flattenFigures, formatComparison, loadRuns, MIN_BAND, sameCommitPairs, saveRun, type BenchRun } from './guard.js';

const run = (commit: string, figures: Record<string, Record<string, number>>, at = '2026-12-02T00:00:00.000Z'): BenchRun => ({
  mode: 'quick',
  startedAt: at,
  commit,
  figures,
});

describe('benchmark regression guard', () => {
  it('names figures by path, keys list elements by their name, and skips what describes the run', () => {
    const figs = flattenFigures({
      startedAt: '2026-12-02',
      host: { cpus: 2 },
      servers: [
        { id: 'vigil', samplesPerSecond: 800_000, error: null },
        { id: 'prometheus', samplesPerSecond: 450_000 },
      ],
      results: [{ phase: 'flush', maxMs: 42 }],
      plain: [1, 2],
      nan: Number.NaN,
    });
    assert.deepEqual(figs, {
      'servers[vigil].samplesPerSecond': 800_000,
      'servers[prometheus].samplesPerSecond': 450_000,
      'results[flush].maxMs': 42,
      'plain[0]': 1,
      'plain[1]': 2,
    });
  });

  it('measures each band on same-commit pairs and calls a move only beyond it', () => {
    const a1 = run('aaa', { q: { steady: 100, noisy: 10, gone: 1 } });
    const a2 = run('aaa', { q: { steady: 101, noisy: 14, gone: 1 } }); // noisy jitters by 40%
    const b = run('bbb', { q: { steady: 100, noisy: 10 } });
    const pairs = sameCommitPairs([a1, a2, b]);
    assert.equal(pairs.length, 1, 'the aaa→bbb step is a code change, not noise');
    const now = run('ccc', { q: { steady: 120, noisy: 13, fresh: 5 } });
    const c = compareRuns(b, now, pairs);
    const by = Object.fromEntries(c.changes.map((x) => [x.figure, x]));
    assert.equal(by['steady']!.band, MIN_BAND, 'a 1% jitter is floored at the minimum band');
    assert.equal(by['steady']!.moved, true, '+20% is beyond ±5%');
    assert.ok(Math.abs(by['noisy']!.band - 0.4) < 1e-9);
    assert.equal(by['noisy']!.moved, false, '+30% is within its measured ±40%');
    assert.equal(by['fresh'], undefined, 'a figure the baseline lacks is not compared');
    const text = formatComparison(c);
    assert.match(text, /moved {2}q steady: 100 → 120 \(\+20\.0%, band ±5\.0%\)/);
    assert.match(text, /1 of 2 figures moved beyond their band; 1 held/);
  });

  it('says there is nothing to compare with on the first run', () => {
    assert.match(formatComparison(compareRuns(undefined, run('a', { q: { x: 1 } }), [])), /no earlier run/);
  });

  it('keeps runs in time order and reads back only the asked mode', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-guard-'));
    try {
      saveRun(dir, run('b', { q: { x: 2 } }, '2026-12-02T02:00:00.000Z'));
      saveRun(dir, run('a', { q: { x: 1 } }, '2026-12-02T01:00:00.000Z'));
      saveRun(dir, { ...run('c', {}), mode: 'full' });
      assert.deepEqual(
        loadRuns(dir, 'quick').map((r) => r.commit),
        ['a', 'b'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`run.js --quick` measures the band on its first run and compares on the next', { timeout: 240_000 }, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-guard-run-'));
    const runner = path.join(path.dirname(fileURLToPath(import.meta.url)), 'run.js');
    const invoke = (): string => {
      const r = spawnSync(process.execPath, [runner, '--quick', '--only', 'regex'], { encoding: 'utf8', env: { ...process.env, VIGIL_BENCH_DIR: dir } });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      return r.stdout;
    };
    try {
      const first = invoke();
      assert.match(first, /running again to measure the noise band/);
      assert.match(first, /no earlier run of this mode/);
      const second = invoke();
      assert.doesNotMatch(second, /running again/, 'two same-commit runs are on record: the band comes from them');
      assert.match(second, /noise bands from 1 pair\(s\)/);
      assert.match(second, /\d+ of \d+ figures moved beyond their band/);
      assert.equal(readdirSync(path.join(dir, 'runs')).length, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

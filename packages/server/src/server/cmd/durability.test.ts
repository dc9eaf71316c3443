// Durability for real: a spawned server is killed with SIGKILL while it acknowledges writes; after a
// restart every acknowledged sample must be there. Also checks the CLI's clean shutdown on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { DB } from '../../metrics/tsdb/db.js';
import { exited, freePort, getJson, postWrite, spawnVigil, tempDir, VIGIL_BIN, waitFor, writeBody } from '../../testkit/helpers.js';

const BIN = VIGIL_BIN;

test('kill -9 loses no acknowledged sample; the WAL is replayed on restart', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const port = await freePort();
    const first = await spawnVigil(dir, port);
    const acked = new Map<string, number>(); // series → last acknowledged timestamp
    let ackedSamples = 0;
    let stop = false;
    const T0 = Date.now() - 3_600_000;
    // Four writers, each with its own series, so requests never conflict in order.
    const writers = [0, 1, 2, 3].map(async (w) => {
      for (let step = 0; !stop; step++) {
        const t = T0 + step * 1000;
        const series = Array.from({ length: 50 }, (_, i) => ({
          labels: labelsFrom({ __name__: 'durable', writer: String(w), i: String(i) }),
          samples: [[t, step] as [number, number]],
        }));
        try {
          const r = await postWrite(first.url, writeBody(series));
          if (r.status !== 204) throw new Error(`write failed: ${r.status} ${r.text}`);
        } catch (err) {
          if (stop) return;
          throw err;
        }
        for (const s of series) acked.set(`${w}/${s.labels[1]!.value}`, t);
        ackedSamples += series.length;
      }
    });
    await waitFor('some writes', async () => (ackedSamples >= 20_000 ? true : undefined), 60_000, 20);
    first.proc.kill('SIGKILL');
    stop = true;
    await Promise.allSettled(writers);
    await exited(first.proc);

    const second = await spawnVigil(dir, port);
    const series = await getJson(`${second.url}/api/v1/series?match[]=durable`);
    assert.equal((series.body.data as unknown[]).length, 200);
    second.proc.kill('SIGTERM');
    const how = await exited(second.proc);
    assert.equal(how.code, 0, `clean exit on SIGTERM; stderr:\n${second.stderr()}`);

    // Count from the data directory itself: every acknowledged sample must be present.
    const db = new DB({ dir, maintenanceIntervalMs: 0 });
    await db.start();
    const q = db.querier(T0, Date.now());
    const ss = q.select({ start: T0, end: Date.now() }, [new Matcher('=', '__name__', 'durable')]);
    let total = 0;
    while (ss.next()) {
      const s = ss.at();
      const key = `${s.labels.find((l) => l.name === 'writer')!.value}/${s.labels.find((l) => l.name === 'i')!.value}`;
      const it = s.iterator();
      let last = -1;
      let n = 0;
      while (it.next()) {
        n++;
        last = it.t();
      }
      total += n;
      assert.ok(last >= (acked.get(key) ?? -1), `series ${key}: last stored ${last} < last acknowledged ${acked.get(key)}`);
      assert.equal(n, (last - T0) / 1000 + 1, `series ${key} has no gaps`);
    }
    await db.stop();
    assert.ok(total >= ackedSamples, `stored ${total} < acknowledged ${ackedSamples}`);
  } finally {
    cleanup();
  }
});

test('vigil --help, --version, bad flags and bad config files', async () => {
  const run = (args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('exit', (code) => resolve({ code, out, err }));
    });
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /--listen/);
  const version = await run(['--version']);
  assert.match(version.out, /^vigil \d+\.\d+\.\d+/);
  const bad = await run(['start', '--listen', 'nonsense']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /invalid listen address/);
  const { dir, cleanup } = tempDir();
  try {
    const fs = await import('node:fs');
    const file = `${dir}/vigil.yml`;
    fs.writeFileSync(file, 'storage:\n  path: x\n  retention: forever\n');
    const cfg = await run(['start', '--config', file]);
    assert.equal(cfg.code, 2);
    assert.match(cfg.err, new RegExp(`${file}:3: storage\\.retention: `));
  } finally {
    cleanup();
  }
});

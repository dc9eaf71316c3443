// Data safety against an unlucky operator: a disk that fills up under load, a second server started
// on the same data directory, a start that cannot bind its port, and a sender whose clock is ten
// years ahead. Each test counts what was acknowledged and what is there afterwards.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { DB } from '../../metrics/tsdb/db.js';
import { LogStore } from '../../logs/store/index.js';
import { exited, freePort, getJson, postWrite, spawnVigil, startServer, tempDir, VIGIL_BIN, writeBody } from '../../testkit/helpers.js';

/** A small tmpfs mounted for the test, or undefined where this user may not mount one. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Fills the file system holding `dir` until about `leaveBytes` remain, with a file that can be removed later. */
function fillDisk(dir: string, leaveBytes: number): string {
  const filler = path.join(dir, 'filler');
  const free = fs.statfsSync(dir).bavail * fs.statfsSync(dir).bsize;
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  let left = Math.max(0, free - leaveBytes);
  try {
    while (left > 0) left -= fs.writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  } catch {
    // Already full.
  }
  fs.closeSync(fd);
  return filler;
}

/** Pushes `n` lines to the Loki API, stamped `t` ms plus their index in ns; returns the HTTP status and body. */
async function pushLines(url: string, stream: Record<string, string>, tMs: number, n: number, tag: string): Promise<{ status: number; text: string }> {
  const values = Array.from({ length: n }, (_, i) => [String(BigInt(tMs) * 1_000_000n + BigInt(i)), `level=info msg="payment accepted" tag=${tag} i=${i}`]);
  const r = await fetch(`${url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ streams: [{ stream, values }] }),
  });
  return { status: r.status, text: await r.text() };
}

/** Counts the stored lines of all streams, straight from the data directory. */
function storedLines(dir: string): number {
  const store = new LogStore({ dir: path.join(dir, 'logs') });
  store.start();
  try {
    return store.stats().entries;
  } finally {
    store.stop();
  }
}

/** Counts the stored samples of metric `name` per series, straight from the data directory. */
async function storedSamples(dir: string, name: string): Promise<number> {
  const db = new DB({ dir, maintenanceIntervalMs: 0 });
  await db.start();
  try {
    const ss = db.querier(0, Date.now() + 3_600_000).select({ start: 0, end: Date.now() + 3_600_000 }, [new Matcher('=', '__name__', name)]);
    let n = 0;
    while (ss.next()) {
      const it = ss.at().iterator();
      while (it.next()) n++;
    }
    return n;
  } finally {
    await db.stop();
  }
}

test(
  'a full disk refuses writes with 507 and says so in /-/ready; reads go on; writes resume; nothing acknowledged is lost',
  { timeout: 120_000 },
  async (t: TestContext) => {
    const { dir: mnt, cleanup } = tempDir('vigil-diskfull-');
    if (!mountTmpfs(mnt, '24m')) {
      cleanup();
      t.skip('mounting a tmpfs needs root (CI runs as root); the injected-failure tests in tsdb/wal.test cover the logic');
      return;
    }
    try {
      const data = path.join(mnt, 'data');
      const port = await freePort();
      let vigil = await spawnVigil(data, port);
      const T0 = Date.now() - 600_000;
      let step = 0;
      let acked = 0;
      let ackedLines = 0;
      let logStep = 0;
      const statuses = new Map<number, number>();
      const logStatuses = new Map<number, number>();
      const pushOnce = async (): Promise<number> => {
        const r = await pushLines(vigil.url, { service: 'payments', job: 'disk' }, T0 + logStep, 25, `s${logStep}`);
        logStatuses.set(r.status, (logStatuses.get(r.status) ?? 0) + 1);
        if (r.status === 204) {
          ackedLines += 25;
          logStep++;
        } else {
          assert.equal(r.status, 507, `a refused push is a 507, got ${r.status}: ${r.text}`);
          assert.match(r.text, /no space left on device/);
        }
        return r.status;
      };
      const writeOnce = async (): Promise<number> => {
        const series = Array.from({ length: 40 }, (_, i) => ({
          labels: labelsFrom({ __name__: 'full_disk', i: String(i) }),
          samples: [[T0 + step, step] as [number, number]],
        }));
        const r = await postWrite(vigil.url, writeBody(series));
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 204) {
          acked += series.length;
          step++;
        } else assert.equal(r.status, 507, `a refused write is a 507, got ${r.status}: ${r.text}`);
        if (r.status === 507) assert.match(r.text, /no space left on device/);
        return r.status;
      };
      for (let i = 0; i < 50; i++) {
        await writeOnce();
        await pushOnce();
      }
      const filler = fillDisk(mnt, 64 * 1024);
      let refused = 0;
      let refusedLogs = 0;
      for (let i = 0; i < 5000 && (refused < 20 || refusedLogs < 20); i++) {
        if ((await writeOnce()) === 507) refused++;
        if ((await pushOnce()) === 507) refusedLogs++;
      }
      assert.ok(refused >= 20 && refusedLogs >= 20, 'writes and pushes are refused once the disk is full');
      const ready = await fetch(`${vigil.url}/-/ready`);
      assert.equal(ready.status, 503);
      const readyText = await ready.text();
      assert.match(readyText, /metrics storage: WAL write failed: no space left on device/);
      assert.match(readyText, /log storage: .*no space left on device/);
      const q = await getJson(`${vigil.url}/api/v1/query?query=count(full_disk)`);
      assert.equal(q.status, 200, 'reads keep working while the disk is full');
      // A silence that cannot be saved is refused and mutes nothing.
      const silence = (comment: string): Promise<Response> =>
        fetch(`${vigil.url}/api/v2/silences`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            matchers: [{ name: 'service', value: 'payments', isRegex: false }],
            startsAt: new Date().toISOString(),
            endsAt: new Date(Date.now() + 3_600_000).toISOString(),
            createdBy: 'test',
            comment,
          }),
        });
      const refusedSilence = await silence('during the full disk');
      assert.equal(refusedSilence.status, 507, await refusedSilence.text());
      assert.deepEqual(await (await fetch(`${vigil.url}/api/v2/silences`)).json(), [], 'the refused silence is not active');
      fs.rmSync(filler);
      let resumed = 0;
      let resumedLogs = 0;
      for (let i = 0; i < 200 && (resumed < 30 || resumedLogs < 30); i++) {
        if ((await writeOnce()) === 204) resumed++;
        if ((await pushOnce()) === 204) resumedLogs++;
      }
      assert.ok(resumed >= 30 && resumedLogs >= 30, 'ingest resumes by itself when space returns');
      assert.equal((await fetch(`${vigil.url}/-/ready`)).status, 200);
      assert.equal((await silence('after space returned')).status, 200);
      // A crash right after, then a graceful restart: every acknowledged sample must be there, once.
      vigil.proc.kill('SIGKILL');
      await exited(vigil.proc);
      vigil = await spawnVigil(data, port);
      const silences = (await (await fetch(`${vigil.url}/api/v2/silences`)).json()) as Array<{ comment: string }>;
      assert.deepEqual(
        silences.map((x) => x.comment),
        ['after space returned'],
        'the accepted silence survived kill -9; the refused one never existed',
      );
      vigil.proc.kill('SIGTERM');
      assert.equal((await exited(vigil.proc)).code, 0, vigil.stderr());
      const present = await storedSamples(data, 'full_disk');
      t.diagnostic(`metrics: acknowledged ${acked} samples, present ${present}; responses ${JSON.stringify(Object.fromEntries(statuses))}`);
      assert.equal(present, acked);
      const presentLines = storedLines(data);
      t.diagnostic(`logs: acknowledged ${ackedLines} lines, present ${presentLines}; responses ${JSON.stringify(Object.fromEntries(logStatuses))}`);
      assert.equal(presentLines, ackedLines);
      // The checks agree that nothing at rest is damaged.
      for (const signal of ['tsdb', 'logs']) {
        const out = execFileSync(process.execPath, [VIGIL_BIN, signal, 'verify', data], { encoding: 'utf8' });
        assert.match(out, /\b0 problems|no problems|clean/i, `${signal} verify: ${out}`);
      }
    } finally {
      execFileSync('umount', ['-l', mnt]);
      cleanup();
    }
  },
);

test('a second server on the same data directory is refused; a stale lock is taken over', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir();
  try {
    const first = await spawnVigil(dir, await freePort());
    const second = spawn(process.execPath, [VIGIL_BIN, 'start', '--data', dir, '--listen', `127.0.0.1:${await freePort()}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    second.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const how = await exited(second);
    assert.equal(how.code, 1);
    assert.match(err, new RegExp(`data directory .* is in use by process ${first.proc.pid}`));
    assert.equal(fs.readFileSync(path.join(dir, 'lock'), 'utf8').trim(), String(first.proc.pid), 'the refused start left the lock alone');
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    // The lock names a dead process now: the next start takes it over.
    const third = await spawnVigil(dir, await freePort());
    assert.equal(fs.readFileSync(path.join(dir, 'lock'), 'utf8').trim(), String(third.proc.pid));
    third.proc.kill('SIGTERM');
    assert.equal((await exited(third.proc)).code, 0);
    assert.ok(!fs.existsSync(path.join(dir, 'lock')), 'a clean stop removes the lock');
  } finally {
    cleanup();
  }
});

test('a start that cannot bind its port exits 1 at once and releases the data directory', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir();
  const a = tempDir();
  try {
    const port = await freePort();
    const holder = await spawnVigil(a.dir, port);
    const began = Date.now();
    const p = spawn(process.execPath, [VIGIL_BIN, 'start', '--data', dir, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const how = await exited(p);
    assert.equal(how.code, 1);
    assert.match(err, /EADDRINUSE/);
    assert.ok(Date.now() - began < 10_000, 'exits at once');
    assert.ok(!fs.existsSync(path.join(dir, 'lock')), 'the lock was released');
    holder.proc.kill('SIGTERM');
    await exited(holder.proc);
  } finally {
    cleanup();
    a.cleanup();
  }
});

test('a sample ten years ahead is refused; no block is deleted and current writes keep working', async () => {
  const srv = await startServer();
  try {
    const now = Date.now();
    const current = (t: number, v: number): Buffer => writeBody([{ labels: labelsFrom({ __name__: 'clocked', host: 'a' }), samples: [[t, v]] }]);
    for (let i = 0; i < 10; i++) assert.equal((await postWrite(srv.url, current(now - 7_200_000 + i * 60_000, i))).status, 204);
    await srv.server.db.flush();
    const blocks = srv.server.db.listBlocks().length;
    assert.ok(blocks >= 1);
    const future = await postWrite(
      srv.url,
      writeBody([{ labels: labelsFrom({ __name__: 'clocked', host: 'broken' }), samples: [[now + 10 * 365 * 86_400_000, 1]] }]),
    );
    assert.equal(future.status, 400);
    assert.match(future.text, /ahead of the server's clock/);
    for (let i = 0; i < 5; i++) assert.equal((await postWrite(srv.url, current(now - 60_000 + i * 1000, 100 + i))).status, 204);
    await srv.server.db.maintain();
    await srv.server.db.applyRetention();
    assert.equal(srv.server.db.listBlocks().length, blocks, 'no block deleted');
    const r = await getJson(`${srv.url}/api/v1/query?query=count_over_time(clocked[3h])&time=${now / 1000}`);
    assert.deepEqual(
      (r.body.data as { result: Array<{ value: [number, string] }> }).result.map((x) => x.value[1]),
      ['15'],
    );
    // The same for a log line: refused with a reason, and the stream keeps taking current lines.
    assert.equal((await pushLines(srv.url, { service: 'clocked' }, now - 1000, 3, 'before')).status, 204);
    const futureLine = await pushLines(srv.url, { service: 'clocked' }, now + 10 * 365 * 86_400_000, 1, 'future');
    assert.equal(futureLine.status, 400);
    assert.match(futureLine.text, /too far in the future|ahead/);
    assert.equal((await pushLines(srv.url, { service: 'clocked' }, now, 3, 'after')).status, 204);
    const lines = await getJson(`${srv.url}/loki/api/v1/query?query=${encodeURIComponent('count_over_time({service="clocked"}[5m])')}&time=${now / 1000 + 1}`);
    assert.deepEqual(
      (lines.body.data as { result: Array<{ value: [number, string] }> }).result.map((x) => x.value[1]),
      ['6'],
    );
  } finally {
    await srv.stop();
  }
});

test('vigil tsdb verify / logs verify: exit 2 for a directory without a store, 1 naming damage, 0 when clean', async () => {
  const { spawnSync } = await import('node:child_process');
  const run = (...args: string[]): { code: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [VIGIL_BIN, ...args], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const empty = tempDir();
  const srv = await startServer();
  try {
    for (const signal of ['tsdb', 'logs']) {
      const r = run(signal, 'verify', empty.dir);
      assert.equal(r.code, 2, `${signal}: ${r.out}${r.err}`);
      assert.match(r.err, /is it a Vigil data directory\?/);
    }
    assert.equal((await postWrite(srv.url, writeBody([{ labels: labelsFrom({ __name__: 'verified' }), samples: [[Date.now(), 1]] }]))).status, 204);
    assert.equal((await pushLines(srv.url, { service: 'verified' }, Date.now(), 3, 'v')).status, 204);
    await srv.server.db.flush();
    await srv.server.stop();
    for (const signal of ['tsdb', 'logs']) assert.equal(run(signal, 'verify', srv.dir).code, 0, signal);
    const block = srv.server.db.listBlocks()[0]!;
    const chunks = path.join(block.dir, 'chunks');
    const bytes = fs.readFileSync(chunks);
    bytes[bytes.length - 3]! ^= 0x10;
    fs.writeFileSync(chunks, bytes);
    const damaged = run('tsdb', 'verify', srv.dir);
    assert.equal(damaged.code, 1);
    assert.match(damaged.out, new RegExp(`blocks/${block.meta.ulid}/chunks: .*checksum mismatch`));
  } finally {
    await srv.stop();
    empty.cleanup();
  }
});

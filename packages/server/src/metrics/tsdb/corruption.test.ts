// Damaged files (bit flips in block chunks, index, meta.json, WAL segments and checkpoints): the DB
// starts anyway, queries answer what is intact with a warning naming the damage (HTTP 200), damaged
// blocks are quarantined, and `vigil tsdb verify` names every problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { registerQueryApi } from '../../server/api/query.js';
import { QueryGate } from '../../server/api/query_gate.js';
import { registerSeriesApi } from '../../server/api/series.js';
import { Router } from '../../server/api/http.js';
import { verifyTsdb } from '../../server/cmd/tsdb_verify.js';
import { labelsFrom } from '../../core/model/labels.js';
import { Engine } from '../promql/engine/engine.js';
import { nopLogger } from '../../core/util/log.js';
import { DB } from './db.js';
import { LocalPromQueryService } from '../query/local.js';
import { MetadataStore } from '../metadata.js';
import { ExemplarStorage } from '../exemplars/storage.js';

const HOUR = 3600_000;
const NOW = Date.UTC(2025, 0, 1);
const STEP = 15_000;

async function openDB(dir: string): Promise<DB> {
  const db = new DB({ dir, maintenanceIntervalMs: 0, now: () => NOW });
  await db.start();
  return db;
}

/**
 * Four hours of `bad` and `good` (one series each) ending at NOW: the older half cut into a block,
 * the rest in the head, so the WAL holds a checkpoint and a segment with records.
 */
async function buildDir(): Promise<{ dir: string; ulid: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-corrupt-'));
  const db = await openDB(dir);
  const refs = [0, 0];
  const add = (from: number, to: number): void => {
    for (let t = from; t < to; t += STEP) {
      const a = db.appender();
      refs[0] = a.append(refs[0]!, labelsFrom({ __name__: 'bad', job: 'x' }), t, t / 1000);
      refs[1] = a.append(refs[1]!, labelsFrom({ __name__: 'good', job: 'x' }), t, t / 1000);
      a.commit();
    }
  };
  add(NOW - 4 * HOUR, NOW - 30 * 60_000);
  assert.equal(await db.compactHead(false), 1);
  add(NOW - 30 * 60_000, NOW);
  const ulid = db.listBlocks()[0]!.ulid;
  await db.stop();
  return { dir, ulid };
}

function flipBits(file: string, positions: number[]): void {
  const buf = fs.readFileSync(file);
  for (const [i, p] of positions.entries()) buf[p % buf.length] = buf[p % buf.length]! ^ (1 << (i % 8));
  fs.writeFileSync(file, buf);
}

function verify(dir: string): { code: number; out: string } {
  const lines: string[] = [];
  const code = verifyTsdb(dir, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

async function withApi<T>(
  db: DB,
  fn: (get: (p: string) => Promise<{ status: number; body: { data: unknown; warnings?: string[] } }>) => Promise<T>,
): Promise<T> {
  const router = new Router(nopLogger);
  const gate = new QueryGate({ maxConcurrency: 4, queueTimeoutMs: 30_000 });
  const service = new LocalPromQueryService(new Engine({ now: () => NOW }), db, new MetadataStore(), new ExemplarStorage({ maxExemplars: 0 }));
  registerQueryApi(router, service, gate, () => NOW);
  registerSeriesApi(router, service, gate);
  const server = http.createServer(router.listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    return await fn(async (p) => {
      const res = await fetch(`http://127.0.0.1:${port}${p}`);
      return { status: res.status, body: (await res.json()) as { data: unknown; warnings?: string[] } };
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
}

function rangeQuery(metric: string): string {
  return `/api/v1/query_range?query=${metric}&start=${(NOW - 4 * HOUR) / 1000}&end=${NOW / 1000}&step=15`;
}

function points(body: { data: unknown }): number {
  const d = body.data as { result: Array<{ values: unknown[] }> };
  return d.result.reduce((n, r) => n + r.values.length, 0);
}

test('20 flipped bits in a block chunks file: the rest answers with a warning naming the chunk; verify names it', async () => {
  const { dir, ulid } = await buildDir();
  try {
    assert.equal(verify(dir).code, 0, 'clean before the damage');
    // Series are stored in label order, so `bad`'s chunks fill the first half of the file.
    const chunks = path.join(dir, 'blocks', ulid, 'chunks');
    const size = fs.statSync(chunks).size;
    // Past the 8-byte file header (its damage quarantines the block; tested in block_safety.test).
    flipBits(
      chunks,
      Array.from({ length: 20 }, (_, i) => 8 + Math.floor((size / 2 - 16) * (i / 20))),
    );
    const v = verify(dir);
    assert.equal(v.code, 1);
    assert.match(v.out, new RegExp(`blocks/${ulid}/chunks: corrupt chunk: block ${ulid}, series bad\\{job="x"\\}, chunk at offset \\d+: checksum mismatch`));
    assert.doesNotMatch(v.out, /good/);
    const db = await openDB(dir);
    try {
      assert.equal(db.listBlocks().length, 1, 'a block with damaged chunks stays in use');
      await withApi(db, async (get) => {
        const good = await get(rangeQuery('good'));
        assert.equal(good.status, 200);
        assert.equal(good.body.warnings, undefined);
        const all = points(good.body);
        const bad = await get(rangeQuery('bad'));
        assert.equal(bad.status, 200);
        assert.ok(points(bad.body) < all, 'the damaged chunks are left out');
        assert.ok(points(bad.body) > all / 3, 'the undamaged chunks and the head still answer');
        assert.match((bad.body.warnings ?? []).join('\n'), new RegExp(`corrupt chunk: block ${ulid}, series bad\\{job="x"\\}, chunk at offset \\d+`));
        const instant = await get(`/api/v1/query?query=${encodeURIComponent('count_over_time(bad[4h])')}&time=${NOW / 1000}`);
        assert.equal(instant.status, 200);
        assert.ok((instant.body.warnings ?? []).length > 0);
        // Once known, the damage is also reported to label-only requests.
        const series = await get(`/api/v1/series?match[]=bad&start=${(NOW - 4 * HOUR) / 1000}&end=${NOW / 1000}`);
        assert.equal(series.status, 200);
        assert.match((series.body.warnings ?? []).join('\n'), /corrupt chunk/);
      });
      assert.ok(db.stats().corruptChunks > 0);
      // A block with known damage is not merged (that would drop what cannot be read).
      assert.equal(db.listBlocks()[0]!.damaged, true);
    } finally {
      await db.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const [file, what] of [
  ['index', 'index checksum mismatch'],
  ['meta.json', 'meta.json'],
] as const) {
  test(`a flipped bit in a block's ${file}: verify names the block, the start quarantines it and the rest answers`, async () => {
    const { dir, ulid } = await buildDir();
    try {
      const f = path.join(dir, 'blocks', ulid, file);
      // In meta.json: inside the minTime digits, where a flip still parses as JSON.
      const at = file === 'meta.json' ? fs.readFileSync(f, 'utf8').indexOf('"minTime": ') + 13 : 200;
      flipBits(f, [at]);
      const v = verify(dir);
      assert.equal(v.code, 1);
      assert.match(v.out, new RegExp(`blocks/${ulid}: block ${ulid}: .*${what}`));
      const db = await openDB(dir);
      try {
        assert.equal(db.listBlocks().length, 0);
        assert.equal(db.stats().quarantinedBlocks, 1);
        assert.ok(fs.existsSync(path.join(dir, 'blocks', `${ulid}.corrupt`)));
        assert.equal(db.stats().blockBytes, 0, 'quarantined blocks are not counted');
        await withApi(db, async (get) => {
          const bad = await get(rangeQuery('bad'));
          assert.equal(bad.status, 200);
          assert.equal(points(bad.body), (2 * HOUR) / STEP + 1, 'the head still answers');
        });
        await db.compactBlocks(true);
        assert.ok(fs.existsSync(path.join(dir, 'blocks', `${ulid}.corrupt`)), 'never compacted or deleted');
      } finally {
        await db.stop();
      }
      // A second start neither crashes nor re-quarantines.
      const again = await openDB(dir);
      assert.equal(again.stats().quarantinedBlocks, 0);
      await again.stop();
      assert.match(verify(dir).out, new RegExp(`blocks/${ulid}.corrupt: quarantined`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const kind of ['segment', 'checkpoint'] as const) {
  test(`flipped bits in a WAL ${kind}: verify names the file and offset, the start skips the damage and answers the rest`, async () => {
    const { dir } = await buildDir();
    try {
      const walDir = path.join(dir, 'wal');
      const name = fs
        .readdirSync(walDir)
        .filter((n) => (kind === 'segment' ? /^\d{8}$/.test(n) : /^checkpoint\.\d{8}$/.test(n)))
        .filter((n) => fs.statSync(path.join(walDir, n)).size > 0)
        .sort()
        .at(-1)!;
      assert.ok(name, `a non-empty WAL ${kind}`);
      const file = path.join(walDir, name);
      const size = fs.statSync(file).size;
      flipBits(file, [Math.floor(size / 2), Math.floor(size / 2) + 3, Math.floor(size / 2) + 9]);
      const v = verify(dir);
      assert.equal(v.code, 1);
      assert.match(
        v.out,
        new RegExp(`wal/${name.replace('.', '\\.')}: (checksum mismatch in the record|unknown record type \\d+|torn or damaged record) at byte \\d+`),
      );
      const db = await openDB(dir);
      try {
        assert.equal(db.stats().walReplay!.repairs.length, 1);
        await withApi(db, async (get) => {
          const good = await get(rangeQuery('good'));
          assert.equal(good.status, 200);
          const n = points(good.body);
          // Replay skips only the damaged record and goes on with the intact ones after it.
          assert.ok(n >= (2 * HOUR) / STEP && n <= (4 * HOUR) / STEP + 1, `the block and the intact log records answer (${n} points)`);
        });
      } finally {
        await db.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

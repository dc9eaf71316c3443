/**
 * Bit flips in every log store file type: the store still opens, queries answer with the rest,
 * the damage is reported (open's repairs, or corruptChunks() for chunk data), and
 * `vigil logs verify` names the damaged file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { createLogger } from '../../core/util/log.js';
import { verifyLogs } from '../../server/cmd/logs_verify.js';
import { LogStore } from './store.js';

const T0 = 1_700_000_000_000n * 1_000_000n;
const NOW = Number(T0 / 1_000_000n);

/** A store left as a crash leaves it: chunks, a checkpoint marker, and lines still in the WAL. */
function buildStore(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logflip-'));
  const store = new LogStore({ dir, chunkTargetBytes: 2048, now: () => NOW });
  store.start();
  for (let b = 0; b < 30; b++) {
    for (const app of ['a', 'b', 'c'])
      store.push([
        {
          labels: labelsFrom({ app }),
          entries: Array.from({ length: 10 }, (_, i) => ({ t: T0 + BigInt(b * 10 + i) * 1_000_000n, line: JSON.stringify({ app, b, i, msg: 'hello world' }) })),
        },
      ]);
    if (b === 20) store.checkpoint();
  }
  return dir; // not closed: the WAL keeps the last batches
}

function flip(file: string, at = 0.5): void {
  const buf = fs.readFileSync(file);
  assert.ok(buf.length > 0, `${file} is empty`);
  const i = Math.min(buf.length - 1, Math.floor(buf.length * at));
  buf[i] = buf[i]! ^ 0x10;
  fs.writeFileSync(file, buf);
}

/** Lines answered over all streams; damage may lose lines but must never double one. */
function total(store: LogStore): number {
  const seen = new Set<string>();
  let n = 0;
  for (const app of ['a', 'b', 'c'])
    for (const g of store.query({ matchers: [new Matcher('=', 'app', app)], start: 0n, end: 1n << 62n, limit: 1e6 }))
      for (const e of g.entries) {
        assert.ok(!seen.has(e.line), `${e.line} answered twice`);
        seen.add(e.line);
        n++;
      }
  return n;
}

const pristine = buildStore();
const allLines = 30 * 3 * 10;

test('a clean store verifies clean and holds every line', () => {
  const out: string[] = [];
  assert.equal(
    verifyLogs(pristine, (l) => out.push(l)),
    0,
    out.join('\n'),
  );
  assert.match(out.at(-1)!, /no problems/);
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logflip-'));
  fs.cpSync(pristine, copy, { recursive: true });
  const store = new LogStore({ dir: copy });
  assert.deepEqual(store.start(), []);
  assert.equal(total(store), allLines);
  store.stop();
});

const chunkFiles = (dir: string, ext: string): string[] =>
  fs
    .readdirSync(path.join(dir, 'chunks'))
    .filter((f) => f.endsWith(ext) && fs.statSync(path.join(dir, 'chunks', f)).size > 0)
    .map((f) => path.join('chunks', f));
const walSegments = (dir: string): string[] =>
  fs
    .readdirSync(path.join(dir, 'wal'))
    .filter((f) => /^\d{8}$/.test(f) && fs.statSync(path.join(dir, 'wal', f)).size > 0)
    .map((f) => path.join('wal', f));

const cases: { name: string; file: (dir: string) => string }[] = [
  { name: 'streams file', file: () => 'streams' },
  { name: 'WAL segment', file: (d) => walSegments(d)[0]! },
  { name: 'chunk index', file: (d) => chunkFiles(d, '.idx')[0]! },
  { name: 'chunk data', file: (d) => chunkFiles(d, '.dat')[0]! },
  { name: 'checkpoint marker', file: () => path.join('wal', 'checkpoint') },
];

for (const c of cases) {
  test(`a bit flip in the ${c.name} is survived, reported and found by verify`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-logflip-'));
    fs.cpSync(pristine, dir, { recursive: true });
    const rel = c.file(dir);
    flip(path.join(dir, rel), c.name === 'checkpoint marker' ? 0 : 0.5);
    const out: string[] = [];
    assert.equal(
      verifyLogs(dir, (l) => out.push(l)),
      1,
      out.join('\n'),
    );
    assert.ok(
      out.some((l) => l.startsWith(rel + ':')),
      `verify names ${rel}:\n${out.join('\n')}`,
    );
    const logged: string[] = [];
    const store = new LogStore({ dir, log: createLogger({ level: 'warn', write: (l) => logged.push(l) }) });
    const repairs = store.start();
    const n = total(store);
    assert.ok(n > 0 && n <= allLines, `${n} lines answered`);
    if (c.name === 'chunk data') {
      const bad = store.corruptChunks();
      assert.equal(bad.length, 1);
      assert.equal(bad[0]!.file, rel);
      assert.match(bad[0]!.reason, /checksum/);
      assert.ok(bad[0]!.labels.length > 0);
      assert.equal(store.counters.chunksCorrupt, 1);
      assert.ok(
        logged.some((l) => l.includes('damaged') && l.includes(rel)),
        logged.join('\n'),
      );
      assert.ok(n < allLines);
    } else {
      assert.ok(repairs.length > 0, 'open reports the repair');
      assert.ok(
        repairs.some((r) => r.includes(path.basename(rel))),
        repairs.join('\n'),
      );
    }
    store.stop();
  });
}

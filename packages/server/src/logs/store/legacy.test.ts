/** Stores written before checksums and WAL marks (index records 3, row-layout chunks) still open, read and verify. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Matcher } from '../../core/model/matcher.js';
import { ByteWriter } from '../../core/util/bytes.js';
import { verifyLogs } from '../../server/cmd/logs_verify.js';
import { Bloom } from '../../core/util/bloom.js';
import { compressChunk, encodeChunk } from './chunk.js';
import { REC_CHUNK } from './chunkindex.js';
import { frame } from './framing.js';
import { LogStore, REC_STREAM } from './store.js';

const T0 = 1_700_000_000_000n * 1_000_000n;

test('an old-format chunk and index record are read, queried and verified', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-loglegacy-'));
  fs.mkdirSync(path.join(dir, 'chunks'), { recursive: true });
  const sw = new ByteWriter();
  sw.uvarint(0);
  sw.uvarint(1);
  sw.str('app');
  sw.str('old');
  fs.writeFileSync(path.join(dir, 'streams'), frame(REC_STREAM, sw.view()));
  const ts = [T0, T0 + 1n, T0 + 2n];
  const lines = ['one', 'two', 'three'];
  const data = compressChunk(encodeChunk(ts, lines, [undefined, undefined, undefined]), 'deflate', 6);
  fs.writeFileSync(path.join(dir, 'chunks', '00000000.dat'), data);
  const bloom = Bloom.forCount(3);
  const w = new ByteWriter();
  w.uvarint(0);
  w.uvarint(0);
  w.uvarint(data.length);
  w.reserve(16);
  w.buf.writeBigInt64LE(ts[0]!, w.length);
  w.buf.writeBigInt64LE(ts[2]!, w.length + 8);
  w.length += 16;
  w.uvarint(3);
  w.uvarint(13);
  w.uvarint(bloom.k);
  w.uvarint(bloom.bits.length);
  for (const x of bloom.bits) w.u32(x);
  fs.writeFileSync(path.join(dir, 'chunks', '00000000.idx'), frame(REC_CHUNK, w.view()));
  const out: string[] = [];
  assert.equal(
    verifyLogs(dir, (l) => out.push(l)),
    0,
    out.join('\n'),
  );
  const store = new LogStore({ dir });
  assert.deepEqual(store.start(), []);
  const got = store.query({ matchers: [new Matcher('=', 'app', 'old')], start: 0n, end: 1n << 62n, direction: 'forward' });
  assert.deepEqual(
    got[0]!.entries.map((e) => e.line),
    lines,
  );
  assert.deepEqual(store.corruptChunks(), []);
  store.stop();
});

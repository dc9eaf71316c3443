import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startServer, tempDir, VIGIL_BIN } from '../../testkit/helpers.js';

const run = (...args: string[]): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [VIGIL_BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('vigil traces verify: usage, exit 2 without a trace store, 0 when clean, 1 naming a damaged page', async () => {
  const help = run('traces', 'verify', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: vigil traces verify DIR/);
  const empty = tempDir();
  const srv = await startServer();
  try {
    const none = run('traces', 'verify', empty.dir);
    assert.equal(none.code, 2);
    assert.match(none.err, /no trace store .* is it a Vigil data directory\?/);
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
          scopeSpans: [{ spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'GET /', startTimeUnixNano: now, endTimeUnixNano: now }] }],
        },
      ],
    });
    assert.equal((await fetch(`${srv.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).status, 200);
    // Stopping cuts the head into a block.
    await srv.server.stop();
    const clean = run('traces', 'verify', srv.dir);
    assert.equal(clean.code, 0, clean.out + clean.err);
    assert.match(clean.out, /^ok: \d+ WAL segments, 1 blocks, 1 pages, 1 spans$/m);
    const blocks = path.join(srv.dir, 'traces', 'blocks');
    const file = path.join(
      blocks,
      fs.readdirSync(blocks).find((f) => f.endsWith('.vtb'))!,
    );
    const bytes = fs.readFileSync(file);
    bytes[10] = bytes[10]! ^ 0x40;
    fs.writeFileSync(file, bytes);
    const damaged = run('traces', 'verify', srv.dir);
    assert.equal(damaged.code, 1);
    assert.match(damaged.out, /blocks\/00000000\.vtb: page 0 \(byte 4\): .*checksum mismatch/);
  } finally {
    await srv.stop();
    empty.cleanup();
  }
});

// Alertmanager state files at rest: checksummed, damage detected and moved aside, old files read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readJson, writeJson } from './persist.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-persist-'));
}

test('state round-trips; a flipped bit anywhere is detected, reported and moved aside', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'silences.json');
    const state = [{ id: 'a1', endsAt: '2026-12-02T18:00:00.000Z', matchers: [{ name: 'service', value: 'payments' }] }];
    writeJson(file, state);
    assert.deepEqual(
      readJson(file, (e) => assert.fail(e)),
      state,
    );
    const bytes = fs.readFileSync(file);
    let detected = 0;
    // Every byte, one bit each: none may be read back as different state.
    for (let i = 0; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i]! ^= 0x04;
      fs.writeFileSync(file, copy);
      const errors: Error[] = [];
      const got = readJson(file, (e) => errors.push(e));
      if (got === undefined) {
        detected++;
        assert.match(errors[0]!.message, /moved to silences\.json\.corrupt/);
        assert.ok(fs.existsSync(`${file}.corrupt`) && !fs.existsSync(file));
        fs.rmSync(`${file}.corrupt`);
      } else assert.deepEqual(got, state, `byte ${i}: a flip that still reads must not change the state`);
    }
    assert.ok(detected > bytes.length * 0.9, `${detected} of ${bytes.length} flips detected`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('files written before checksums still read; a failed write keeps the previous file', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'nflog.json');
    fs.writeFileSync(file, JSON.stringify({ k: 1 }));
    assert.deepEqual(
      readJson(file, (e) => assert.fail(e)),
      { k: 1 },
    );
    writeJson(file, { k: 2 });
    // The directory turned read-only for this test stands in for a disk that refuses the write.
    fs.mkdirSync(path.join(dir, 'sub'));
    const blocked = path.join(dir, 'sub', 'state.json');
    writeJson(blocked, { v: 1 });
    fs.mkdirSync(`${blocked}.tmp`); // the temp path is taken by a directory: opening it fails
    assert.throws(() => writeJson(blocked, { v: 2 }));
    assert.deepEqual(
      readJson(blocked, (e) => assert.fail(e)),
      { v: 1 },
    );
    assert.deepEqual(
      readJson(file, (e) => assert.fail(e)),
      { k: 2 },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

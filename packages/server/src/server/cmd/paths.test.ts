// Where a started Vigil keeps its data: storage.path from a file resolves against the file's
// directory (so `vigil start --config examples/x/vigil.yml` run from anywhere opens the same data),
// while --data on the command line is relative to the working directory. And a non-loopback listen
// address, with no authentication in Vigil, is warned about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createLogger } from '../../core/util/log.js';
import { defaultConfig } from '../config/config.js';
import { exited, freePort, tempDir, VIGIL_BIN, waitFor } from '../../testkit/helpers.js';
import { isLoopback, VigilServer } from './server.js';

/** Starts `vigil start ARGS` in `cwd`, waits until it is ready, stops it; resolves to the data directory it logged. */
async function dataDirOf(cwd: string, port: number, args: string[], listenFlag = '--listen'): Promise<string> {
  const proc = spawn(process.execPath, [VIGIL_BIN, 'start', listenFlag, `127.0.0.1:${port}`, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  try {
    return await waitFor(
      'vigil to log where its data is',
      async () => {
        if (proc.exitCode !== null) throw new Error(`vigil exited with ${proc.exitCode}: ${err}`);
        const line = err.split('\n').find((l) => l.includes('Vigil is listening'));
        return line ? (JSON.parse(line) as { data: string }).data : undefined;
      },
      20_000,
      100,
    );
  } finally {
    proc.kill('SIGTERM');
    await exited(proc);
  }
}

test('storage.path resolves against the config file directory; --data against the working directory', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const confDir = path.join(tmp.dir, 'conf');
  const elsewhere = path.join(tmp.dir, 'elsewhere');
  fs.mkdirSync(confDir);
  fs.mkdirSync(elsewhere);
  const file = path.join(confDir, 'vigil.yml');
  fs.writeFileSync(file, 'storage:\n  path: data\nself_scrape: false\n');
  assert.equal(await dataDirOf(elsewhere, await freePort(), ['--config', file]), path.join(confDir, 'data'));
  assert.equal(await dataDirOf(elsewhere, await freePort(), ['--config', file, '--data', 'mine']), path.join(elsewhere, 'mine'));
});

test("Prometheus' flag names work for vigil start", async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const file = path.join(tmp.dir, 'vigil.yml');
  fs.writeFileSync(file, 'self_scrape: false\n');
  const port = await freePort();
  assert.equal(await dataDirOf(tmp.dir, port, [`--config.file=${file}`, '--storage.tsdb.path', 'tsdb'], '--web.listen-address'), path.join(tmp.dir, 'tsdb'));
});

test('a non-loopback listen address without authentication logs a warning; loopback, or a web config with users, does not', async (t) => {
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('::') && !isLoopback('192.168.1.5'));
  for (const [host, warned, auth] of [
    ['0.0.0.0', true, false],
    ['127.0.0.1', false, false],
    ['0.0.0.0', false, true],
  ] as const) {
    const tmp = tempDir();
    t.after(() => tmp.cleanup());
    const lines: string[] = [];
    const config = defaultConfig();
    config.storage.path = tmp.dir;
    config.listen = `${host}:0`;
    config.selfScrape = false;
    if (auth) {
      // Any bcrypt hash will do: the warning depends on users being configured, not on a login.
      config.web.configFile = path.join(tmp.dir, 'web.yml');
      fs.writeFileSync(config.web.configFile, 'basic_auth_users:\n  alice: $2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG\n');
    }
    const server = new VigilServer(config, { logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }) });
    await server.start();
    await server.stop();
    const warning = lines.find((l) => l.includes('non-loopback address without authentication'));
    assert.equal(warning !== undefined, warned, `${host}: ${lines.join('\n')}`);
  }
});

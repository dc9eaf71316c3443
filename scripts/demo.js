#!/usr/bin/env node
// `npm start`: Vigil on its embedded storage with the demo shop's configuration, plus the shop and
// its traffic generator. Ctrl-C stops both. Extra arguments go to the shop (e.g. `-- --fault-after 60`).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const listen = process.env.VIGIL_LISTEN ?? '127.0.0.1:9466';
const children = [];

function run(name, args, env = {}) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const prefix = (stream, out) => {
    let rest = '';
    stream.on('data', (d) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) out.write(`[${name}] ${line}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the demo`);
      stop(code ?? 1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code) {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 2000).unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

run('vigil', ['packages/server/bin/vigil.js', 'start', '--config', 'examples/shop/vigil.yml', '--data', 'data', '--listen', listen]);
// The shop ships its logs to Vigil, so alerts can link to the log lines of the failing requests.
run('shop', ['examples/shop/dist/demo.js', '--vigil', `http://${listen}`, ...process.argv.slice(2)], { SHOP_LOKI_URL: `http://${listen}` });

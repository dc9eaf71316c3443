/**
 * The SDK as its users get it: `npm pack`, installed into a fresh project, imported by name and
 * used. This catches what the in-tree tests cannot: a `files` list that leaves out a module, an
 * `exports` map that points nowhere, or tests and benches shipped to users.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const sdkDir = dirname(dirname(fileURLToPath(import.meta.url)));
const repoRoot = dirname(dirname(sdkDir));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    // npm reads its cache location and registry from the environment; nothing else is changed.
    execFile(cmd, args, { cwd, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: err && err.killed ? `${stderr}\nkilled after ${timeoutMs} ms` : stderr });
    });
  });
}

interface LockEntry {
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly link?: boolean;
  [k: string]: unknown;
}

/**
 * A lockfile for the fresh project holding the SDK's runtime dependencies at the versions the
 * repository is locked to. `npm ci` cached those tarballs but not the registry's package
 * documents, so without a lockfile `npm install --offline` cannot choose versions (ENOTCACHED);
 * with one it takes the tarballs straight from the cache, as an offline user install would.
 */
async function runtimeLock(): Promise<Record<string, unknown>> {
  const lock = JSON.parse(await readFile(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const all = lock.packages;
  // Node's resolution over the lockfile's tree: the nearest node_modules up from `from`.
  const find = (from: string, name: string): string | undefined => {
    let base = from;
    for (;;) {
      const key = (base === '' ? '' : base + '/') + 'node_modules/' + name;
      if (all[key] && !all[key].link) return key;
      if (base === '') return undefined;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const out: Record<string, LockEntry> = {};
  const todo: Array<[string, Record<string, string>]> = [['packages/sdk', all['packages/sdk']?.dependencies ?? {}]];
  while (todo.length > 0) {
    const [from, deps] = todo.pop() as [string, Record<string, string>];
    for (const name of Object.keys(deps)) {
      const key = find(from, name);
      assert.ok(key, `package-lock.json has no ${name} for ${from}`);
      const dest = 'node_modules/' + key.split('node_modules/').slice(1).join('node_modules/');
      if (out[dest]) continue;
      // A consumer's install has no dev dependencies; the flags would only confuse npm's tree.
      const entry: LockEntry = { ...(all[key] as LockEntry) };
      for (const flag of ['dev', 'devOptional', 'peer']) delete entry[flag];
      out[dest] = entry;
      todo.push([key, { ...entry.dependencies, ...entry.optionalDependencies }]);
    }
  }
  return { name: 'sdk-consumer', lockfileVersion: 3, requires: true, packages: { '': { name: 'sdk-consumer' }, ...out } };
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await listFiles(join(dir, e.name), prefix + e.name + '/')));
    else out.push(prefix + e.name);
  }
  return out;
}

// What a user writes: the package by name, a plain node:http server, one request, the metrics;
// with tracing on, so the OpenTelemetry dependencies must resolve and export from the install.
const CONSUMER = `
import { createServer } from 'node:http';
import { createVigil } from '@vigil/sdk';

const exports = [];
const collector = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    exports.push(req.method + ' ' + req.url + ' ' + req.headers['content-type']);
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
await new Promise((resolve) => collector.listen(0, '127.0.0.1', resolve));
const endpoint = 'http://127.0.0.1:' + collector.address().port + '/v1/traces';
const vigil = createVigil({ service: 'packed-consumer', defaultMetrics: false, http: { accessLog: false }, traces: { endpoint } });
const server = createServer(vigil.httpMiddleware((req, res) => res.end('hello'), { routes: ['/hello/:name'] }));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const res = await fetch('http://127.0.0.1:' + port + '/hello/world');
if ((await res.text()) !== 'hello') throw new Error('unexpected body');
const metrics = await vigil.metrics();
process.stdout.write(metrics.body);
server.close();
server.closeAllConnections();
await vigil.shutdown();
collector.close();
process.stdout.write('# exports: ' + exports.join('; ') + '\\n');
`;

test('npm pack of the SDK installs into a fresh project and instruments a node:http server', { timeout: 180_000 }, async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'vigil-sdk-pack-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));

  const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp], sdkDir, 60_000);
  assert.equal(pack.code, 0, `npm pack failed:\n${pack.stderr}`);
  const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(packed, 'npm pack printed no package');
  const listed = packed.files.map((f) => f.path);
  assert.ok(
    listed.includes('dist/index.js') && listed.includes('dist/index.d.ts') && listed.includes('README.md') && listed.includes('LICENSE'),
    listed.join('\n'),
  );

  const project = join(tmp, 'consumer');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }, null, 2));
  await writeFile(join(project, 'package-lock.json'), JSON.stringify(await runtimeLock(), null, 2));
  const tarball = join(tmp, packed.filename);
  const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project, 120_000);
  if (install.code !== 0 && /ENOTCACHED/.test(install.stderr)) {
    t.skip('npm install --offline: the SDK dependencies are not in the npm cache (ENOTCACHED); run npm ci first');
    return;
  }
  assert.equal(install.code, 0, `npm install failed:\n${install.stderr}`);

  // The installed copy is exactly what the tarball shipped.
  const shipped = await listFiles(join(project, 'node_modules', '@vigil', 'sdk'));
  const unwanted = shipped.filter((f) => /\.test\.|(^|\/)bench\/|(^|\/)testkit\/|\.tsbuildinfo$|(^|\/)src\//.test(f));
  assert.deepEqual(unwanted, [], 'tests, benches or sources were packed');

  await writeFile(join(project, 'consumer.mjs'), CONSUMER);
  const consumer = await run(process.execPath, ['consumer.mjs'], project, 30_000);
  assert.equal(consumer.code, 0, `the consumer failed:\n${consumer.stderr}`);
  const text = consumer.stdout;
  const labels = 'service="packed-consumer",method="GET",route="/hello/:name",status_code="200"';
  assert.match(text, new RegExp(`^http_server_request_duration_seconds_count\\{${escape(labels)}\\} 1$`, 'm'), text);
  assert.match(text, new RegExp(`^http_server_request_duration_seconds_bucket\\{le="\\+Inf",${escape(labels)}\\} 1$`, 'm'), text);
  assert.match(text, /^http_server_active_requests\{service="packed-consumer"\} 0$/m, text);
  assert.match(text, /^http_server_response_body_size_bytes_sum\{[^}]*service="packed-consumer"[^}]*\} 5$/m, text);
  assert.match(text, /^# exports: POST \/v1\/traces application\/x-protobuf$/m, 'the span was exported on shutdown');
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

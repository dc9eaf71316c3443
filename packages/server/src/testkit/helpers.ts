/** Helpers shared by the integration tests: temporary directories, servers, peers and polling. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { snappyEncode } from '../core/util/snappy.js';
import { defaultConfig, type VigilConfig } from '../server/config/config.js';
import { VigilServer } from '../server/cmd/server.js';
import { WriteRequestEncoder } from '../metrics/remotewrite/proto.js';
import type { Labels } from '../core/model/labels.js';
import { nopLogger } from '../core/util/log.js';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'vigil-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts an in-process server on a free port with an empty data directory. */
export async function startServer(
  patch: (c: VigilConfig) => void = () => {},
): Promise<{ server: VigilServer; url: string; dir: string; stop: () => Promise<void> }> {
  const { dir, cleanup } = tempDir();
  const config = defaultConfig();
  config.storage.path = dir;
  config.listen = '127.0.0.1:0';
  patch(config);
  const server = new VigilServer(config, { logger: nopLogger });
  await server.start();
  return {
    server,
    dir,
    url: `http://${server.address()}`,
    stop: async () => {
      await server.stop();
      cleanup();
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/** Encodes series into a snappy-compressed WriteRequest body. */
export function writeBody(series: Array<{ labels: Labels; samples: Array<[number, number]> }>): Buffer {
  const enc = new WriteRequestEncoder();
  for (const s of series) {
    // A Float64Array keeps NaN payloads (the staleness marker); a plain array may not.
    const vs = new Float64Array(s.samples.length);
    s.samples.forEach((x, i) => (vs[i] = x[1]));
    enc.addSeries(
      s.labels,
      s.samples.map((x) => x[0]),
      vs,
    );
  }
  return snappyEncode(enc.finish());
}

/** POSTs a remote_write body. */
export async function postWrite(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/api/v1/write`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0', ...headers },
    body,
  });
  return { status: res.status, text: await res.text() };
}

/** GETs a JSON API path and returns the parsed envelope. */
export async function getJson(
  url: string,
): Promise<{ status: number; body: { status: string; data?: unknown; error?: string; errorType?: string; warnings?: string[] } }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as { status: string; data?: unknown } };
}

/** The path of a peer binary from Debian's packages; throws with the package to install. */
export function peerBinary(name: string, debianPackage: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed: apt-get install ${debianPackage} (npm test installs it)`);
  }
}

/** The `vigil` command line script. */
export const VIGIL_BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

/** A `vigil start` child process, with its stderr collected. */
export interface VigilProcess {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Runs `vigil start` (or `command`) on `dir` and `port` (plus `args`, and `nodeArgs` for node itself) and waits until it is ready. */
export async function spawnVigil(
  dir: string,
  port: number,
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  nodeArgs: string[] = [],
  command: 'start' | 'agent' = 'start',
): Promise<VigilProcess> {
  const proc = spawn(process.execPath, [...nodeArgs, VIGIL_BIN, command, '--data', dir, '--listen', `127.0.0.1:${port}`, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'vigil to become ready',
    async () => {
      if (proc.exitCode !== null) throw new Error(`vigil exited with ${proc.exitCode}: ${err}`);
      return (await fetch(`${url}/-/ready`)).status === 200 ? true : undefined;
    },
    20_000,
    100,
  );
  return { proc, url, stderr: () => err };
}

/** Resolves with how a child process ended (at once if it already has). */
export function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

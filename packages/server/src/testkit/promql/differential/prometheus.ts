/**
 * A real Prometheus (Debian's 2.42) for the differential test: started on a free port with an empty
 * configuration and the remote_write receiver on, so the only data it holds is what the test sends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, peerBinary, tempDir, waitFor } from '../../helpers.js';

/** A running Prometheus and how to stop it. */
export interface PrometheusPeer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The first line of `prometheus --version`. */
  readonly version: string;
  /** Kills it (SIGTERM, then SIGKILL) and removes its data. Idempotent. */
  stop(): Promise<void>;
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

/** Starts Prometheus and waits until `/-/ready` answers 200 (at most `timeoutMs`). */
export async function startPrometheus(timeoutMs = 30_000): Promise<PrometheusPeer> {
  const bin = peerBinary('prometheus', 'prometheus');
  const { dir, cleanup } = tempDir('vigil-diff-prom-');
  const config = path.join(dir, 'prometheus.yml');
  // An empty file is a valid configuration: no scrapes, default global settings (5m lookback).
  fs.writeFileSync(config, '');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited(child)) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    }
    cleanup();
  };
  try {
    await waitFor(
      'Prometheus /-/ready',
      async () => {
        if (exited(child)) throw new Error(`prometheus exited (${child.exitCode ?? child.signalCode}):\n${log}`);
        const r = await fetch(`${url}/-/ready`);
        return r.status === 200 ? true : undefined;
      },
      timeoutMs,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const b = (await (await fetch(`${url}/api/v1/status/buildinfo`)).json()) as { data?: { version?: string } };
  return { url, version: b.data?.version ?? 'unknown', stop };
}

/**
 * Debian's single-node VictoriaMetrics, started on loopback for a test or measurement: the same
 * write and query protocol as a cluster's vminsert and vmselect. Flags that make its answers
 * comparable to Prometheus' (and so to Vigil's local engine) are set here, each for a documented
 * VictoriaMetrics difference:
 * - `-search.latencyOffset=0s`: by default the newest 30 s are hidden from queries;
 * - `-search.maxStalenessInterval=5m`: Prometheus' lookback delta (VictoriaMetrics derives its own
 *   from the scrape interval otherwise);
 * - `-search.disableCache`: the rollup cache would keep answers from before a write in the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { freePort, peerBinary, tempDir, waitFor } from './helpers.js';
import { parseConfig, type VigilConfig } from '../server/config/config.js';
import { request } from './certs.js';

/** Points `c` at `url` as a user would, through vigil.yml's `storage:` section; `extra` adds lines under `remote:` (4-space indented). */
export function remoteStorage(c: VigilConfig, url: string, extra = ''): void {
  const parsed = parseConfig(`storage:\n  type: remote\n  remote:\n    url: ${url}\n${extra}`, path.join(c.baseDir, 'vigil.yml'));
  c.storage.type = parsed.storage.type;
  c.storage.remote = parsed.storage.remote!;
}

/** A running VictoriaMetrics. */
export interface VictoriaMetrics {
  readonly url: string;
  readonly child: ChildProcess;
  /** Makes everything written so far searchable (its in-memory buffers are flushed). */
  flush(): Promise<void>;
  /** Its stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts VictoriaMetrics with an empty data directory on a free port; `extra` flags are appended; with `tls`, it serves HTTPS only. */
export async function startVictoriaMetrics(extra: string[] = [], tls?: { certFile: string; keyFile: string; caFile: string }): Promise<VictoriaMetrics> {
  const bin = peerBinary('victoria-metrics', 'victoria-metrics');
  const { dir, cleanup } = tempDir('vigil-vm-');
  const port = await freePort();
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [
      `-storageDataPath=${dir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      '-search.latencyOffset=0s',
      '-search.maxStalenessInterval=5m',
      '-search.disableCache',
      ...(tls ? ['-tls', `-tlsCertFile=${tls.certFile}`, `-tlsKeyFile=${tls.keyFile}`] : []),
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    cleanup();
  };
  try {
    await waitFor(
      'VictoriaMetrics to start',
      async () => {
        if (child.exitCode !== null) throw new Error(`victoria-metrics exited with ${child.exitCode}: ${log}`);
        const status = tls ? (await request(`${url}/health`, { ca: tls.caFile })).status : (await fetch(`${url}/health`)).status;
        return status === 200 ? true : undefined;
      },
      20_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    child,
    log: () => log,
    stop,
    flush: async () => {
      const r = tls ? await request(`${url}/internal/force_flush`, { ca: tls.caFile }) : await fetch(`${url}/internal/force_flush`);
      if (r.status !== 200) throw new Error(`force_flush: HTTP ${r.status}`);
    },
  };
}

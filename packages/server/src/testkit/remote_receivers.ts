/**
 * Real remote_write receivers for the sender's tests, started on loopback: Debian's
 * victoria-metrics (single node: the same write and export API as vminsert/vmselect) and Debian's
 * Prometheus with its remote-write receiver on; plus a fault proxy that answers 429 for a while.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { exited, freePort, peerBinary, waitFor } from './helpers.js';

/** A receiver process that can be stopped and started again on the same port and data. */
export interface Receiver {
  readonly url: string;
  readonly writeUrl: string;
  readonly port: number;
  proc: ChildProcess | undefined;
  start(): Promise<void>;
  /** SIGTERM and wait (a graceful stop: the receiver keeps what it acknowledged). */
  stop(): Promise<void>;
  log(): string;
}

function launcher(bin: string, args: string[], url: string, readyPath: string): Omit<Receiver, 'writeUrl' | 'port'> {
  let log = '';
  const r: Omit<Receiver, 'writeUrl' | 'port'> = {
    url,
    proc: undefined,
    async start() {
      const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (d: Buffer): void => void (log = (log + d.toString()).slice(-8000));
      p.stdout!.on('data', keep);
      p.stderr!.on('data', keep);
      r.proc = p;
      await waitFor(
        `${path.basename(bin)} to become ready`,
        async () => {
          if (p.exitCode !== null) throw new Error(`${bin} exited ${p.exitCode}: ${log}`);
          return (await fetch(`${url}${readyPath}`)).status === 200 ? true : undefined;
        },
        30_000,
        100,
      );
    },
    async stop() {
      const p = r.proc;
      r.proc = undefined;
      if (!p || p.exitCode !== null) return;
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
      await exited(p);
      clearTimeout(t);
    },
    log: () => log,
  };
  return r;
}

/**
 * VictoriaMetrics on a free port with its data under `dir`. `-dedup.minScrapeInterval=1ms` makes it
 * keep one sample per series and millisecond, as a deployment that receives resends is set up.
 */
export async function victoriaMetrics(dir: string): Promise<Receiver> {
  const bin = peerBinary('victoria-metrics', 'victoria-metrics');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    `-storageDataPath=${path.join(dir, 'vm')}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    '-retentionPeriod=100y',
    '-dedup.minScrapeInterval=1ms',
    '-search.disableCache',
    '-search.latencyOffset=0s',
  ];
  return { ...launcher(bin, args, url, '/health'), port, writeUrl: `${url}/api/v1/write` };
}

/**
 * Debian's Prometheus 2.x with `--web.enable-remote-write-receiver` (and native histograms if asked),
 * scraping nothing; `config` is added to its prometheus.yml (a `remote_write:` section, say).
 */
export async function prometheusReceiver(dir: string, opts: { nativeHistograms?: boolean; config?: string } = {}): Promise<Receiver> {
  const bin = peerBinary('prometheus', 'prometheus');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const cfg = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(cfg, `global:\n  scrape_interval: 1m\n${opts.config ?? ''}`);
  const args = [
    `--config.file=${cfg}`,
    `--storage.tsdb.path=${path.join(dir, 'prom')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    ...(opts.nativeHistograms ? ['--enable-feature=native-histograms'] : []),
  ];
  return { ...launcher(bin, args, url, '/-/ready'), port, writeUrl: `${url}/api/v1/write` };
}

/** One series as VictoriaMetrics' `/api/v1/export` gives it. */
export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/** Every raw sample VictoriaMetrics holds for `match`, after making recent rows searchable. */
export async function vmExport(vm: Receiver, match: string): Promise<ExportedSeries[]> {
  await fetch(`${vm.url}/internal/force_flush`);
  const res = await fetch(`${vm.url}/api/v1/export?match[]=${encodeURIComponent(match)}&start=0`);
  if (res.status !== 200) throw new Error(`export: HTTP ${res.status}: ${await res.text()}`);
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ExportedSeries);
}

/**
 * A proxy in front of a receiver that answers every request with 429 while `storm` is on (without
 * Retry-After, so the sender's own backoff is what is measured), and forwards otherwise, after
 * `delayMs` (a slow receiver, for resharding).
 */
export async function stormProxy(target: string): Promise<{
  url: string;
  storm: boolean;
  delayMs: number;
  requests: number;
  refused: number;
  inFlight: number;
  maxInFlight: number;
  lastHeaders: http.IncomingHttpHeaders;
  close(): Promise<void>;
}> {
  const t = new URL(target);
  const state = {
    url: '',
    storm: false,
    delayMs: 0,
    requests: 0,
    refused: 0,
    inFlight: 0,
    maxInFlight: 0,
    lastHeaders: {} as http.IncomingHttpHeaders,
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
  const srv = http.createServer((req, res) => {
    state.requests++;
    state.lastHeaders = req.headers;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.storm) {
        state.refused++;
        res.writeHead(429, { 'content-type': 'text/plain' }).end('too many requests\n');
        return;
      }
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      res.on('close', () => state.inFlight--);
      setTimeout(() => {
        const fwd = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        fwd.on('error', (err) => res.writeHead(502).end(err.message));
        fwd.end(Buffer.concat(chunks));
      }, state.delayMs);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
  srv.keepAliveTimeout = 60_000;
  state.url = `http://127.0.0.1:${port}`;
  return state;
}

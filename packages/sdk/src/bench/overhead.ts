/**
 * The SDK's overhead benchmark (`npm run bench -w @vigil/sdk`): requests/s of a small node:http
 * server bare, with Vigil's middleware and logger (one access-log line per request; and without it), with
 * tracing on as well (every request sampled, spans exported as OTLP protobuf to a sink in the bench
 * process), and with express-prom-bundle + pino-http as the reference, each in its own process under `wrk` on
 * loopback. Logs of both instrumented variants go to /dev/null through pino's sync destination.
 *
 * The variants take turns for several rounds and each reports its median, so drift on a shared
 * machine hits all three alike. Env: BENCH_DURATION (seconds per run, default 5), BENCH_ROUNDS
 * (default 3), BENCH_CONNECTIONS (default 32).
 */
import { spawn, execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { destination } from 'pino';
import { createVigil } from '../vigil.js';

/** The variants measured. */
export const VARIANTS = ['bare', 'vigil', 'vigil-nolog', 'vigil-traced', 'reference'] as const;
/** One variant. */
export type Variant = (typeof VARIANTS)[number];

const BODY = JSON.stringify({ id: 42, name: 'Ceramic mug', priceCents: 1800 });

function app(req: IncomingMessage, res: ServerResponse): void {
  if (req.url?.startsWith('/products/')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(BODY);
  } else {
    res.writeHead(404).end();
  }
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

async function listener(variant: Variant): Promise<RequestListener> {
  const devnull = destination({ dest: '/dev/null', sync: true });
  switch (variant) {
    case 'bare':
      return app;
    case 'vigil':
    case 'vigil-nolog': {
      const vigil = createVigil({ service: 'bench', logDestination: devnull, http: { accessLog: variant === 'vigil' } });
      return vigil.httpMiddleware(app, { routes: ['/products/:id'] });
    }
    case 'vigil-traced': {
      const vigil = createVigil({ service: 'bench', logDestination: devnull, traces: { endpoint: process.env['BENCH_TRACES_URL'] ?? '', sampleRatio: 1 } });
      return vigil.httpMiddleware(app, { routes: ['/products/:id'] });
    }
    case 'reference': {
      const promBundle = (await import('express-prom-bundle')).default as unknown as (o: Record<string, unknown>) => Middleware;
      const pinoHttp = (await import('pino-http')).default as unknown as (o: Record<string, unknown>, dest: unknown) => Middleware;
      const metrics = promBundle({ includeMethod: true, includePath: true, includeStatusCode: true, normalizePath: [['^/products/[^/]+', '/products/:id']] });
      const logger = pinoHttp({}, devnull);
      return (req, res) => logger(req, res, () => metrics(req, res, () => app(req, res)));
    }
  }
}

/** Serves one variant on a free loopback port and prints the port. */
async function serve(variant: Variant): Promise<void> {
  const server = createServer(await listener(variant));
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
}

function wrk(url: string, seconds: number, connections: number): number {
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, url], { encoding: 'utf8' });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`could not read wrk's output:\n${out}`);
  return Number(m[1]);
}

async function measure(variant: Variant, seconds: number, connections: number, tracesUrl: string): Promise<number> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', variant], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_TRACES_URL: tracesUrl },
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
    });
    const url = `http://127.0.0.1:${port}/products/42`;
    wrk(url, 2, connections); // warm-up: JIT, connection setup
    return wrk(url, seconds, connections);
  } finally {
    child.kill();
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--serve');
  if (i !== -1) return serve(process.argv[i + 1] as Variant);
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    // wrk --version exits 1 but prints; only a missing binary is fatal.
    if ((err as { code?: string }).code === 'ENOENT') throw new Error('wrk is not installed: apt-get install -y wrk');
  }
  const seconds = Number(process.env['BENCH_DURATION'] ?? 5);
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
  const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
  const runs: Record<Variant, number[]> = { bare: [], vigil: [], 'vigil-nolog': [], 'vigil-traced': [], reference: [] };
  // The traced variant's spans go here: read and answered 200, as a collector would.
  let spansBytes = 0;
  const sink = createServer((req, res) => {
    req.on('data', (d: Buffer) => (spansBytes += d.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const tracesUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;
  for (let r = 0; r < rounds; r++) {
    for (const v of VARIANTS) runs[v].push(await measure(v, seconds, connections, tracesUrl));
    process.stdout.write(`round ${r + 1}: ${VARIANTS.map((v) => `${v} ${Math.round(runs[v][r] ?? 0)}`).join(', ')} req/s\n`);
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? 0;
  };
  const rps: Partial<Record<Variant, number>> = {};
  process.stdout.write(`\nmedian of ${rounds} runs of ${seconds} s, ${connections} connections, loopback:\n`);
  for (const v of VARIANTS) {
    rps[v] = median(runs[v]);
    process.stdout.write(
      `${v.padEnd(12)} ${Math.round(rps[v] ?? 0)
        .toString()
        .padStart(8)} req/s\n`,
    );
  }
  const bare = rps.bare ?? 1;
  const vig = rps.vigil ?? 0;
  const ref = rps.reference ?? 0;
  process.stdout.write(
    `\nvigil / bare      ${(vig / bare).toFixed(3)}  (overhead ${((1 - vig / bare) * 100).toFixed(1)}%)\n` +
      `vigil without access log / bare  ${((rps['vigil-nolog'] ?? 0) / bare).toFixed(3)}\n` +
      `vigil traced / bare  ${((rps['vigil-traced'] ?? 0) / bare).toFixed(3)}; traced / vigil ${((rps['vigil-traced'] ?? 0) / vig).toFixed(3)} (${(spansBytes / 1e6).toFixed(1)} MB of spans exported)\n` +
      `reference / bare  ${(ref / bare).toFixed(3)}  (overhead ${((1 - ref / bare) * 100).toFixed(1)}%)\n` +
      `vigil / reference ${(vig / ref).toFixed(3)}\n`,
  );
  sink.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

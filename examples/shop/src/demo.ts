/**
 * The demo: the shop and its traffic generator in one process, with directions to Vigil.
 * Root `npm start` runs Vigil with `examples/shop/vigil.yml` next to this.
 *
 * `node examples/shop/dist/demo.js [--port 8765] [--fault] [--fault-after SECONDS] [--vigil URL]`
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHOP_PORT, POOL_NAME, startShop } from './main.js';
import { startTraffic } from './traffic.js';

/** Parsed demo flags. */
export interface DemoArgs {
  port: number;
  fault: boolean;
  faultAfterS: number | undefined;
  vigilUrl: string;
}

/** Parses the demo's flags. */
export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const out: DemoArgs = { port: SHOP_PORT, fault: false, faultAfterS: undefined, vigilUrl: process.env['VIGIL_URL'] ?? 'http://127.0.0.1:9466' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? '').split('=', 2) as [string, string | undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    if (flag === '--fault') out.fault = true;
    else if (flag === '--port') out.port = Number(value());
    else if (flag === '--fault-after') out.faultAfterS = Number(value());
    else if (flag === '--vigil') out.vigilUrl = value();
    else throw new Error(`unknown argument ${flag} (usage: demo.js [--port N] [--fault] [--fault-after SECONDS] [--vigil URL])`);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseDemoArgs(process.argv.slice(2));
  const logFile = path.join(os.tmpdir(), 'vigil-shop.log');
  const lokiUrl = process.env['SHOP_LOKI_URL'];
  const shop = await startShop({
    port: args.port,
    fault: args.fault,
    vigil: {
      logDestination: createWriteStream(logFile, { flags: 'a' }),
      ...(lokiUrl ? { loki: { url: lokiUrl } } : {}),
      // Spans of the shop and the payment gateway go to Vigil's OTLP endpoint. A Vigil without
      // traces support answers 404: the demo goes on, and says so in its log once a minute.
      traces: { endpoint: `${args.vigilUrl}/v1/traces` },
    },
  });
  const traffic = startTraffic({ url: shop.url });
  const q = (expr: string): string => `${args.vigilUrl}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const out = [
    '',
    `  Vigil demo: the shop is serving ${shop.url} with generated traffic (~50 requests/s).`,
    '',
    `  Shop metrics      ${shop.url}/metrics     (Vigil scrapes them every 5 s, job "shop")`,
    `  Shop logs         ${logFile}${lokiUrl ? `  and shipped to ${lokiUrl}` : ''}`,
    `  Traces            shop and payment-gateway (${shop.gateway.url}) export OTLP to ${args.vigilUrl}/v1/traces`,
    `  Vigil             ${args.vigilUrl}/ui/   (open this: golden signals, explore, alerts, logs)`,
    `  Targets           ${args.vigilUrl}/api/v1/targets`,
    '',
    '  Try in Vigil (PromQL):',
    `    request rate     sum by (route) (rate(http_server_request_duration_seconds_count[1m]))`,
    `    pool in use      database_connections_active{pool="${POOL_NAME}"}   (max 20)`,
    `    error rate       sum(rate(errors_total[1m]))`,
    `    e.g. ${q(`database_connections_active{pool="${POOL_NAME}"}`)}`,
    '',
    '  The 3 a.m. incident: turn the fault on, watch the pool reach 20/20 while /health stays 200:',
    `    curl -X POST ${shop.url}/admin/fault -d '{"enabled":true}'      (off: {"enabled":false})`,
    `    curl -i ${shop.url}/health`,
    '  Alert rules: examples/shop/rules/shop.rules.yml; routing: examples/shop/alertmanager.yml.',
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');
  if (args.faultAfterS !== undefined) {
    setTimeout(() => {
      shop.setFault(true);
      process.stdout.write(`  [demo] fault injected after ${args.faultAfterS} s: the payment gateway is slow now.\n`);
    }, args.faultAfterS * 1000).unref();
  }
  const status = setInterval(() => {
    const s = traffic.stats();
    const pool = shop.pool;
    process.stdout.write(
      `  [demo] fault=${shop.fault() ? 'ON ' : 'off'} pool ${pool.totalCount - pool.idleCount}/${pool.options.max} waiting ${pool.waitingCount}  requests ${s.requests} ${JSON.stringify(s.byStatus)}\n`,
    );
  }, 15_000);
  status.unref();
  const stop = async (): Promise<void> => {
    clearInterval(status);
    await traffic.stop(2000);
    await shop.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

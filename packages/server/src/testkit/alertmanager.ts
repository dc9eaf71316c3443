/** Test helpers: a webhook catcher that records what it is sent and can be told to fail. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One received request. */
export interface Caught {
  path: string;
  body: Record<string, unknown>;
}

/** A local HTTP server standing in for a webhook, Slack, PagerDuty, Discord or Teams. */
export interface Catcher {
  url: string;
  requests: Caught[];
  /** Statuses to answer the next requests with (then 200). */
  failNext: number[];
  close(): Promise<void>;
}

/** Starts a catcher on a free loopback port. */
export async function startCatcher(): Promise<Catcher> {
  const requests: Caught[] = [];
  const failNext: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = failNext.shift() ?? 200;
      if (status === 200) requests.push({ path: req.url ?? '/', body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'fail');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    failNext,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The alert names and statuses of a webhook body, sorted, for compact assertions. */
export function summary(body: Record<string, unknown>): string {
  const alerts = body['alerts'] as Array<{ status: string; labels: Record<string, string> }>;
  return `${String(body['status'])}: ${alerts
    .map((a) => `${a.labels['alertname']}${a.labels['instance'] ? `/${a.labels['instance']}` : ''}=${a.status}`)
    .sort()
    .join(' ')}`;
}

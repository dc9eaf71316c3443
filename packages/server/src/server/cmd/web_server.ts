/**
 * The HTTP side that both compositions of Vigil have alike, `vigil start` (server.ts) and
 * `vigil agent` (agent.ts): the Host/Origin policy from `web:`, the lifecycle endpoints, the
 * listening server with its connection bound, and listening and closing it.
 */
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../api/errors.js';
import { json, text, type Router } from '../api/http.js';
import { corsOriginRegex, WebPolicy } from '../api/web_policy.js';
import type { WebFront } from '../api/web_front.js';
import { createWebServer } from '../api/tls_server.js';
import { limitConnections } from '../api/connection_limit.js';
import { parseListen, type VigilConfig } from '../config/config.js';
import type { Logger } from '../../core/util/log.js';

/** Who may talk to this process from a browser, as `listen` and `web:` say. */
export function webPolicyFor(config: VigilConfig): WebPolicy {
  return new WebPolicy({
    listen: config.listen,
    allowedHosts: config.web.allowedHosts,
    ...(config.web.externalUrl ? { externalUrl: config.web.externalUrl } : {}),
    ...(config.web.corsOrigin ? { corsOrigin: corsOriginRegex(config.web.corsOrigin) } : {}),
  });
}

/** `/-/reload` (a failed reload is a 500 naming why) and `/-/quit` (answers first, then quits). */
export function registerLifecycleRoutes(router: Router, reload: () => Promise<void>, quit: () => void): void {
  router.on(['POST', 'PUT'], '/-/reload', async () => {
    try {
      await reload();
    } catch (err) {
      throw new ApiError('internal', `failed to reload config: ${(err as Error).message}`);
    }
    return json(null);
  });
  router.on(['POST', 'PUT'], '/-/quit', () => {
    setImmediate(quit);
    return text(200, 'Requesting termination... Goodbye!\n');
  });
}

/**
 * The server for `router`: HTTPS when the web configuration file gives TLS, its open connections
 * bounded by `web.max_connections` (the count is returned), and a request that cannot be parsed
 * answered 400 rather than dropped.
 */
export function createFrontServer(
  front: WebFront,
  router: Router,
  config: VigilConfig,
  log: Logger,
): { server: http.Server | https.Server; openConnections: () => number } {
  const server = createWebServer(front.web?.tls ? () => front.web?.tls : undefined, router.listener, (why) =>
    log.debug('TLS connection refused', { reason: why }),
  );
  front.attach(server);
  const openConnections = limitConnections(server, { maxConnections: config.web.maxConnections });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  return { server, openConnections };
}

/** Listens on `listen` (`host:port`); rejects when the address cannot be bound. */
export function listenOn(server: http.Server | https.Server, listen: string): Promise<void> {
  const { host, port } = parseListen(listen);
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The bound `host:port` (`[::1]:9090` for IPv6). */
export function boundAddress(server: http.Server | https.Server): string {
  const a = server.address() as AddressInfo;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Stops taking connections, closes idle ones, and gives requests in flight `graceMs` before cutting them. */
export async function closeGracefully(server: http.Server | https.Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}

/**
 * Bounds on the HTTP server's connections, so idle or slow sockets cannot starve real clients:
 * at most `maxConnections` open (Prometheus' `--web.max-connections` default, 512), keep-alive
 * connections closed after an idle time, a deadline for a request's headers, and one for a
 * connection that sends nothing. When the limit is reached, the oldest connection that never sent
 * a request is closed to make room, else the idle keep-alive ones; only when every connection is
 * busy is the newcomer turned away.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server as TlsServer } from 'node:tls';
import type { Socket } from 'node:net';

/** Connection bounds of the HTTP server (`web:` in the configuration file). */
export interface ConnectionLimits {
  /** Open connections at once (default 512). */
  readonly maxConnections?: number;
  /** How long a keep-alive connection may sit idle between requests, ms (default 65 s, longer than common proxies' 60 s). */
  readonly keepAliveTimeoutMs?: number;
  /** How long a client may take to send a request's headers, ms (default 10 s). */
  readonly headersTimeoutMs?: number;
  /** How long a connection may stay open without sending a byte, ms (default 30 s). */
  readonly silentTimeoutMs?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 512;

/** Applies `limits` to `server`; returns how many connections are open (for self-monitoring and tests). */
export function limitConnections(server: Server | HttpsServer, limits: ConnectionLimits = {}): () => number {
  const max = limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const silentMs = limits.silentTimeoutMs ?? 30_000;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs ?? 65_000;
  server.headersTimeout = limits.headersTimeoutMs ?? 10_000;
  const open = new Set<Socket>();
  // Sockets that began a request; node's parser reads sockets natively, so 'data' events do not tell.
  const spoke = new WeakSet<Socket>();
  const heard = (socket: Socket): void => void spoke.add(socket);
  server.on('request', (req: IncomingMessage) => heard(req.socket));
  server.on('upgrade', (req: IncomingMessage) => heard(req.socket));
  const forgetDestroyed = (): void => {
    for (const s of open) if (s.destroyed) open.delete(s);
  };
  // Over TLS the socket a request arrives on is the TLS one, known once the handshake is done (a
  // handshake is bounded by its own timeout); count those, so "spoke" and "open" name the same sockets.
  server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
    if (open.size >= max) {
      // Sockets that never sent a request, then idle keep-alive ones, cost a slot but serve nobody.
      // The oldest silent one goes first: a real client that just connected is about to speak.
      const oldestSilent = [...open].find((s) => !spoke.has(s));
      if (oldestSilent) oldestSilent.destroy();
      else server.closeIdleConnections();
      forgetDestroyed();
    }
    if (open.size >= max) {
      socket.destroy();
      return;
    }
    open.add(socket);
    // A connection that never sends a request is not covered by the header timeout in every node version.
    const silent = setTimeout(() => {
      if (!spoke.has(socket)) socket.destroy();
    }, silentMs);
    silent.unref();
    socket.once('close', () => {
      clearTimeout(silent);
      open.delete(socket);
    });
  });
  return () => open.size;
}

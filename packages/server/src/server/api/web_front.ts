/**
 * The web configuration file in force: loaded at start, reread on reload, and applied to the router
 * (credentials, roles, the lifecycle/admin switches, response headers) and to the HTTPS server (the
 * certificate for new connections). Also what needs credentials outside the router: the tail's
 * WebSocket handshake and Vigil's scrape of itself.
 */
import * as http from 'node:http';
import type * as https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { authConfigured, authRequired, loadWebConfig, type WebAuthConfig } from '../config/web_config.js';
import { Authenticator } from './auth.js';
import { AccessControl } from './access.js';
import type { Router } from './http.js';
import { tlsServerOptions } from './tls_server.js';

/** Which of the endpoints that are off by default are on (`--web.enable-admin-api`, `--web.enable-lifecycle`). */
export interface WebSwitches {
  readonly enableAdminApi: boolean;
  readonly enableLifecycle: boolean;
}

/** See the file comment. */
export class WebFront {
  /** A bearer token only this process knows, with the read role, for scraping itself when auth is on. */
  private readonly selfScrapeToken = randomBytes(24).toString('base64url');
  private current: WebAuthConfig | undefined;
  private server: http.Server | https.Server | undefined;

  /** Loads `file` (a ConfigError names file, line and key) and applies it to `router`. */
  constructor(
    private readonly router: Router,
    private readonly file: string | undefined,
    private readonly switches: WebSwitches,
  ) {
    this.current = file ? loadWebConfig(file) : undefined;
    this.apply(this.current);
  }

  /** The configuration in force (undefined without a file). */
  get web(): WebAuthConfig | undefined {
    return this.current;
  }

  /** Whether clients are authenticated at all (credentials or verified client certificates). */
  get authConfigured(): boolean {
    return authConfigured(this.current);
  }

  /** The server whose certificate a reload replaces. */
  attach(server: http.Server | https.Server): void {
    this.server = server;
  }

  /** Rereads the file; throws, changing nothing, when it is bad or would turn TLS on or off (that needs a restart). */
  reread(): WebAuthConfig | undefined {
    const web = this.file ? loadWebConfig(this.file) : undefined;
    if (Boolean(web?.tls) !== Boolean(this.current?.tls)) throw new Error(`${this.file}: turning TLS on or off needs a restart`);
    return web;
  }

  /** Puts a configuration in force. Sessions survive for users who are still configured. */
  apply(web: WebAuthConfig | undefined): void {
    const prev = this.router.access.options.auth;
    let auth: Authenticator | undefined;
    if (web && authRequired(web)) {
      auth = prev ?? new Authenticator(web, Date.now, [{ name: 'vigil-self-scrape', token: this.selfScrapeToken, roles: ['read'] }]);
      auth.update(web);
    }
    this.router.access = new AccessControl({
      ...(auth ? { auth } : {}),
      enableAdminApi: this.switches.enableAdminApi,
      enableLifecycle: this.switches.enableLifecycle,
    });
    this.router.headers = web?.headers ?? {};
    // Existing connections keep the context they shook hands with, as in any TLS server.
    if (web?.tls && web !== this.current && this.server && 'setSecureContext' in this.server) this.server.setSecureContext(tlsServerOptions(web.tls));
    this.current = web;
  }

  /**
   * Vigil's scrape job for itself, with the process's own token when auth is on. Over TLS the
   * certificate names the public host, not 127.0.0.1, so it is not checked for this loopback scrape.
   */
  selfScrapeJob(target: string): Record<string, unknown> {
    const job: Record<string, unknown> = { job_name: 'vigil', scrape_interval: '15s', static_configs: [{ targets: [target] }] };
    if (authRequired(this.current)) job['authorization'] = { type: 'Bearer', credentials: this.selfScrapeToken };
    if (this.current?.tls) Object.assign(job, { scheme: 'https', tls_config: { insecure_skip_verify: true } });
    return job;
  }

  /**
   * The HTTP route's check applied to a gRPC call's `authorization` metadata (OTLP over gRPC has no
   * HTTP request, but the same credentials and roles): undefined to go on.
   */
  async grpcAccess(authorization: string | undefined, route: string): Promise<'unauthenticated' | 'forbidden' | undefined> {
    const req = { headers: authorization === undefined ? {} : { authorization } } as http.IncomingMessage;
    const denied = await this.router.access.check(req, 'POST', route, route);
    if (!denied) return undefined;
    return denied.kind === 'raw' && denied.status === 401 ? 'unauthenticated' : 'forbidden';
  }

  /** Checks a tail WebSocket handshake like any read (session cookie or `Authorization`); answers the refusal itself, else calls `allowed`. */
  upgrade(req: http.IncomingMessage, socket: Duplex, allowed: () => void): void {
    this.router.access.check(req, 'GET', '/loki/api/v1/tail', req.url ?? '/').then(
      (denied) => {
        if (!denied) return allowed();
        if (denied.kind !== 'raw') return void socket.destroy();
        const headers = Object.entries(denied.headers ?? {})
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        socket.end(
          `HTTP/1.1 ${denied.status} ${http.STATUS_CODES[denied.status]}\r\n${headers}Content-Type: text/plain\r\nConnection: close\r\n\r\n${String(denied.body)}`,
        );
      },
      () => socket.destroy(),
    );
  }
}

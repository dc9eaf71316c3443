/**
 * An HTTP/1.1 client that applies an {@link HttpClientConfig}: the Authorization header (secret
 * files re-read on every request so rotation needs no reload), TLS (CA, client certificate, server
 * name, versions; files read on first use, so a missing file is a request error rather than a crash
 * at reload), redirects, and an `http://` proxy (plain requests in absolute form, https targets
 * tunnelled with CONNECT). One client keeps connections alive across requests; `close()` drops them.
 */
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import type { Duplex } from 'node:stream';
import type { HttpClientConfig } from './config.js';
import { VigilError } from '../errors.js';

/** Options of one request. */
export interface RequestOptions {
  /** Headers besides authentication, which the client adds itself. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Aborting fails the request with `context deadline exceeded`. */
  readonly signal?: AbortSignal;
  /** 0 or absent: no timeout besides `signal`. */
  readonly timeoutMs?: number;
  /** Largest (uncompressed) body in bytes; 0 or absent: no limit. */
  readonly bodySizeLimit?: number;
  /**
   * Keep only the first this many bytes of the body and answer with them, however long it is (a
   * sender needs the status and the start of an error message; a long error body must not turn a
   * refusal into a failed request). Takes the place of `bodySizeLimit`.
   */
  readonly truncateBodyAt?: number;
}

/** A response with the whole body (gzip bodies decompressed). */
export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Client construction options. */
export interface ClientOptions {
  /** Idle pooled connections are closed after this long; absent: when the server closes them. */
  readonly idleTimeoutMs?: number;
  /** The environment for `proxy_from_environment` (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A failed request: `detail` without the method and URL, for callers that word (or redact) those themselves. */
export class HttpRequestError extends VigilError {
  override readonly code = 'http_request_failed' as const;
  constructor(
    readonly method: string,
    readonly url: string,
    readonly detail: string,
  ) {
    // Go's url.Error wording: `Get "http://host/path": dial tcp …`.
    super('http_request_failed', `${method.charAt(0)}${method.slice(1).toLowerCase()} ${JSON.stringify(url)}: ${detail}`);
  }
}

/** The body was larger than the limit. */
export class BodySizeLimitError extends VigilError {
  override readonly code = 'body_size_limit' as const;
  constructor(limit: number) {
    super('body_size_limit', `body size limit exceeded (limit: ${limit} bytes)`);
  }
}

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Where a request goes: straight to the target, or through a proxy. */
type Route = { proxy?: undefined } | { proxy: URL };

export class HttpClient {
  private readonly httpAgent: http.Agent;
  private httpsAgent: Promise<https.Agent> | undefined;
  private tunnelAgent: Promise<https.Agent> | undefined;
  private readonly proxyFor: (target: URL) => URL | undefined;

  constructor(
    private readonly cfg: HttpClientConfig,
    private readonly opts: ClientOptions = {},
  ) {
    this.httpAgent = new http.Agent({ keepAlive: true, ...this.idle() });
    this.proxyFor = proxySelector(cfg, opts.env ?? process.env);
  }

  private idle(): { timeout?: number } {
    return this.opts.idleTimeoutMs !== undefined ? { timeout: this.opts.idleTimeoutMs } : {};
  }

  /** Releases pooled connections; the client stays usable. */
  close(): void {
    this.httpAgent.destroy();
    for (const p of [this.httpsAgent, this.tunnelAgent])
      void p?.then(
        (a) => a.destroy(),
        () => {},
      );
    this.httpsAgent = this.tunnelAgent = undefined;
  }

  /** Sends a request, following redirects when the configuration says so. */
  async request(method: string, url: string, o: RequestOptions = {}): Promise<HttpResponse> {
    const signal = o.timeoutMs ? AbortSignal.any([...(o.signal ? [o.signal] : []), AbortSignal.timeout(o.timeoutMs)]) : o.signal;
    const headers: Record<string, string> = { ...o.headers };
    const auth = await this.authHeader();
    if (auth !== undefined) headers['authorization'] = auth;
    let cur = { method, url, body: o.body };
    for (let hops = 0; ; hops++) {
      const u = new URL(cur.url);
      const limit: BodyLimit = o.truncateBodyAt ? { bytes: o.truncateBodyAt, truncate: true } : { bytes: o.bodySizeLimit ?? 0, truncate: false };
      const res = await this.once(cur.method, u, headers, cur.body, signal, limit);
      const loc = res.headers.location;
      if (loc === undefined || !this.cfg.followRedirects || !REDIRECTS.has(res.status)) return res;
      if (hops >= MAX_REDIRECTS) throw new HttpRequestError(method, url, `stopped after ${MAX_REDIRECTS} redirects`);
      // As Go's client: 307 and 308 repeat the request; the others turn it into a GET without a body.
      const keep = res.status === 307 || res.status === 308;
      cur = { method: keep ? cur.method : cur.method === 'HEAD' ? 'HEAD' : 'GET', url: new URL(loc, u).href, body: keep ? cur.body : undefined };
      if (!keep) {
        delete headers['content-type'];
        delete headers['content-length'];
      }
    }
  }

  /** The Authorization header; secret files are re-read on every request. */
  private async authHeader(): Promise<string | undefined> {
    const { basicAuth: b, authorization: a } = this.cfg;
    if (b) {
      const pw = b.passwordFile !== undefined ? await readSecret(b.passwordFile, 'basic auth password') : (b.password ?? '');
      return `Basic ${Buffer.from(`${b.username}:${pw}`).toString('base64')}`;
    }
    if (a) {
      const cred = a.credentialsFile !== undefined ? await readSecret(a.credentialsFile, 'authorization credentials') : (a.credentials ?? '');
      return `${a.type} ${cred}`;
    }
    return undefined;
  }

  /** TLS options from the configuration; files are read on first use (a failed read is retried next time). */
  private async tlsOptions(): Promise<https.AgentOptions> {
    const t = this.cfg.tlsConfig;
    const [ca, cert, key] = await Promise.all([readTls(t.caFile, 'CA'), readTls(t.certFile, 'cert'), readTls(t.keyFile, 'key')]);
    return {
      keepAlive: true,
      ...this.idle(),
      rejectUnauthorized: !t.insecureSkipVerify,
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(t.serverName !== undefined ? { servername: t.serverName } : {}),
      ...(t.minVersion !== undefined ? { minVersion: t.minVersion } : {}),
      ...(t.maxVersion !== undefined ? { maxVersion: t.maxVersion } : {}),
    };
  }

  private lazyAgent(which: 'httpsAgent' | 'tunnelAgent', make: (o: https.AgentOptions) => https.Agent): Promise<https.Agent> {
    let p = this[which];
    if (!p) {
      p = this.tlsOptions().then(make);
      this[which] = p;
      p.catch(() => {
        if (this[which] === p) this[which] = undefined;
      });
    }
    return p;
  }

  private async agentFor(u: URL, route: Route): Promise<http.Agent> {
    if (u.protocol !== 'https:') return this.httpAgent;
    if (!route.proxy) return this.lazyAgent('httpsAgent', (o) => new https.Agent(o));
    return this.lazyAgent('tunnelAgent', (o) => new TunnelAgent(o, route.proxy!, this.cfg.proxyConnectHeader ?? {}));
  }

  private async once(
    method: string,
    u: URL,
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    signal: AbortSignal | undefined,
    limit: BodyLimit,
  ): Promise<HttpResponse> {
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new HttpRequestError(method, u.href, `unsupported protocol scheme ${JSON.stringify(u.protocol.slice(0, -1))}`);
    const proxy = this.proxyFor(u);
    const route: Route = proxy ? { proxy } : {};
    const agent = await this.agentFor(u, route);
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['content-length'] = String(Buffer.byteLength(body));
    let req: http.ClientRequest;
    if (route.proxy && u.protocol === 'http:') {
      // Plain HTTP through a proxy: the request line carries the absolute URL.
      const p = route.proxy;
      const pa = proxyAuthorization(p);
      if (pa !== undefined) h['proxy-authorization'] = pa;
      h['host'] = u.host;
      req = http.request({ host: p.hostname.replace(/^\[|\]$/g, ''), port: p.port || 80, method, path: u.href, headers: h, agent });
    } else {
      req = (u.protocol === 'https:' ? https : http).request(u, { method, headers: h, agent });
    }
    return exchange(req, method, u, body, signal, limit);
  }
}

/** How much of an answer's body is read: `bytes` (0: all), past which it fails or, with `truncate`, is cut. */
interface BodyLimit {
  readonly bytes: number;
  readonly truncate: boolean;
}

/** Sends `req` and reads the answer. */
function exchange(
  req: http.ClientRequest,
  method: string,
  u: URL,
  body: string | Buffer | undefined,
  signal: AbortSignal | undefined,
  limit: BodyLimit,
): Promise<HttpResponse> {
  const fail = (detail: string): HttpRequestError => new HttpRequestError(method, u.href, detail);
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | undefined, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const onAbort = (): void => {
      req.destroy();
      done(fail('context deadline exceeded'));
    };
    // Listened to first: destroying a request that already aborted emits `error` (socket hang up),
    // which without a listener would be an uncaught exception.
    req.on('error', (err) => done(fail(err.message)));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      const gzip = /\bgzip\b/i.test(res.headers['content-encoding'] ?? '');
      const src: NodeJS.ReadableStream = gzip ? res.pipe(zlib.createGunzip()) : res;
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = (): HttpResponse => ({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        headers: res.headers,
        body: Buffer.concat(chunks, size),
      });
      src.on('data', (c: Buffer) => {
        if (limit.bytes > 0 && size + c.length > limit.bytes) {
          res.destroy();
          if (!limit.truncate) return done(new BodySizeLimitError(limit.bytes));
          chunks.push(c.subarray(0, limit.bytes - size));
          size = limit.bytes;
          return done(undefined, answer());
        }
        size += c.length;
        chunks.push(c);
      });
      src.on('error', (err: Error) => done(fail(`${gzip ? 'gzip: ' : ''}${err.message}`)));
      src.on('end', () => done(undefined, answer()));
    });
    req.end(body);
  });
}

async function readSecret(file: string, what: string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new Error(`unable to read ${what} file ${file}: ${(err as Error).message}`);
  }
}

async function readTls(file: string | undefined, what: string): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new Error(`unable to read ${what} file ${file}: ${(err as Error).message}`);
  }
}

function proxyAuthorization(p: URL): string | undefined {
  if (p.username === '' && p.password === '') return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`).toString('base64')}`;
}

/**
 * An https agent whose connections are tunnels through an HTTP proxy: CONNECT host:port, then TLS
 * over the tunnel. The pool is keyed by target as usual, so tunnels are reused.
 */
class TunnelAgent extends https.Agent {
  constructor(
    opts: https.AgentOptions,
    private readonly proxy: URL,
    private readonly connectHeaders: Readonly<Record<string, readonly string[]>>,
  ) {
    super(opts);
  }

  override createConnection(options: tls.ConnectionOptions & { host?: string; port?: number }, cb: (err: Error | null, socket?: Duplex) => void): undefined {
    const target = `${net.isIPv6(options.host ?? '') ? `[${options.host}]` : options.host}:${options.port}`;
    const headers: Record<string, string | string[]> = { host: target };
    for (const [k, v] of Object.entries(this.connectHeaders)) headers[k] = [...v];
    const pa = proxyAuthorization(this.proxy);
    if (pa !== undefined) headers['proxy-authorization'] = pa;
    const req = http.request({
      host: this.proxy.hostname.replace(/^\[|\]$/g, ''),
      port: this.proxy.port || 80,
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        cb(new Error(`proxyconnect tcp: proxy answered CONNECT with ${res.statusCode ?? 0} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      const servername = options.servername ?? (net.isIP(options.host ?? '') ? undefined : options.host);
      const s = tls.connect({ ...options, socket, ...(servername ? { servername } : {}) });
      cb(null, s);
    });
    req.once('error', (err) => cb(new Error(`proxyconnect tcp: ${err.message}`)));
    req.end();
    return undefined;
  }
}

/** Picks the proxy of a request, or none, from `proxy_url`/`no_proxy` or the environment. */
function proxySelector(cfg: HttpClientConfig, env: Readonly<Record<string, string | undefined>>): (target: URL) => URL | undefined {
  if (cfg.proxyFromEnvironment) {
    const get = (k: string): string => env[k.toUpperCase()] ?? env[k.toLowerCase()] ?? '';
    const asUrl = (s: string): URL | undefined => (s === '' ? undefined : new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `http://${s}`));
    const httpProxy = asUrl(get('http_proxy'));
    const httpsProxy = asUrl(get('https_proxy'));
    const bypass = noProxyMatcher(get('no_proxy'), true);
    return (t) => (bypass(t) ? undefined : t.protocol === 'https:' ? httpsProxy : httpProxy);
  }
  if (cfg.proxyUrl === undefined) return () => undefined;
  const proxy = new URL(cfg.proxyUrl);
  // As Go: with no no_proxy every request is proxied; with one, loopback targets never are.
  if (cfg.noProxy === undefined) return () => proxy;
  const bypass = noProxyMatcher(cfg.noProxy, true);
  return (t) => (bypass(t) ? undefined : proxy);
}

/** Go's `httpproxy` NO_PROXY rules: `*`, IPs, CIDRs, `host`, `.domain` (subdomains only), each with an optional port. */
export function noProxyMatcher(spec: string, skipLoopback: boolean): (target: URL) => boolean {
  const cidrs = new net.BlockList();
  const ips: Array<{ ip: string; port: string }> = [];
  const domains: Array<{ name: string; sub: boolean; port: string }> = [];
  let all = false;
  for (let entry of spec.split(',').map((s) => s.trim().toLowerCase())) {
    if (entry === '') continue;
    if (entry === '*') {
      all = true;
      continue;
    }
    const cidr = /^(.+)\/(\d+)$/.exec(entry);
    if (cidr && net.isIP(cidr[1]!)) {
      cidrs.addSubnet(cidr[1]!, Number(cidr[2]), net.isIPv6(cidr[1]!) ? 'ipv6' : 'ipv4');
      continue;
    }
    let port = '';
    const hp = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (hp) [entry, port] = [hp[1]!, hp[2]!];
    entry = entry.replace(/^\[|\]$/g, '');
    if (net.isIP(entry)) ips.push({ ip: entry, port });
    else if (entry.startsWith('*.')) domains.push({ name: entry.slice(1), sub: true, port });
    else domains.push({ name: entry.startsWith('.') ? entry : `.${entry}`, sub: entry.startsWith('.'), port });
  }
  return (t) => {
    const host = t.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = t.port || (t.protocol === 'https:' ? '443' : '80');
    const ipv = net.isIP(host);
    if (skipLoopback && (host === 'localhost' || (ipv !== 0 && isLoopback(host)))) return true;
    if (all) return true;
    if (ipv !== 0) {
      if (cidrs.check(host, ipv === 6 ? 'ipv6' : 'ipv4')) return true;
      return ips.some((e) => e.ip === host && (e.port === '' || e.port === port));
    }
    return domains.some((d) => (d.port === '' || d.port === port) && (host.endsWith(d.name) || (!d.sub && `.${host}` === d.name)));
  };
}

function isLoopback(ip: string): boolean {
  return net.isIPv6(ip) ? ip === '::1' : ip.startsWith('127.');
}

/**
 * A small HTTP layer over node:http: a router with path parameters, bounded body reading, request
 * parameters merged from the query string and a form body (as Prometheus accepts both), and the
 * JSON envelope. Handlers return data or throw {@link ApiError}; nothing a client sends may crash
 * the process, so every handler runs inside one catch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';
import type { Logger } from '../../core/util/log.js';
import { checkBodyType, isStateChanging, mediaType } from './body_types.js';
import { SECURITY_HEADERS, WebPolicy, type Refusal } from './web_policy.js';
import { AccessControl } from './access.js';

/** What a handler sees of a request. */
export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  /** Query string and, for form POSTs, body parameters. */
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly raw: IncomingMessage;
  /** Reads the whole body (at most `limit` bytes, else an ApiError 'too_large'). */
  body(limit?: number): Promise<Buffer>;
  /** Fires when the client goes away before the response is sent. */
  readonly signal: AbortSignal;
}

/** A handler's reply: JSON data in the success envelope, or a raw response. */
export type ApiResult =
  | { kind: 'json'; data: unknown; warnings?: string[]; infos?: string[]; status?: number }
  | { kind: 'raw'; status: number; body: string | Buffer; contentType?: string; headers?: Record<string, string> }
  /**
   * A body written piece by piece as `chunks` yields them (a large query result): the event loop
   * runs between pieces, and the socket's backpressure is respected.
   */
  | { kind: 'stream'; status: number; contentType: string; chunks: AsyncIterable<string> }
  | { kind: 'handled' };

/** A route handler. */
export type Handler = (req: ApiRequest) => ApiResult | Promise<ApiResult>;

/** Wraps data in the success envelope. */
export function json(data: unknown, warnings?: string[], infos?: string[]): ApiResult {
  const out: ApiResult = { kind: 'json', data };
  if (warnings && warnings.length) out.warnings = warnings;
  if (infos && infos.length) out.infos = infos;
  return out;
}

/** A plain-text response. */
export function text(status: number, body: string): ApiResult {
  return { kind: 'raw', status, body, contentType: 'text/plain; charset=utf-8' };
}

interface Route {
  methods: readonly string[];
  parts: string[];
  handler: Handler;
}

/** The cap on a body when a handler names none; larger ones get a 413. */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** Routes requests to handlers by method and path (`:name` segments capture, `*name` the rest). */
export class Router {
  private readonly routes: Route[] = [];

  /** Told the route pattern and duration (seconds) of every request, and its response (whose status is set once it closes), for self-monitoring. */
  onRequestDone: ((route: string, seconds: number, res: ServerResponse) => void) | undefined;

  /** Authentication, roles and the lifecycle/admin switches; the default asks for no credentials and keeps both switches off. */
  access = new AccessControl({ enableAdminApi: false, enableLifecycle: false });

  /** Response headers from the web configuration (`http_server_config.headers`), over the defaults. */
  headers: Readonly<Record<string, string>> = {};

  /** `policy` decides on Host and Origin; the default accepts local names and same-origin pages only. */
  constructor(
    private readonly log: Logger,
    readonly policy: WebPolicy = new WebPolicy(),
  ) {}

  /** Registers `handler` for the methods and path pattern. */
  on(methods: string | readonly string[], pattern: string, handler: Handler): this {
    this.routes.push({ methods: typeof methods === 'string' ? [methods] : methods, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** Every registered method and route pattern (HEAD and OPTIONS are served as GET). */
  routeList(): Array<{ method: string; route: string }> {
    return this.routes.flatMap((r) => r.methods.map((method) => ({ method, route: '/' + r.parts.join('/') })));
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } | 'method' | undefined {
    const segs = path.split('/').filter(Boolean);
    let wrongMethod = false;
    for (const route of this.routes) {
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < route.parts.length; i++) {
        // decodeURIComponent throws URIError on bad percent-encoding; handle() answers 400 for it.
        const p = route.parts[i]!;
        if (p.startsWith('*')) {
          params[p.slice(1)] = segs.slice(i).map(decodeURIComponent).join('/');
          i = segs.length;
          break;
        }
        const s = segs[i];
        if (s === undefined) {
          ok = false;
          break;
        }
        if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(s);
        else if (p !== s) {
          ok = false;
          break;
        }
      }
      if (ok && !route.parts.some((p) => p.startsWith('*')) && segs.length !== route.parts.length) ok = false;
      if (!ok) continue;
      if (!route.methods.includes(method)) {
        wrongMethod = true;
        continue;
      }
      return { route, params };
    }
    return wrongMethod ? 'method' : undefined;
  }

  /** The node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    this.handle(req, res).catch((err: unknown) => {
      this.log.error('unhandled error in HTTP handler', { err, path: req.url });
      if (!res.headersSent) sendError(res, new ApiError('internal', 'internal error'));
      else res.destroy();
    });
  };

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Set before anything is written, so every answer (errors included) carries them.
    for (const [k, v] of Object.entries({ ...SECURITY_HEADERS, ...this.headers, ...this.policy.corsHeaders(req.headers) })) res.setHeader(k, v);
    const hostRefusal = this.policy.checkHost(req.headers);
    if (hostRefusal) return refuse(res, hostRefusal);
    let url: URL;
    let found: ReturnType<Router['match']>;
    const method = req.method ?? 'GET';
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
      found = this.match(method === 'HEAD' || method === 'OPTIONS' ? 'GET' : method, url.pathname);
    } catch (err) {
      if (err instanceof URIError || err instanceof TypeError)
        return sendError(res, new ApiError('bad_data', `malformed request path: ${(err as Error).message}`));
      throw err;
    }
    // A CORS preflight carries no credentials by design: it is answered before authentication.
    if (method === 'OPTIONS' && found !== undefined) return send(res, { kind: 'raw', status: 204, body: '' });
    if (found === undefined || found === 'method') {
      const denied = await this.access.checkUnmatched(req);
      if (denied) {
        req.resume();
        return send(res, denied);
      }
    }
    if (found === undefined) return sendError(res, new ApiError('not_found', `no such endpoint: ${url.pathname}`));
    if (found === 'method') return sendError(res, new ApiError('bad_data', `method ${method} not allowed for ${url.pathname}`), 405);
    const route = '/' + found.route.parts.join('/');
    const denied = await this.access.check(req, method, route, url.pathname + url.search);
    if (denied) {
      req.resume(); // the body of a refused request is never read; drain it so keep-alive works
      return send(res, denied);
    }
    if (isStateChanging(method, route)) {
      const refusal = this.policy.checkOrigin(req.headers) ?? checkBodyType(route, req.headers);
      if (refusal) {
        req.resume(); // drain the refused body so a keep-alive connection stays usable
        return refuse(res, refusal);
      }
    }
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    let bodyPromise: Promise<Buffer> | undefined;
    const readBody = (limit = DEFAULT_BODY_LIMIT): Promise<Buffer> => (bodyPromise ??= readBodyLimited(req, limit));
    const query = new URLSearchParams(url.search);
    if (method === 'POST' && mediaType(req.headers) === 'application/x-www-form-urlencoded') {
      try {
        const form = new URLSearchParams((await readBody(DEFAULT_BODY_LIMIT)).toString('utf8'));
        for (const [k, v] of form) query.append(k, v);
      } catch (err) {
        if (err instanceof ApiError) return sendError(res, err);
        throw err;
      }
    }
    const apiReq: ApiRequest = {
      method,
      path: url.pathname,
      params: found.params,
      query,
      headers: req.headers,
      raw: req,
      body: readBody,
      signal: controller.signal,
    };
    const began = performance.now();
    let result: ApiResult;
    try {
      result = await found.route.handler(apiReq);
    } catch (err) {
      if (err instanceof ApiError) return sendError(res, err);
      // A parameter a handler decodes itself (a label name in the path, say): the client's mistake.
      if (err instanceof URIError) return sendError(res, new ApiError('bad_data', `malformed parameter: ${err.message}`));
      throw err;
    } finally {
      this.onRequestDone?.(route, (performance.now() - began) / 1000, res);
    }
    await send(res, result);
  }
}

function readBodyLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) {
      reject(new ApiError('too_large', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new ApiError('too_large', `request body exceeds the limit of ${limit} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function refuse(res: ServerResponse, refusal: Refusal): void {
  sendError(res, new ApiError('bad_data', refusal.message), refusal.status);
}

/** Writes a streamed body; stops early (without an error) when the client has gone. */
async function sendStream(res: ServerResponse, result: Extract<ApiResult, { kind: 'stream' }>): Promise<void> {
  res.writeHead(result.status, { 'content-type': result.contentType });
  for await (const chunk of result.chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await new Promise<void>((resolve) => (res.destroyed ? resolve() : res.once('drain', resolve).once('close', resolve)));
  }
  res.end();
}

/** Sends a result. */
export async function send(res: ServerResponse, result: ApiResult): Promise<void> {
  if (result.kind === 'handled') return;
  if (result.kind === 'stream') return sendStream(res, result);
  if (result.kind === 'raw') {
    res.writeHead(result.status, { 'content-type': result.contentType ?? 'application/octet-stream', ...result.headers });
    res.end(result.body);
    return;
  }
  // Prometheus' envelope: `warnings` and (since 2.46) `infos` only when there are some.
  const body = JSON.stringify({
    status: 'success',
    data: result.data,
    ...(result.warnings ? { warnings: result.warnings } : {}),
    ...(result.infos ? { infos: result.infos } : {}),
  });
  res.writeHead(result.status ?? 200, { 'content-type': 'application/json' });
  res.end(body);
}

/** Sends an error in the Prometheus envelope. */
export function sendError(res: ServerResponse, err: ApiError, status = err.status): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...(err.retryAfterSec !== undefined ? { 'retry-after': String(err.retryAfterSec) } : {}) });
  res.end(JSON.stringify({ status: 'error', errorType: err.type, error: err.message }));
}

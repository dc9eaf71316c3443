/**
 * A small HTTP layer over node:http: a router with path parameters, bounded body reading, request
 * parameters merged from the query string and a form body (as Prometheus accepts both), and the
 * JSON envelope. Handlers return data or throw {@link ApiError}; nothing a client sends may crash
 * the process, so every handler runs inside one catch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.js';
import type { Logger } from '../../core/util/log.js';

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
  | { kind: 'json'; data: unknown; warnings?: string[]; status?: number }
  | { kind: 'raw'; status: number; body: string | Buffer; contentType?: string; headers?: Record<string, string> }
  | { kind: 'handled' };

/** A route handler. */
export type Handler = (req: ApiRequest) => ApiResult | Promise<ApiResult>;

/** Wraps data in the success envelope. */
export function json(data: unknown, warnings?: string[]): ApiResult {
  return warnings && warnings.length ? { kind: 'json', data, warnings } : { kind: 'json', data };
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

const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** Routes requests to handlers by method and path (`:name` segments capture, `*name` the rest). */
export class Router {
  private readonly routes: Route[] = [];

  /** Told the route pattern and duration (seconds) of every request, and its response (whose status is set once it closes), for self-monitoring. */
  onRequestDone: ((route: string, seconds: number, res: ServerResponse) => void) | undefined;

  constructor(private readonly log: Logger) {}

  /** Registers `handler` for the methods and path pattern. */
  on(methods: string | readonly string[], pattern: string, handler: Handler): this {
    this.routes.push({ methods: typeof methods === 'string' ? [methods] : methods, parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } | 'method' | undefined {
    const segs = path.split('/').filter(Boolean);
    let wrongMethod = false;
    for (const route of this.routes) {
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < route.parts.length; i++) {
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
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const found = this.match(method === 'HEAD' ? 'GET' : method, url.pathname);
    if (found === undefined) return sendError(res, new ApiError('not_found', `no such endpoint: ${url.pathname}`));
    if (found === 'method') return sendError(res, new ApiError('bad_data', `method ${method} not allowed for ${url.pathname}`), 405);
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    let bodyPromise: Promise<Buffer> | undefined;
    const readBody = (limit = DEFAULT_BODY_LIMIT): Promise<Buffer> => (bodyPromise ??= readBodyLimited(req, limit));
    const query = new URLSearchParams(url.search);
    const ctype = req.headers['content-type'] ?? '';
    if (method === 'POST' && ctype.startsWith('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams((await readBody(DEFAULT_BODY_LIMIT)).toString('utf8'));
      for (const [k, v] of form) query.append(k, v);
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
    const route = '/' + found.route.parts.join('/');
    let result: ApiResult;
    try {
      result = await found.route.handler(apiReq);
    } catch (err) {
      if (err instanceof ApiError) return sendError(res, err);
      throw err;
    } finally {
      this.onRequestDone?.(route, (performance.now() - began) / 1000, res);
    }
    send(res, result);
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

/** Sends a result. */
export function send(res: ServerResponse, result: ApiResult): void {
  if (result.kind === 'handled') return;
  if (result.kind === 'raw') {
    res.writeHead(result.status, { 'content-type': result.contentType ?? 'application/octet-stream', ...result.headers });
    res.end(result.body);
    return;
  }
  const body = JSON.stringify(result.warnings ? { status: 'success', data: result.data, warnings: result.warnings } : { status: 'success', data: result.data });
  res.writeHead(result.status ?? 200, { 'content-type': 'application/json' });
  res.end(body);
}

/** Sends an error in the Prometheus envelope. */
export function sendError(res: ServerResponse, err: ApiError, status = err.status): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: 'error', errorType: err.type, error: err.message }));
}

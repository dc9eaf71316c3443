/**
 * A query API of remote storage, as both remote query services reach it (PromQL: a
 * Prometheus-compatible API, metrics/query/remote.ts; LogQL: a Loki-compatible one,
 * logs/query/remote.ts): one HTTP exchange with a timeout that also follows the caller's signal,
 * its failures and non-2xx answers turned into {@link RemoteQueryError}s with the Prometheus API's
 * error types, and the latency of each call by endpoint and outcome.
 *
 * The mapping: the remote's 400 stays bad_data with its message, 422 stays execution, an overloaded
 * or timed-out remote (429, 502, 503, 504) is 503 with Retry-After, a remote that cannot be reached
 * is a 503 that names it, anything else (401, 404, 500) is a misconfigured or broken remote.
 */
import { VigilError } from '../errors.js';
import { SelfHistogram, type SelfRegistry } from '../selfmon/registry.js';
import { BodySizeLimitError, HttpClient, HttpRequestError, type HttpResponse } from './client.js';
import type { HttpClientConfig } from './config.js';

/** `storage.remote` (and `logs.storage.remote`): where the remote's API is, how to reach it, how long to wait. */
export interface RemoteQueryConfig {
  /** The API's base URL, without `/api/v1` or `/loki/api/v1` (`http://vm:8428`, `http://loki:3100`). */
  readonly url: string;
  /** Longest wait for one answer, ms; also sent as the query's `timeout` so the remote stops too. */
  readonly timeoutMs: number;
  /** Largest answer read, bytes (0: no limit): a runaway result cannot take Vigil's heap. */
  readonly maxResponseBytes: number;
  readonly httpClient: HttpClientConfig;
}

/** The error codes a remote call fails with: the Prometheus API's error types. */
export type RemoteErrorCode = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'unavailable' | 'internal';

/** A failed remote call; `retryAfterSec` is set when trying again later may work. */
export class RemoteQueryError extends VigilError {
  declare readonly code: RemoteErrorCode;
  constructor(
    code: RemoteErrorCode,
    message: string,
    readonly retryAfterSec?: number,
  ) {
    super(code, message);
  }
}

/** Seconds a client is told to wait when the remote gave no Retry-After of its own. */
export const DEFAULT_RETRY_AFTER_SEC = 5;

/** The Prometheus API envelope (Loki's query API answers in it too). */
export interface Envelope {
  status?: string;
  data?: unknown;
  errorType?: string;
  error?: string;
  warnings?: string[];
  infos?: string[];
}

export function parseEnvelope(body: Buffer): Envelope | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' ? (v as Envelope) : undefined;
  } catch {
    return undefined;
  }
}

/** The Vigil error for a remote's non-2xx answer (the mapping is in the module comment). */
export function remoteError(name: string, res: Pick<HttpResponse, 'status' | 'statusText' | 'headers' | 'body'>): RemoteQueryError {
  const env = parseEnvelope(res.body);
  const detail = env?.error ?? (res.body.toString('utf8').trim().slice(0, 500) || res.statusText);
  if (res.status === 400) return new RemoteQueryError('bad_data', detail);
  if (res.status === 422) return new RemoteQueryError('execution', detail);
  if (res.status === 429 || res.status === 502 || res.status === 503 || res.status === 504) {
    const ra = Number(res.headers['retry-after']);
    const retry = Number.isFinite(ra) && ra > 0 ? Math.ceil(ra) : DEFAULT_RETRY_AFTER_SEC;
    const code = env?.errorType === 'timeout' || res.status === 504 ? 'timeout' : 'unavailable';
    return new RemoteQueryError(code, `remote storage ${name} answered ${res.status}: ${detail}`, retry);
  }
  return new RemoteQueryError('internal', `remote storage ${name} answered ${res.status} ${res.statusText}: ${detail}`);
}

/** Parses a value as the API writes it: Go's float text, with `+Inf`, `-Inf` and `NaN`. */
export function parseApiFloat(s: unknown): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = typeof s === 'string' ? Number(s) : NaN;
  if (Number.isNaN(v)) throw new RemoteQueryError('internal', `remote answered a value that is not a number: ${JSON.stringify(s)}`);
  return v;
}

function isTimeout(reason: unknown): boolean {
  return reason instanceof DOMException && reason.name === 'TimeoutError';
}

/** Calls to one remote query API. */
export class RemoteApi {
  /** The base URL: named in errors and logs. */
  readonly name: string;
  private readonly client: HttpClient;
  private latency: SelfHistogram | undefined;

  constructor(private readonly cfg: RemoteQueryConfig) {
    this.name = cfg.url.replace(/\/+$/, '');
    this.client = new HttpClient(cfg.httpClient, { idleTimeoutMs: 90_000 });
  }

  get timeoutMs(): number {
    return this.cfg.timeoutMs;
  }

  /** Observes each call's latency by endpoint and outcome in the histogram `metric`. */
  register(reg: SelfRegistry, metric: string, help: string): void {
    this.latency = new SelfHistogram(reg, metric, help, ['endpoint', 'code'], [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60]);
  }

  /** One API call whose 2xx answer is a success envelope; everything else is a {@link RemoteQueryError}. */
  async call(method: 'GET' | 'POST', path: string, params: URLSearchParams, signal: AbortSignal | undefined, endpoint = path): Promise<Envelope> {
    const body = await this.fetch(method, path, params, signal, endpoint);
    const env = parseEnvelope(body);
    if (!env || env.status !== 'success')
      throw new RemoteQueryError('internal', `remote storage ${this.name} answered ${path} with something other than an API success envelope`);
    return env;
  }

  /** One API call; the body of its 2xx answer (for endpoints that answer without the envelope). */
  async fetch(method: 'GET' | 'POST', path: string, params: URLSearchParams, signal: AbortSignal | undefined, endpoint = path): Promise<Buffer> {
    const t0 = performance.now();
    let code = 'unreachable';
    try {
      const res = await this.send(method, path, params, signal);
      code = String(res.status);
      if (res.status < 200 || res.status > 299) throw remoteError(this.name, res);
      return res.body;
    } catch (err) {
      if (err instanceof RemoteQueryError && (err.code === 'timeout' || err.code === 'canceled') && code === 'unreachable') code = err.code;
      throw err;
    } finally {
      this.latency?.observe([endpoint, code], (performance.now() - t0) / 1000);
    }
  }

  /** One HTTP exchange; failures to get any answer become {@link RemoteQueryError}s. */
  private async send(method: 'GET' | 'POST', path: string, params: URLSearchParams, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const url = `${this.name}${path}`;
    try {
      return method === 'POST'
        ? await this.client.request('POST', url, {
            headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
            body: params.toString(),
            signal: both,
            bodySizeLimit: this.cfg.maxResponseBytes,
          })
        : await this.client.request('GET', `${url}?${params.toString()}`, {
            headers: { accept: 'application/json' },
            signal: both,
            bodySizeLimit: this.cfg.maxResponseBytes,
          });
    } catch (err) {
      // Which signal fired decides: the caller gone (or its own deadline), or this call's timeout.
      if (signal?.aborted) {
        if (isTimeout(signal.reason)) throw new RemoteQueryError('timeout', 'query timed out in query execution');
        throw new RemoteQueryError('canceled', 'query was canceled');
      }
      if (timeout.aborted)
        throw new RemoteQueryError('timeout', `remote storage ${this.name} did not answer within ${this.cfg.timeoutMs / 1000}s`, DEFAULT_RETRY_AFTER_SEC);
      if (err instanceof BodySizeLimitError) throw new RemoteQueryError('execution', `remote storage ${this.name}: answer too large: ${err.message}`);
      if (err instanceof HttpRequestError)
        throw new RemoteQueryError('unavailable', `remote storage ${this.name} is unreachable: ${err.detail}`, DEFAULT_RETRY_AFTER_SEC);
      throw err;
    }
  }

  close(): void {
    this.client.close();
  }
}

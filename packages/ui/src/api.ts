/**
 * The backend, same origin: Prometheus' API (`/api/v1`), Alertmanager's (`/api/v2`) and Vigil's
 * extras. Every call returns data or throws {@link ApiFailure} carrying the server's message, which
 * pages show as they are: the server's words are the most precise hint at what to fix.
 */
import type { MatrixSeries } from './lib/series.js';
import type { ApiHistogram } from './lib/histogram.js';
import type { ExemplarSeries } from './lib/exemplars.js';
import type { SearchHit } from './lib/traces.js';

/** A failed call: HTTP status (0 for a network error) and the server's message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorType = '',
  ) {
    super(message);
  }
}

interface Envelope {
  status?: string;
  data?: unknown;
  error?: string;
  errorType?: string;
  warnings?: string[];
}

/** Set once the browser is on its way to the login page: one redirect is enough. */
let toLogin = false;

/**
 * With authentication on, an API call answered 401 means the session has expired (or was ended
 * elsewhere): instead of an error on the page, the browser goes to the login page, which brings it
 * back to where it was once signed in. Without authentication Vigil never answers 401. Returns
 * true when the browser is being sent there.
 */
export function loginIfExpired(res: Response): boolean {
  if (res.status !== 401) return false;
  if (!toLogin) {
    toLogin = true;
    const here = window.location.pathname + window.location.search + window.location.hash;
    window.location.assign(`/login?next=${encodeURIComponent(here)}`);
  }
  return true;
}

/** Never settles: what a call returns while the page is leaving for the login page (no error flashes up). */
const leaving = (): Promise<never> => new Promise<never>(() => undefined);

async function request(path: string, init?: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiFailure(0, `cannot reach Vigil (${(err as Error).message}); is the server running?`);
  }
  return loginIfExpired(res) ? leaving() : res;
}

/** `fetch` for the pages that read a body other than JSON envelopes: a 401 goes to the login page too. */
export async function fetchChecked(path: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(path, init);
  return loginIfExpired(res) ? leaving() : res;
}

/** GETs (or POSTs a form to) a Prometheus-envelope endpoint and returns `data`. */
export async function promGet<T>(path: string, params?: Record<string, string | string[]>, signal?: AbortSignal): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
  const s = q.toString();
  // Long queries go as a form POST so they never hit URL length limits.
  const res =
    s.length > 1500
      ? await request(path, { method: 'POST', body: q, headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...(signal ? { signal } : {}) })
      : await request(s ? `${path}?${s}` : path, signal ? { signal } : {});
  let body: Envelope;
  try {
    body = (await res.json()) as Envelope;
  } catch {
    throw new ApiFailure(res.status, res.status === 404 ? `${path} is not available on this server` : `${path} answered ${res.status} without JSON`);
  }
  if (!res.ok || body.status !== 'success') {
    if (res.status === 404 && (body.error ?? '').startsWith('no such endpoint'))
      throw new ApiFailure(404, `${path} is not available on this server`, 'not_found');
    throw new ApiFailure(res.status, body.error ?? `HTTP ${res.status}`, body.errorType ?? '');
  }
  return body.data as T;
}

/** Calls a plain-JSON endpoint (Alertmanager v2); `body` is sent as JSON. */
export async function jsonCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(path, body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* a plain-text error body is reported as it is below */
  }
  if (!res.ok) {
    const msg =
      typeof parsed === 'object' && parsed !== null && 'error' in parsed ? String((parsed as { error: unknown }).error) : text || `HTTP ${res.status}`;
    throw new ApiFailure(res.status, msg);
  }
  // Vigil's extras use the Prometheus envelope; Alertmanager's API returns the data bare.
  if (typeof parsed === 'object' && parsed !== null && (parsed as Envelope).status === 'success' && 'data' in parsed) return (parsed as Envelope).data as T;
  return parsed as T;
}

/** An instant-vector sample. */
export interface VectorSample {
  readonly metric: Record<string, string>;
  /** A float sample's time and value. A native-histogram sample has `histogram` instead: pages that may meet one check that first. */
  readonly value: readonly [number, string];
  /** A native histogram sample's time and histogram. */
  readonly histogram?: readonly [number, ApiHistogram];
}

/** A query result. */
export type QueryResult =
  | { readonly resultType: 'vector'; readonly result: VectorSample[] }
  | { readonly resultType: 'matrix'; readonly result: MatrixSeries[] }
  | { readonly resultType: 'scalar' | 'string'; readonly result: readonly [number, string] };

/** Instant query. */
export function query(expr: string, time?: number, signal?: AbortSignal): Promise<QueryResult> {
  return promGet<QueryResult>('/api/v1/query', time === undefined ? { query: expr } : { query: expr, time: String(time / 1000) }, signal);
}

/** Range query; times in ms, step in ms. */
export async function queryRange(expr: string, start: number, end: number, step: number, signal?: AbortSignal): Promise<MatrixSeries[]> {
  const r = await promGet<QueryResult>(
    '/api/v1/query_range',
    { query: expr, start: String(start / 1000), end: String(end / 1000), step: String(step / 1000) },
    signal,
  );
  // A series of native histograms only has no `values`.
  return r.resultType === 'matrix' ? r.result.map((m) => (m.values ? m : { ...m, values: [] })) : [];
}

/** Exemplars of the series `expr` selects, between `start` and `end` (ms). */
export function queryExemplars(expr: string, start: number, end: number, signal?: AbortSignal): Promise<ExemplarSeries[] | null> {
  return promGet<ExemplarSeries[] | null>('/api/v1/query_exemplars', { query: expr, start: String(start / 1000), end: String(end / 1000) }, signal);
}

/** Label values, optionally restricted to series matching `match`. */
export function labelValues(label: string, match?: string): Promise<string[]> {
  return promGet<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values`, match ? { 'match[]': match } : {});
}

/** A firing alert as Alertmanager's API v2 returns it. */
export interface AmAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly updatedAt?: string;
  readonly generatorURL?: string;
  readonly fingerprint: string;
  readonly status: { readonly state: string; readonly silencedBy: string[]; readonly inhibitedBy: string[] };
  readonly receivers: Array<{ readonly name: string }>;
}

/** A group of alerts as routed. */
export interface AmGroup {
  readonly labels: Record<string, string>;
  readonly receiver: { readonly name: string };
  readonly alerts: AmAlert[];
}

/** A silence. */
export interface Silence {
  readonly id: string;
  readonly matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly createdBy: string;
  readonly comment: string;
  readonly status: { readonly state: string };
}

/** Active alerts from Alertmanager's API (an empty list if it is not there). */
export async function activeAlerts(): Promise<AmAlert[]> {
  try {
    return await jsonCall<AmAlert[]>('GET', '/api/v2/alerts?active=true&silenced=false&inhibited=false');
  } catch {
    return [];
  }
}

/** What the UI reads of the server's configuration. */
export interface UiSettings {
  /** `web.external_url`, or null when unset. */
  readonly externalUrl: string | null;
}

let settings: Promise<UiSettings> | undefined;

/** The UI's settings, fetched once per page load; a failure means none (links then match the page's origin only). */
export function uiSettings(): Promise<UiSettings> {
  settings ??= jsonCall<UiSettings>('GET', '/api/v1/ui/settings').catch(() => ({ externalUrl: null }));
  return settings;
}

/**
 * Tempo's trace search (`/api/search`). A refused query throws the server's text as it is: for
 * TraceQL it names the line and column, which the editor marks.
 */
export async function traceSearch(params: Record<string, string>, signal?: AbortSignal): Promise<SearchHit[]> {
  const res = await request(`/api/search?${new URLSearchParams(params).toString()}`, signal ? { signal } : undefined).catch((err: unknown) => {
    // An abort is the caller's doing, not a failure to reach the server.
    if (signal?.aborted) throw signal.reason;
    throw err;
  });
  const text = await res.text();
  if (res.status === 404 && !text.trim().startsWith('{')) throw new ApiFailure(404, 'trace search (/api/search) is not available on this server');
  if (!res.ok) throw new ApiFailure(res.status, text.trim() || `HTTP ${res.status}`);
  return (JSON.parse(text) as { traces?: SearchHit[] }).traces ?? [];
}

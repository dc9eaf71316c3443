/**
 * Request context carried through async calls by AsyncLocalStorage: the request id, the user,
 * and the W3C trace context. Log lines read it through the logger's mixin.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';

/** What is known about the request being served. */
export interface RequestContext {
  /** From `x-request-id`, or generated; echoed back in the response header. */
  readonly requestId: string;
  /** Set by the middleware's `userId` option or later by {@link setUserId}. */
  userId: string | undefined;
  /** W3C trace id (32 hex digits): from `traceparent`, or new. */
  readonly traceId: string;
  /** The span id of this server span (16 hex digits), always new. */
  readonly spanId: string;
  /** The caller's span id from `traceparent`, if any. */
  readonly parentSpanId: string | undefined;
  /** W3C trace flags (2 hex digits). */
  readonly traceFlags: string;
  /** The route template, once routing has resolved it. */
  route: string | undefined;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the request being served, or undefined outside a request. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `ctx` as the current request context. */
export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** Runs `fn` outside any request context (for work that belongs to no request). */
export function outsideContext<T>(fn: () => T): T {
  return storage.exit(fn);
}

/** Sets the user of the current request (no-op outside a request). */
export function setUserId(userId: string | undefined): void {
  const ctx = storage.getStore();
  if (ctx) ctx.userId = userId;
}

/** The `traceparent` header value for an outgoing call made within the current request. */
export function outgoingTraceparent(): string | undefined {
  const ctx = storage.getStore();
  if (!ctx) return undefined;
  return `00-${ctx.traceId}-${newSpanId()}-${ctx.traceFlags}`;
}

// Random ids come from a pooled buffer: one randomBytes call per 512 spans instead of one per span.
const POOL_SIZE = 8192;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;
function randomHex(bytes: number): string {
  if (poolOffset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const s = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return s;
}

/** A new 16-hex-digit span id. */
export function newSpanId(): string {
  return randomHex(8);
}

/** A new 32-hex-digit trace id. */
export function newTraceId(): string {
  return randomHex(16);
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** A parsed W3C `traceparent`, or undefined if absent or invalid (version ff, all-zero ids). */
export function parseTraceparent(header: string | undefined): { traceId: string; parentSpanId: string; traceFlags: string } | undefined {
  if (header === undefined || header.length < 55) return undefined;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, parentSpanId, traceFlags] = m as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && header.trim().length !== 55)) return undefined;
  if (traceId === ZERO_TRACE || parentSpanId === ZERO_SPAN) return undefined;
  return { traceId, parentSpanId, traceFlags };
}

const REQUEST_ID_OK = /^[\w.:@/+=-]{1,128}$/;

/**
 * Builds the context for an incoming request from its headers: `x-request-id` (kept when it is a
 * sane token of at most 128 characters, else replaced) and `traceparent`.
 */
export function contextFromHeaders(
  requestIdHeader: string | string[] | undefined,
  traceparentHeader: string | string[] | undefined,
  userId?: string,
): RequestContext {
  const rid = typeof requestIdHeader === 'string' && REQUEST_ID_OK.test(requestIdHeader) ? requestIdHeader : randomUUID();
  const tp = parseTraceparent(typeof traceparentHeader === 'string' ? traceparentHeader : undefined);
  return {
    requestId: rid,
    userId,
    traceId: tp ? tp.traceId : newTraceId(),
    spanId: newSpanId(),
    parentSpanId: tp?.parentSpanId,
    traceFlags: tp ? tp.traceFlags : '01',
    route: undefined,
  };
}

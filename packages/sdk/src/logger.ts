/**
 * The structured logger: pino with the request context mixed into every line, redaction of
 * secrets on by default, and error serialisation with stack. Decided at configuration time.
 */
import { pino, stdSerializers, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { context, trace } from '@opentelemetry/api';
import { currentContext } from './context.js';

/**
 * Field names censored by default, at any depth up to 4 and in any letter case: passwords, tokens,
 * keys, cookies and card data. Matching names instead of fast-redact wildcard paths keeps a log
 * call cheap (a set lookup per key; objects are copied only when a secret is found).
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'apikey',
  'api_key',
  'authorization',
  'cookie',
  'set-cookie',
  'cardnumber',
  'card_number',
  'pan',
  'cvv',
  'cvc',
  'creditcard',
  'credit_card',
  'card',
  'privatekey',
  'private_key',
];

/** The censor written in place of a secret. */
export const REDACTED = '[REDACTED]';

/** Redaction settings: `false` turns it off; a list replaces the default keys. */
export type RedactOption =
  | false
  | readonly string[]
  | {
      /** Field names censored at any depth (case-insensitive); default {@link DEFAULT_REDACT_KEYS}. */
      readonly keys?: readonly string[];
      /** Added to the default keys. */
      readonly extraKeys?: readonly string[];
      /** Exact pino/fast-redact paths censored as well, e.g. `order.customer.email`. */
      readonly paths?: readonly string[];
      /** Also mask card-number-like digit runs inside message strings (default true). */
      readonly messages?: boolean;
    };

const MAX_DEPTH = 4;

// Verdicts per field name, so the hot path does one map lookup instead of lower-casing every key.
const verdicts = new WeakMap<ReadonlySet<string>, Map<string, boolean>>();
function isSecret(k: string, keys: ReadonlySet<string>): boolean {
  let m = verdicts.get(keys);
  if (!m) verdicts.set(keys, (m = new Map()));
  let v = m.get(k);
  if (v === undefined) {
    v = keys.has(k.toLowerCase());
    if (m.size < 10_000) m.set(k, v);
  }
  return v;
}

/** Returns `v` with secret-named fields censored; copies only the objects on the way to a secret. */
export function censorKeys(v: unknown, keys: ReadonlySet<string>, depth = 0): unknown {
  if (typeof v !== 'object' || v === null || depth >= MAX_DEPTH || v instanceof Error || Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const c = censorKeys(v[i], keys, depth + 1);
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | undefined;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    const c = isSecret(k, keys) ? (x === undefined ? x : REDACTED) : censorKeys(x, keys, depth + 1);
    if (c !== x) (out ??= { ...o })[k] = c;
  }
  return out ?? v;
}

/** Options of {@link createLogger}. */
export interface VigilLoggerOptions {
  readonly service: string;
  readonly environment?: string | undefined;
  readonly level?: string | undefined;
  readonly redact?: RedactOption | undefined;
  /** Where lines go (default stdout). Tests pass a stream to capture lines. */
  readonly destination?: DestinationStream | undefined;
}

// 13 to 19 digits, optionally separated by single spaces or dashes: card numbers.
const PAN = /\b\d(?:[ -]?\d){12,18}\b/g;

/** Masks card-number-like digit runs in a message. */
export function redactMessage(s: string): string {
  return s.replace(PAN, REDACTED);
}

/** Builds the logger. */
export function createLogger(o: VigilLoggerOptions): Logger {
  const r = o.redact ?? {};
  const obj = r === false || Array.isArray(r) ? undefined : (r as Exclude<RedactOption, false | readonly string[]>);
  const keyList = r === false ? [] : Array.isArray(r) ? (r as readonly string[]) : [...(obj?.keys ?? DEFAULT_REDACT_KEYS), ...(obj?.extraKeys ?? [])];
  const keys = new Set(keyList.map((k) => k.toLowerCase()));
  const paths = obj?.paths ?? [];
  const maskMessages = obj !== undefined && obj.messages !== false;
  const base: Record<string, string> = { service: o.service };
  if (o.environment !== undefined) base['environment'] = o.environment;
  const options: LoggerOptions = {
    level: o.level ?? 'info',
    base,
    messageKey: 'msg',
    formatters: {
      level: (label) => ({ level: label }),
      ...(keys.size > 0 ? { log: (fields: Record<string, unknown>) => censorKeys(fields, keys) as Record<string, unknown> } : {}),
    },
    serializers: { err: stdSerializers.err, error: stdSerializers.err },
    mixin() {
      // The active OpenTelemetry span (a tracked function's, the pool's, the server span) names the
      // line's trace and span; without tracing, the request context's own ids do.
      const active = trace.getSpanContext(context.active());
      const sc = active !== undefined && trace.isSpanContextValid(active) ? active : undefined;
      const c = currentContext();
      if (c === undefined) return sc === undefined ? {} : { trace_id: sc.traceId, span_id: sc.spanId };
      const traceId = sc === undefined ? c.traceId : sc.traceId;
      const spanId = sc === undefined ? c.spanId : sc.spanId;
      return c.userId === undefined
        ? { request_id: c.requestId, trace_id: traceId, span_id: spanId }
        : { request_id: c.requestId, user_id: c.userId, trace_id: traceId, span_id: spanId };
    },
  };
  if (paths.length > 0) options.redact = { paths: [...paths], censor: REDACTED };
  if (maskMessages) {
    options.hooks = {
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) {
          const a: unknown = args[i];
          if (typeof a === 'string' && a.length >= 13) args[i] = redactMessage(a);
        }
        method.apply(this, args);
      },
    };
  }
  return o.destination ? pino(options, o.destination) : pino(options);
}

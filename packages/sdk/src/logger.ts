/**
 * The structured logger: pino with the request context mixed into every line, redaction of
 * secrets on by default, and error serialisation with stack. Decided at configuration time.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { currentContext } from './context.js';

/** Field paths censored by default: passwords, tokens, keys, cookies and card data, at the top level and one level down. */
export const DEFAULT_REDACT_PATHS: readonly string[] = (() => {
  const keys = [
    'password', 'passwd', 'secret', 'token', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'apiKey', 'api_key',
    'authorization', 'cookie', 'cardNumber', 'card_number', 'pan', 'cvv', 'cvc', 'creditCard', 'credit_card',
  ];
  const out: string[] = [];
  for (const k of keys) out.push(k, `*.${k}`);
  out.push('req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'card.number', '*.card.number');
  return out;
})();

/** The censor written in place of a secret. */
export const REDACTED = '[REDACTED]';

/** Redaction settings: `false` turns it off, a list replaces the default paths. */
export type RedactOption =
  | false
  | readonly string[]
  | {
      /** Field paths (pino/fast-redact syntax); default {@link DEFAULT_REDACT_PATHS}. */
      readonly paths?: readonly string[];
      /** Added to the default paths. */
      readonly extraPaths?: readonly string[];
      /** Also mask card-number-like digit runs inside message strings (default true). */
      readonly messages?: boolean;
    };

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
  const paths = r === false ? [] : Array.isArray(r) ? (r as readonly string[]) : [...((r as { paths?: readonly string[] }).paths ?? DEFAULT_REDACT_PATHS), ...((r as { extraPaths?: readonly string[] }).extraPaths ?? [])];
  const maskMessages = r !== false && !Array.isArray(r) && (r as { messages?: boolean }).messages !== false;
  const base: Record<string, string> = { service: o.service };
  if (o.environment !== undefined) base['environment'] = o.environment;
  const options: LoggerOptions = {
    level: o.level ?? 'info',
    base,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    mixin() {
      const c = currentContext();
      if (c === undefined) return {};
      return c.userId === undefined
        ? { request_id: c.requestId, trace_id: c.traceId, span_id: c.spanId }
        : { request_id: c.requestId, user_id: c.userId, trace_id: c.traceId, span_id: c.spanId };
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

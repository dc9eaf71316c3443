/**
 * Function instrumentation: `track(name, fn)` and the `@tracked()` decorator record latency and
 * outcome, and count errors by type and severity.
 */
import { context, type SpanContext } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { CardinalityGuard, LabelSetCache } from './cardinality.js';
import { activeSpanContext, histogramExemplars, type HistogramExemplars } from './exemplars.js';
import { endSpan, type VigilTracing } from './tracing.js';

/** Error severities, most urgent first. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
/** An error severity. */
export type Severity = (typeof SEVERITIES)[number];

/** What an error counts as: its type label and its severity. */
export interface ErrorClass {
  readonly type: string;
  readonly severity: Severity;
}

/** Maps an error to its class; return undefined to fall back to the default classifier. */
export type ErrorClassifier = (err: unknown) => ErrorClass | undefined;

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ABORT_ERR']);

/**
 * The default classification: connection errors are high, timeouts medium, everything else low.
 * The type label is the error's `code` if it has one, else its `name`.
 */
export function classifyError(err: unknown): ErrorClass {
  if (!(err instanceof Error)) return { type: typeof err, severity: 'low' };
  const code = (err as { code?: unknown }).code;
  const type = typeof code === 'string' && code !== '' ? code : err.name;
  if ((typeof code === 'string' && CONNECTION_CODES.has(code)) || /connection/i.test(err.name)) return { type, severity: 'high' };
  if ((typeof code === 'string' && TIMEOUT_CODES.has(code)) || /timeout/i.test(err.name) || err.name === 'AbortError') return { type, severity: 'medium' };
  return { type, severity: 'low' };
}

/** Per-call options of {@link Tracker.track}. */
export interface TrackOptions {
  /** Overrides the instance's classifier for this function. */
  readonly classify?: ErrorClassifier;
}

type Observer = { observe(v: number): void };

const FUNCTION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Records function latency, outcome and errors. */
export class Tracker {
  /** `function_duration_seconds{function, outcome}`. */
  readonly duration: Histogram<'function' | 'outcome'>;
  /** `errors_total{source, type, severity}`. */
  readonly errors: Counter<'source' | 'type' | 'severity'>;
  private readonly durations: LabelSetCache<Observer>;
  private readonly errorChildren: LabelSetCache<{ inc(): void }>;
  private readonly exemplars: HistogramExemplars;

  constructor(
    registry: Registry,
    guard: CardinalityGuard,
    private readonly classifier: ErrorClassifier = () => undefined,
    /** With tracing, every tracked call is a span named after it. */
    private readonly tracing?: VigilTracing,
  ) {
    this.duration = new Histogram({
      name: 'function_duration_seconds',
      help: 'Duration of tracked functions, by function and outcome (success or error).',
      labelNames: ['function', 'outcome'],
      buckets: FUNCTION_BUCKETS,
      registers: [registry],
    });
    this.exemplars = histogramExemplars(registry, 'function_duration_seconds', ['function', 'outcome'], FUNCTION_BUCKETS);
    this.errors = new Counter({
      name: 'errors_total',
      help: 'Errors, by source (tracked function or component), type and severity.',
      labelNames: ['source', 'type', 'severity'],
      registers: [registry],
    });
    this.durations = guard.cache('function_duration_seconds');
    this.errorChildren = guard.cache('errors_total');
  }

  /** Classifies an error: the per-call classifier, then the instance's, then {@link classifyError}. */
  classify(err: unknown, local?: ErrorClassifier): ErrorClass {
    return local?.(err) ?? this.classifier(err) ?? classifyError(err);
  }

  /** Counts one error from `source`. Returns its class. */
  recordError(source: string, err: unknown, local?: ErrorClassifier): ErrorClass {
    const c = this.classify(err, local);
    this.errorChildren.get(`${source}\u0000${c.type}\u0000${c.severity}`, () => this.errors.labels(source, c.type, c.severity))?.inc();
    return c;
  }

  /** `span`: the call's own span; without tracing, the span active around the call (if any) is the exemplar. */
  private observe(name: string, outcome: 'success' | 'error', start: number, span: SpanContext | undefined): void {
    const child = this.durations.get(`${name}\u0000${outcome}`, () => this.duration.labels(name, outcome));
    if (!child) return;
    const seconds = (performance.now() - start) / 1000;
    child.observe(seconds);
    this.exemplars.record([name, outcome], seconds, span);
  }

  /**
   * Calls `fn` and records it under `name`; works for sync and async functions, rethrows errors.
   * @returns whatever `fn` returns
   */
  track<T>(name: string, fn: () => T, opts: TrackOptions = {}): T {
    const start = performance.now();
    const s = this.tracing?.start(name);
    const sc = s ? s.span.spanContext() : activeSpanContext();
    let result: T;
    try {
      result = s ? context.with(s.context, fn) : fn();
    } catch (err) {
      this.observe(name, 'error', start, sc);
      this.recordError(name, err, opts.classify);
      if (s) endSpan(s.span, err);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (v: unknown) => {
          this.observe(name, 'success', start, sc);
          s?.span.end();
          return v;
        },
        (err: unknown) => {
          this.observe(name, 'error', start, sc);
          this.recordError(name, err, opts.classify);
          if (s) endSpan(s.span, err);
          throw err;
        },
      ) as T;
    }
    this.observe(name, 'success', start, sc);
    s?.span.end();
    return result;
  }

  /** Wraps `fn` so every call is tracked under `name`. */
  wrap<A extends unknown[], R>(name: string, fn: (...args: A) => R, opts: TrackOptions = {}): (...args: A) => R {
    const track = <T>(f: () => T): T => this.track(name, f, opts);
    return function (this: unknown, ...args: A): R {
      return track(() => fn.apply(this, args));
    };
  }

  /**
   * A method decorator (TypeScript 5 standard decorators): `@vigil.tracked()` records every call of
   * the method under `name`, default `Class.method`.
   */
  decorator(name?: string, opts: TrackOptions = {}) {
    const track = <T>(n: string, f: () => T): T => this.track(n, f, opts);
    return function <This, A extends unknown[], R>(
      method: (this: This, ...args: A) => R,
      context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => R>,
    ) {
      let label = name;
      context.addInitializer(function (this: This) {
        if (label === undefined) {
          const ctor = typeof this === 'function' ? this : (this as { constructor: { name: string } }).constructor;
          label = `${(ctor as { name: string }).name}.${String(context.name)}`;
        }
      });
      return function (this: This, ...args: A): R {
        return track(label ?? String(context.name), () => method.apply(this, args));
      };
    };
  }
}

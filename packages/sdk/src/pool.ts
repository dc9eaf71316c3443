/**
 * Saturation of connection pools: connections active, idle, waiting and the maximum, acquire
 * latency and acquire timeouts, labelled by pool. Wraps pg-like pools or any acquire/release pair.
 */
import { context, SpanKind, type Span } from '@opentelemetry/api';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { activeSpanContext, histogramExemplars, type HistogramExemplars } from './exemplars.js';
import { endSpan, type VigilTracing } from './tracing.js';
import { classifyError } from './track.js';

/** A pool's state at one moment. */
export interface PoolStats {
  readonly active: number;
  readonly idle: number;
  readonly waiting: number;
  readonly max: number;
}

/** The parts of a `pg` Pool (or pg-pool-like pool) the instrument reads and wraps. */
export interface PgLikePool {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options?: { readonly max?: number | undefined } | undefined;
  connect(...args: unknown[]): unknown;
}

/** A generic pool, given as its acquire and release functions. */
export interface GenericPool<T> {
  readonly acquire: () => Promise<T>;
  readonly release: (resource: T) => unknown;
  /** The pool's size. */
  readonly max: number;
  /** Idle resources, if the pool can tell (default: max − active). */
  readonly idle?: () => number;
}

/** A generic pool with instrumented acquire and release. */
export interface InstrumentedPool<T> {
  acquire(): Promise<T>;
  release(resource: T): unknown;
  stats(): PoolStats;
}

/** Options of a pool instrument. */
export interface PoolOptions {
  /** Is this acquire error a timeout? Default: a medium-severity error or a message with "timeout". */
  readonly isTimeout?: (err: unknown) => boolean;
}

/** Measures one acquire: call with the error if it failed. */
export type AcquireTimer = (err?: unknown) => void;

const ACQUIRE_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const TRACED = Symbol('vigil traced client');

/** Runs `fn`, ending `span` when its result (a promise or a value) settles. */
function settle(span: Span, fn: () => unknown): unknown {
  let r: unknown;
  try {
    r = fn();
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
  if (r instanceof Promise) {
    return r.then(
      (v: unknown) => {
        span.end();
        return v;
      },
      (err: unknown) => {
        endSpan(span, err);
        throw err;
      },
    );
  }
  span.end();
  return r;
}

const defaultIsTimeout = (err: unknown): boolean => classifyError(err).severity === 'medium' || (err instanceof Error && /time(d)? ?out/i.test(err.message));

/** The pool metrics of one Vigil instance. */
export class PoolInstruments {
  private readonly sources = new Map<string, () => PoolStats>();
  private readonly acquireSeconds: Histogram<'pool'>;
  private readonly timeouts: Counter<'pool'>;
  private readonly acquireExemplars: HistogramExemplars;

  /** @param tracing with it, every acquire is a `db.pool.acquire` span and every query of an instrumented pg pool a client span */
  constructor(
    registry: Registry,
    private readonly tracing?: VigilTracing,
  ) {
    const sources = this.sources;
    const gauge = (field: keyof PoolStats, help: string): void => {
      const g: Gauge<'pool'> = new Gauge({
        name: `database_connections_${field}`,
        help,
        labelNames: ['pool'],
        registers: [registry],
        collect() {
          g.reset();
          for (const [pool, stats] of sources) g.set({ pool }, stats()[field]);
        },
      });
    };
    gauge('active', 'Connections in use, by pool.');
    gauge('idle', 'Connections open and idle, by pool.');
    gauge('waiting', 'Callers waiting for a connection, by pool.');
    gauge('max', 'The most connections the pool will open, by pool.');
    this.acquireSeconds = new Histogram({
      name: 'database_connection_acquire_duration_seconds',
      help: 'Time to acquire a connection from the pool, by pool.',
      labelNames: ['pool'],
      buckets: ACQUIRE_BUCKETS,
      registers: [registry],
    });
    this.acquireExemplars = histogramExemplars(registry, 'database_connection_acquire_duration_seconds', ['pool'], ACQUIRE_BUCKETS);
    this.timeouts = new Counter({
      name: 'database_connection_acquire_timeouts_total',
      help: 'Acquires that timed out waiting for a connection, by pool.',
      labelNames: ['pool'],
      registers: [registry],
    });
  }

  /** Reports a pool's state through `stats`, read at every scrape. Returns the unregister function. */
  register(pool: string, stats: () => PoolStats): () => void {
    this.sources.set(pool, stats);
    return () => {
      if (this.sources.get(pool) === stats) this.sources.delete(pool);
    };
  }

  /** Starts timing one acquire from `pool`; timeouts are counted when the timer is called with one. */
  acquireTimer(pool: string, opts: PoolOptions = {}): AcquireTimer {
    const start = performance.now();
    const isTimeout = opts.isTimeout ?? defaultIsTimeout;
    const span = this.tracing?.start('db.pool.acquire', { attributes: { 'db.client.connection.pool.name': pool } }).span;
    const sc = span ? span.spanContext() : activeSpanContext();
    return (err) => {
      const ms = performance.now() - start;
      this.acquireSeconds.observe({ pool }, ms / 1000);
      this.acquireExemplars.record([pool], ms / 1000, sc);
      const timedOut = err !== undefined && isTimeout(err);
      if (timedOut) this.timeouts.inc({ pool });
      if (span) {
        // The wait is the span's duration too; as an attribute it can be searched and compared.
        span.setAttributes({ 'db.client.connection.wait_time_ms': Math.round(ms * 1000) / 1000, 'db.client.connection.timed_out': timedOut });
        endSpan(span, err);
      }
    };
  }

  /** Wraps a checked-out client's `query` (once per client object) so each query is a client span. */
  private traceClient(pool: string, client: unknown): void {
    const tracing = this.tracing;
    if (!tracing || typeof client !== 'object' || client === null) return;
    const c = client as { query?: unknown; [TRACED]?: boolean };
    if (typeof c.query !== 'function' || c[TRACED]) return;
    c[TRACED] = true;
    const query = c.query as (...a: unknown[]) => unknown;
    c.query = function (this: unknown, ...args: unknown[]): unknown {
      const sql = typeof args[0] === 'string' ? args[0] : typeof (args[0] as { text?: unknown })?.text === 'string' ? (args[0] as { text: string }).text : '';
      const op = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'query';
      const attributes = { 'db.client.connection.pool.name': pool, 'db.operation.name': op, 'db.query.text': sql.slice(0, 2048) };
      const { span, context: ctx } = tracing.start(`${op} ${pool}`, { kind: SpanKind.CLIENT, attributes });
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        args[args.length - 1] = (err: unknown, ...rest: unknown[]) => {
          endSpan(span, err ?? undefined);
          return (last as (...a: unknown[]) => unknown)(err, ...rest);
        };
        return context.with(ctx, () => query.apply(this, args));
      }
      return settle(span, () => context.with(ctx, () => query.apply(this, args)));
    };
  }

  /** Instruments a `pg` Pool in place (its `connect`, which `query` also uses) and returns it. */
  instrumentPg<P extends PgLikePool>(pool: string, pg: P, opts: PoolOptions = {}): P {
    this.register(pool, () => ({
      active: pg.totalCount - pg.idleCount,
      idle: pg.idleCount,
      waiting: pg.waitingCount,
      max: pg.options?.max ?? 10,
    }));
    const connect = pg.connect.bind(pg) as (...args: unknown[]) => unknown;
    pg.connect = (...args: unknown[]): unknown => {
      const done = this.acquireTimer(pool, opts);
      const cb = args[0];
      if (typeof cb === 'function') {
        return connect((err: unknown, ...rest: unknown[]) => {
          done(err ?? undefined);
          if (!err) this.traceClient(pool, rest[0]);
          return (cb as (...a: unknown[]) => unknown)(err, ...rest);
        });
      }
      return (connect() as Promise<unknown>).then(
        (client) => {
          done();
          this.traceClient(pool, client);
          return client;
        },
        (err: unknown) => {
          done(err);
          throw err;
        },
      );
    };
    return pg;
  }

  /** Wraps a generic acquire/release pool; active and waiting are counted by the wrapper. */
  wrap<T>(pool: string, generic: GenericPool<T>, opts: PoolOptions = {}): InstrumentedPool<T> {
    let active = 0;
    let waiting = 0;
    const stats = (): PoolStats => ({ active, waiting, max: generic.max, idle: generic.idle ? generic.idle() : Math.max(0, generic.max - active) });
    this.register(pool, stats);
    return {
      acquire: async () => {
        const done = this.acquireTimer(pool, opts);
        waiting++;
        try {
          const r = await generic.acquire();
          active++;
          done();
          return r;
        } catch (err) {
          done(err);
          throw err;
        } finally {
          waiting--;
        }
      },
      release: (r) => {
        active--;
        return generic.release(r);
      },
      stats,
    };
  }
}

/**
 * Admission of queries (PromQL and LogQL share one gate): at most `max_concurrency` run at once,
 * the rest wait in a FIFO queue for at most `queue_timeout`, and none starts while the heap is near
 * its limit. Refusals are 503 with Retry-After, so clients and Grafana retry later instead of the
 * server queueing work it cannot finish. After Prometheus' `--query.max-concurrency`.
 */
import { VigilError } from '../../core/errors.js';
import type { SelfRegistry } from '../../core/selfmon/registry.js';

/** Options of a {@link QueryGate}. */
export interface QueryGateOptions {
  /** Queries evaluated at once (`query.max_concurrency`). */
  readonly maxConcurrency: number;
  /** Longest wait in the queue, ms (`query.queue_timeout`). */
  readonly queueTimeoutMs: number;
  /** Why queries are refused for memory now (core/util/heap), or undefined; default: never. */
  readonly memoryPressure?: () => string | undefined;
}

/** A query turned away before it started (queue full for too long, heap near its limit). */
export class QueryRefusedError extends VigilError {
  constructor(
    override readonly code: 'overloaded',
    message: string,
    /** Seconds after which a retry may work. */
    readonly retryAfterSec: number,
  ) {
    super(code, message);
  }
}

/** Why queries ended without an answer, as counted on /metrics. */
export type QueryOutcomeReason = 'canceled' | 'timeout' | 'max_samples' | 'max_bytes' | 'queue_timeout' | 'memory';

interface Waiter {
  readonly grant: () => void;
  readonly fail: (err: Error) => void;
}

/** Concurrency limit with a FIFO queue; see the module comment. */
export class QueryGate {
  private running = 0;
  private readonly queue: Waiter[] = [];
  private readonly ended = new Map<QueryOutcomeReason, number>();
  constructor(private readonly opts: QueryGateOptions) {}

  /** Queries being evaluated. */
  get active(): number {
    return this.running;
  }

  /** Queries waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Counts a query that ended without an answer. */
  count(reason: QueryOutcomeReason): void {
    this.ended.set(reason, (this.ended.get(reason) ?? 0) + 1);
  }

  /**
   * Runs `fn` once a slot is free, passing the time spent queued (ms). Throws a
   * {@link QueryRefusedError} when the heap is near its limit or the wait exceeds the queue
   * timeout, and the signal's abort while still queued (the client went away).
   */
  async run<T>(signal: AbortSignal | undefined, fn: (queuedMs: number) => Promise<T>): Promise<T> {
    const pressure = this.opts.memoryPressure?.();
    if (pressure !== undefined) {
      this.count('memory');
      throw new QueryRefusedError('overloaded', `query refused: ${pressure}`, 5);
    }
    const queuedAt = performance.now();
    if (this.running >= this.opts.maxConcurrency) await this.wait(signal);
    else this.running++;
    try {
      return await fn(performance.now() - queuedAt);
    } finally {
      this.release();
    }
  }

  /** Waits for a slot; on success the slot is already taken (running was not decremented for us). */
  private wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.queue.indexOf(w);
        if (i >= 0) this.queue.splice(i, 1);
      };
      const w: Waiter = {
        grant: () => {
          done();
          resolve();
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.count('queue_timeout');
        const sec = Math.ceil(this.opts.queueTimeoutMs / 1000);
        w.fail(
          new QueryRefusedError(
            'overloaded',
            `query waited longer than query.queue_timeout (${this.opts.queueTimeoutMs}ms) for one of ${this.opts.maxConcurrency} query slots (query.max_concurrency); retry later`,
            Math.max(1, sec),
          ),
        );
      }, this.opts.queueTimeoutMs);
      const onAbort = (): void => {
        w.fail(new VigilError('canceled', 'query was canceled while queued'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(w);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next in line, so a newcomer cannot overtake the queue.
    if (next) next.grant();
    else this.running--;
  }

  /** Registers the gate's self-metrics, with Prometheus' names where it has them. */
  register(reg: SelfRegistry): void {
    reg.register('prometheus_engine_queries', 'gauge', 'The current number of queries being executed or waiting.', () => this.running + this.queue.length);
    reg.register('prometheus_engine_queries_concurrent_max', 'gauge', 'The max number of concurrent queries.', () => this.opts.maxConcurrency);
    reg.register('vigil_engine_queries_running', 'gauge', 'Queries being evaluated.', () => this.running);
    reg.register('vigil_engine_queries_queued', 'gauge', 'Queries waiting for a slot (query.max_concurrency).', () => this.queue.length);
    reg.register('vigil_engine_queries_ended_total', 'counter', 'Queries that ended without an answer, by reason (canceled, timeout, limits, refusals).', () =>
      (['canceled', 'timeout', 'max_samples', 'max_bytes', 'queue_timeout', 'memory'] as const).map((reason) => ({
        labels: { reason },
        value: this.ended.get(reason) ?? 0,
      })),
    );
  }
}

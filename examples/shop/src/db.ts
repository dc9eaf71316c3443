/**
 * A simulated database behind a pg-like pool of 20 connections (the seed's numbers): callers wait
 * in a queue when every connection is in use, and give up after the acquire timeout.
 */

/** Raised when no connection became free within the acquire timeout. */
export class PoolTimeoutError extends Error {
  override readonly name = 'PoolTimeoutError';
  readonly code = 'POOL_TIMEOUT' as const;
}

/** A connection checked out of the pool. */
export interface Client {
  /** Runs a simulated query taking `ms`. */
  query(sql: string, ms: number): Promise<void>;
  /** Returns the connection to the pool. */
  release(): void;
}

/** Options of {@link SimPool}. */
export interface SimPoolOptions {
  readonly max: number;
  readonly connectionTimeoutMillis: number;
}

/** A pg-like pool: `connect()`, `totalCount`, `idleCount`, `waitingCount`, `options.max`. */
export class SimPool {
  totalCount = 0;
  idleCount = 0;
  private readonly queue: Array<(c: Client) => void> = [];
  private closed = false;

  constructor(readonly options: SimPoolOptions) {}

  /** Callers waiting for a connection. */
  get waitingCount(): number {
    return this.queue.length;
  }

  /** Checks out a connection, waiting up to the acquire timeout. */
  connect(): Promise<Client> {
    if (this.closed) return Promise.reject(new Error('pool is closed'));
    if (this.idleCount > 0) {
      this.idleCount--;
      return Promise.resolve(this.client());
    }
    if (this.totalCount < this.options.max) {
      this.totalCount++;
      return Promise.resolve(this.client());
    }
    return new Promise((resolve, reject) => {
      const waiter = (c: Client): void => {
        clearTimeout(timer);
        resolve(c);
      };
      const timer = setTimeout(() => {
        const i = this.queue.indexOf(waiter);
        if (i !== -1) this.queue.splice(i, 1);
        reject(
          new PoolTimeoutError(
            `timeout exceeded when trying to connect (${this.options.connectionTimeoutMillis} ms, pool ${this.totalCount}/${this.options.max} busy)`,
          ),
        );
      }, this.options.connectionTimeoutMillis);
      this.queue.push(waiter);
    });
  }

  /** Checks out a connection, runs one query, releases it. */
  async query(sql: string, ms: number): Promise<void> {
    const c = await this.connect();
    try {
      await c.query(sql, ms);
    } finally {
      c.release();
    }
  }

  /** Refuses new work; waiting callers time out. */
  close(): void {
    this.closed = true;
  }

  private client(): Client {
    let released = false;
    return {
      query: (_sql, ms) => new Promise((r) => setTimeout(r, ms)),
      release: () => {
        if (released) return;
        released = true;
        const next = this.queue.shift();
        if (next) next(this.client());
        else this.idleCount++;
      },
    };
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVigil } from './vigil.js';
import { captureLogs, seriesLines, seriesValue } from './testing.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tiny pg-like pool: `max` clients, a wait queue, an acquire timeout. */
class FakePg {
  totalCount = 0;
  idleCount = 0;
  private readonly queue: Array<(c: { release(): void }) => void> = [];
  constructor(readonly options: { max: number; connectionTimeoutMillis: number }) {}
  get waitingCount() {
    return this.queue.length;
  }
  private client() {
    return {
      release: () => {
        const next = this.queue.shift();
        if (next) next(this.client());
        else this.idleCount++;
      },
    };
  }
  connect(): Promise<{ release(): void }> {
    if (this.idleCount > 0) {
      this.idleCount--;
      return Promise.resolve(this.client());
    }
    if (this.totalCount < this.options.max) {
      this.totalCount++;
      return Promise.resolve(this.client());
    }
    return new Promise((resolve, reject) => {
      const waiter = (c: { release(): void }) => {
        clearTimeout(t);
        resolve(c);
      };
      const t = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        reject(new Error('timeout exceeded when trying to connect'));
      }, this.options.connectionTimeoutMillis);
      this.queue.push(waiter);
    });
  }
}

test('pg-like pools: active, idle, waiting, max, acquire latency and timeouts', async () => {
  const vigil = createVigil({ service: 'p', defaultMetrics: false, serviceLabels: false, logDestination: captureLogs() });
  const pg = vigil.pool.instrumentPg('orders', new FakePg({ max: 3, connectionTimeoutMillis: 30 }));
  const held = await Promise.all([pg.connect(), pg.connect(), pg.connect()]);
  const waiting = [pg.connect(), pg.connect()];
  let text = (await vigil.metrics()).body;
  assert.equal(seriesValue(text, 'database_connections_active{pool="orders"}'), 3);
  assert.equal(seriesValue(text, 'database_connections_idle{pool="orders"}'), 0);
  assert.equal(seriesValue(text, 'database_connections_waiting{pool="orders"}'), 2);
  assert.equal(seriesValue(text, 'database_connections_max{pool="orders"}'), 3);
  await Promise.allSettled(waiting);
  held[0]?.release();
  text = (await vigil.metrics()).body;
  assert.equal(seriesValue(text, 'database_connections_active{pool="orders"}'), 2);
  assert.equal(seriesValue(text, 'database_connections_idle{pool="orders"}'), 1);
  assert.equal(seriesValue(text, 'database_connections_waiting{pool="orders"}'), 0);
  assert.equal(seriesValue(text, 'database_connection_acquire_timeouts_total{pool="orders"}'), 2);
  assert.equal(seriesValue(text, 'database_connection_acquire_duration_seconds_count{pool="orders"}'), 5);
  await vigil.shutdown();
});

test('generic acquire/release pools and gauge callbacks', async () => {
  const vigil = createVigil({ service: 'p', defaultMetrics: false, serviceLabels: false, logDestination: captureLogs() });
  let free = 2;
  const pool = vigil.pool.wrap('workers', {
    max: 2,
    acquire: async () => {
      while (free === 0) await sleep(5);
      free--;
      return {};
    },
    release: () => void free++,
  });
  const a = await pool.acquire();
  await pool.acquire();
  const pending = pool.acquire();
  assert.deepEqual(pool.stats(), { active: 2, waiting: 1, max: 2, idle: 0 });
  pool.release(a);
  await pending;
  assert.deepEqual(pool.stats(), { active: 2, waiting: 0, max: 2, idle: 0 });
  let queue = 7;
  vigil.gauge({ name: 'queue_depth', help: 'Jobs queued.', collect: () => queue });
  vigil.gauge({
    name: 'cache_entries',
    help: 'Entries by cache.',
    labelNames: ['cache'],
    collect: async () => [
      { labels: { cache: 'a' }, value: 1 },
      { labels: { cache: 'b' }, value: 2 },
    ],
  });
  let text = (await vigil.metrics()).body;
  assert.equal(seriesValue(text, 'database_connections_active{pool="workers"}'), 2);
  assert.deepEqual(seriesLines(text, 'queue_depth'), ['queue_depth 7']);
  assert.deepEqual(seriesLines(text, 'cache_entries'), ['cache_entries{cache="a"} 1', 'cache_entries{cache="b"} 2']);
  queue = 3;
  text = (await vigil.metrics()).body;
  assert.deepEqual(seriesLines(text, 'queue_depth'), ['queue_depth 3']);
  await vigil.shutdown();
});

/**
 * The wiring: the one place that builds the concrete storage, ingest and API objects and connects
 * them. Tests start a whole server in-process through {@link VigilServer}.
 */
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { registerAdminApi } from '../api/admin.js';
import { Router } from '../api/http.js';
import { registerMetadataApi } from '../api/metadata.js';
import { registerSeriesApi } from '../api/series.js';
import { registerWriteApi } from '../api/write.js';
import { registerQueryApi } from '../api/query.js';
import { registerStatusApi } from '../api/status.js';
import { Engine } from '../promql/engine/engine.js';
import { stringify } from 'yaml';
import { parseListen, type VigilConfig } from '../config/config.js';
import { MetadataStore } from '../ingest/metadata.js';
import { RemoteWriteReceiver } from '../ingest/remotewrite/receiver.js';
import { DB } from '../tsdb/db.js';
import { createLogger, type Logger } from '../util/log.js';
import { registerProcessMetrics, SelfRegistry } from '../selfmon/registry.js';
import { registerStorageMetrics } from '../selfmon/storage.js';

/** A running Vigil: storage, ingest and the HTTP API. */
export class VigilServer {
  readonly db: DB;
  readonly log: Logger;
  private readonly receiver: RemoteWriteReceiver;
  /** The PromQL engine; rules and the API share it. */
  readonly engine: Engine;
  private readonly http: http.Server;
  private ready = false;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly config: VigilConfig,
    opts: { logger?: Logger; now?: () => number; configYaml?: string; flags?: Record<string, string>; version?: string } = {},
  ) {
    this.log = opts.logger ?? createLogger();
    this.db = new DB({
      dir: path.resolve(config.storage.path),
      retentionMs: config.storage.retentionMs,
      retentionBytes: config.storage.retentionBytes,
      logger: this.log.child({ component: 'tsdb' }),
      ...(opts.now ? { now: opts.now } : {}),
    });
    const metadata = new MetadataStore();
    const receiver = (this.receiver = new RemoteWriteReceiver(this.db, { metadata }));
    const router = new Router(this.log.child({ component: 'http' }));
    registerAdminApi(router, this.db, () => this.ready);
    registerWriteApi(router, receiver, { maxBodyBytes: config.remoteWrite.maxBodyBytes });
    registerSeriesApi(router, this.db);
    registerMetadataApi(router, metadata);
    const now = opts.now ?? Date.now;
    this.engine = new Engine({ now });
    registerQueryApi(router, this.engine, this.db, now);
    registerStatusApi(router, this.db, {
      version: opts.version ?? '0.0.0',
      startedAt: now(),
      configYaml: () => opts.configYaml ?? stringify(config),
      flags: opts.flags ?? {},
      retention: `${Math.round(config.storage.retentionMs / 86_400_000)}d`,
    });
    const selfMetrics = new SelfRegistry();
    registerProcessMetrics(selfMetrics, Date.now());
    registerStorageMetrics(selfMetrics, this.db, receiver);
    router.on('GET', '/metrics', () => ({ kind: 'raw', status: 200, body: selfMetrics.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }));
    this.http = http.createServer({ keepAliveTimeout: 65_000 }, router.listener);
    this.http.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    });
  }

  /** Opens storage (replaying the WAL), then listens. */
  async start(): Promise<void> {
    await this.db.start();
    const { host, port } = parseListen(this.config.listen);
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.ready = true;
    this.log.info('Vigil is listening', { address: `http://${this.address()}`, data: this.db.dir });
  }

  /** The bound `host:port`. */
  address(): string {
    const a = this.http.address() as AddressInfo;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /** Stops accepting requests, lets in-flight ones finish (up to `graceMs`), then closes storage. Idempotent. */
  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false;
      const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
      this.http.closeIdleConnections();
      const timer = setTimeout(() => this.http.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await this.receiver.close();
      await this.db.stop();
      this.log.info('Vigil stopped');
    })();
    return this.stopping;
  }
}

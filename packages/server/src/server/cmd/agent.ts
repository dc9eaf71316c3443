/**
 * `vigil agent` (or `mode: agent`): scrapes, receives remote_write and OTLP metrics, and only
 * forwards, as Prometheus' agent mode does. Samples go into {@link AgentStorage} (a WAL and one small
 * record per series) and out through the remote_write queues, which follow that WAL. There is no
 * TSDB, so no PromQL, rules, alerting or blocks; logs and traces are not taken. Every route of the
 * full server that the agent does not serve answers a clear refusal rather than a bare 404.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import type * as https from 'node:https';
import * as path from 'node:path';
import { registerHealthApi } from '../api/admin.js';
import { ApiError } from '../api/errors.js';
import { Router } from '../api/http.js';
import { registerWriteApi } from '../api/write.js';
import { registerMetricIngest } from '../api/metric_ingest.js';
import { registerTargetsApi } from '../api/targets.js';
import { registerProcessStatusApi } from '../api/status.js';
import { ROUTE_NEEDS } from '../api/route_roles.js';
import { WebFront } from '../api/web_front.js';
import { registerLoginRoutes } from '../api/login.js';
import { effectiveConfigYaml } from '../config/effective.js';
import { loadConfig, type VigilConfig } from '../config/config.js';
import { boundAddress, closeGracefully, createFrontServer, listenOn, registerLifecycleRoutes, webPolicyFor } from './web_server.js';
import { seriesLimitsOf } from '../config/apply_limits.js';
import { buildInfo, registerBuildInfo } from '../selfmon/build_info.js';
import { registerOtlpMetricsIngest } from '../selfmon/otlp_metrics.js';
import { registerAgentMetrics } from '../selfmon/agent.js';
import { registerProcessMetrics, SelfRegistry } from '../../core/selfmon/registry.js';
import { createLogger, type Logger } from '../../core/util/log.js';
import { lockDir, type DirLock } from '../../core/util/dirlock.js';
import { HeapWatch } from '../../core/util/heap.js';
import { AgentStorage } from '../../metrics/tsdb/agent.js';
import { MetadataStore } from '../../metrics/metadata.js';
import { RemoteWriteReceiver } from '../../metrics/remotewrite/receiver.js';
import { RemoteWriteSender } from '../../metrics/remotewrite/sender/index.js';
import { OtlpMetricsIngestor } from '../../metrics/otlp/ingest.js';
import { parseScrapeConfigs, type ScrapeConfig } from '../../metrics/scrape/config.js';
import { ScrapeManager } from '../../metrics/scrape/manager.js';

/** What the refused routes say. */
export const AGENT_QUERY_REFUSAL =
  'unavailable in agent mode: this Vigil runs as an agent (vigil agent), which only scrapes, receives and forwards samples to its remote_write receivers; query them there';
const AGENT_INGEST_REFUSAL =
  'not taken in agent mode: this Vigil runs as an agent (vigil agent), which forwards metrics only; send logs and traces to a server (vigil start)';

/** Sections of vigil.yml an agent does not act on, and why (logged at start). */
const SERVER_ONLY: ReadonlyArray<[string, (c: VigilConfig) => boolean]> = [
  ['rule_files', (c) => c.ruleFiles.length > 0],
  ['log_rule_files', (c) => c.logRuleFiles.length > 0],
  ['slos / slo_files', (c) => c.slos.slos.length > 0 || c.sloFiles.length > 0],
  ['alerting', (c) => c.alerting.alertmanagers.length > 0],
  ['storage.type: remote', (c) => c.storage.type === 'remote'],
  ['otlp.grpc_listen_address', (c) => c.otlp.grpcListenAddress !== ''],
];

/** Refuses a configuration an agent cannot run: it would take samples and send them nowhere. */
export function checkAgentConfig(config: VigilConfig): void {
  if (config.remoteWriteTo.length === 0)
    throw new Error('agent mode needs at least one remote_write receiver (remote_write: [{url: ...}] in the configuration): an agent keeps no data of its own');
}

/** A running agent. */
export class VigilAgent {
  readonly storage: AgentStorage;
  readonly scrape: ScrapeManager;
  readonly sender: RemoteWriteSender;
  readonly otlpMetrics: OtlpMetricsIngestor;
  readonly log: Logger;
  private readonly receiver: RemoteWriteReceiver;
  private readonly front: WebFront;
  private readonly http: http.Server | https.Server;
  private readonly heap = new HeapWatch();
  private config: VigilConfig;
  private readonly configFile: string | undefined;
  private lastReload: { successful: boolean; lastSuccessMs: number };
  private dirLock: DirLock | undefined;
  private ready = false;
  private stopping: Promise<void> | undefined;
  /** Called by `POST /-/quit`; the CLI sets it to shut down as on SIGTERM. */
  onQuit: (() => void) | undefined;

  constructor(
    config: VigilConfig,
    opts: { logger?: Logger; configFile?: string; flags?: Record<string, string>; version?: string; truncateIntervalMs?: number } = {},
  ) {
    checkAgentConfig(config);
    this.config = config;
    this.configFile = opts.configFile;
    this.log = opts.logger ?? createLogger();
    const dataDir = path.resolve(config.storage.path);
    this.storage = new AgentStorage({
      walDir: path.join(dataDir, 'wal'),
      logger: this.log.child({ component: 'agent-wal' }),
      seriesLimits: { ...seriesLimitsOf(config.limits), memoryPressure: () => this.heap.pressure() },
      ...(opts.truncateIntervalMs !== undefined ? { truncateIntervalMs: opts.truncateIntervalMs } : {}),
      // Series that churned away leave the queues' memory too, so memory follows live series only.
      onSeriesGone: (gone) => this.sender.forgetSeries(gone),
    });
    const metadata = new MetadataStore();
    this.receiver = new RemoteWriteReceiver(this.storage, {
      metadata,
      ingestionRate: config.limits.ingestion_rate,
      ingestionBurstSize: config.limits.ingestion_burst_size,
    });
    this.otlpMetrics = new OtlpMetricsIngestor(this.storage, {
      translation: {
        translationStrategy: config.otlp.translationStrategy,
        promoteResourceAttributes: config.otlp.promoteResourceAttributes,
        keepIdentifyingResourceAttributes: config.otlp.keepIdentifyingResourceAttributes,
      },
      rate: this.receiver.rate,
      limitRefusals: this.receiver.limitRefusals,
      metadata,
    });
    this.scrape = new ScrapeManager(this.storage, { logger: this.log.child({ component: 'scrape' }), metadata });
    this.sender = new RemoteWriteSender({
      walDir: this.storage.walDir,
      stateDir: path.join(dataDir, 'remote_write'),
      walSegment: () => this.storage.walSegment,
      highestTimestamp: () => this.storage.maxt,
      metadata: () => metadata.list(),
      logger: this.log.child({ component: 'remote-write' }),
    });
    // The WAL keeps what a queue has not sent (up to its wal_retention_size) and nothing else.
    this.storage.holdWal(() => this.sender.retainFrom());

    const router = new Router(this.log.child({ component: 'http' }), webPolicyFor(config));
    this.front = new WebFront(router, config.web.configFile, { enableAdminApi: config.web.enableAdminApi, enableLifecycle: config.web.enableLifecycle });
    registerLoginRoutes(router, () => router.access);
    registerHealthApi(router, { started: () => this.ready, writeProblems: () => this.writeProblems() });
    registerWriteApi(router, this.receiver, { maxBodyBytes: config.remoteWrite.maxBodyBytes });
    registerMetricIngest(router, this.otlpMetrics, { maxBytes: config.remoteWrite.maxBodyBytes });
    registerTargetsApi(router, this.scrape);
    const build = buildInfo(opts.version ?? '0.0.0');
    this.lastReload = { successful: true, lastSuccessMs: Date.now() };
    registerProcessStatusApi(
      router,
      {
        build,
        startedAt: Date.now(),
        configYaml: () => effectiveConfigYaml(this.config),
        lastReload: () => this.lastReload,
        flags: opts.flags ?? {},
        retention: '0s',
      },
      () => this.storage.stats().walReplay?.repairs.length ?? 0,
    );
    const selfMetrics = new SelfRegistry();
    registerProcessMetrics(selfMetrics, Date.now());
    registerBuildInfo(selfMetrics, build);
    registerAgentMetrics(selfMetrics, this.storage, this.receiver);
    registerOtlpMetricsIngest(selfMetrics, this.otlpMetrics);
    this.sender.register(selfMetrics);
    this.scrape.register(selfMetrics);
    router.on('GET', '/metrics', () => ({ kind: 'raw', status: 200, body: selfMetrics.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }));
    registerLifecycleRoutes(
      router,
      () => this.reload(),
      () => (this.onQuit ?? (() => void this.stop()))(),
    );
    refuseServerRoutes(router);
    this.http = createFrontServer(this.front, router, config, this.log).server;
  }

  /** Locks the data directory, replays the WAL, listens, then starts the queues and the scrapes. */
  async start(): Promise<void> {
    const dir = path.resolve(this.config.storage.path);
    // A server's data directory holds samples only in its head and blocks; an agent would
    // checkpoint them away from under it.
    if (fs.existsSync(path.join(dir, 'blocks')))
      throw new Error(`${dir} is the data directory of a Vigil server (it has blocks/); give the agent a directory of its own (--data)`);
    this.dirLock = lockDir(dir);
    try {
      this.storage.start();
      this.receiver.start();
      await listenOn(this.http, this.config.listen);
      await this.sender.apply(this.config.remoteWriteTo, this.config.global.externalLabels);
      this.scrape.applyConfig(this.scrapeConfigs(this.config));
      await this.scrape.start();
    } catch (err) {
      await this.closeAll().catch((closeErr: unknown) => this.log.error('cleanup after a failed start failed', { err: closeErr }));
      throw err;
    }
    for (const w of this.config.warnings) this.log.warn(w);
    for (const [section, used] of SERVER_ONLY) if (used(this.config)) this.log.warn(`${section}: ignored in agent mode (the agent only forwards samples)`);
    this.ready = true;
    this.log.info('Vigil agent is listening', { address: `http://${this.address()}`, data: dir, remote_write: this.config.remoteWriteTo.map((r) => r.name) });
  }

  /** The configured jobs plus the agent scraping itself (never sharded: each agent reports its own metrics). */
  private scrapeConfigs(cfg: VigilConfig): ScrapeConfig[] {
    const jobs = [...cfg.scrapeConfigs];
    if (cfg.selfScrape && !jobs.some((j) => j.jobName === 'vigil')) {
      const addr = this.address().replace(/^0\.0\.0\.0:|^\[::\]:/, '127.0.0.1:');
      const unsharded = { ...cfg.global };
      delete unsharded.shard;
      jobs.push(...parseScrapeConfigs([this.front.selfScrapeJob(addr)], unsharded, process.cwd()));
    }
    return jobs;
  }

  /** Rereads the configuration file: scrape jobs and remote_write receivers. A bad file changes nothing. */
  async reload(): Promise<void> {
    try {
      if (this.configFile) {
        const next = loadConfig(this.configFile);
        checkAgentConfig(next);
        const web = this.front.reread();
        this.front.apply(web);
        this.scrape.applyConfig(this.scrapeConfigs(next));
        await this.sender.apply(next.remoteWriteTo, next.global.externalLabels);
        this.config = { ...next, listen: this.config.listen, storage: this.config.storage, web: this.config.web };
      } else this.front.apply(this.front.reread());
    } catch (err) {
      this.lastReload = { ...this.lastReload, successful: false };
      throw err;
    }
    this.lastReload = { successful: true, lastSuccessMs: Date.now() };
    this.log.info('configuration reloaded', { file: this.configFile });
  }

  writeProblems(): string[] {
    const p = this.storage.writeProblem();
    return p ? [`agent WAL: ${p}`] : [];
  }

  address(): string {
    return boundAddress(this.http);
  }

  /** Stops taking requests and scraping, lets the queues save their positions, closes the WAL. Idempotent. */
  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false;
      await closeGracefully(this.http, graceMs);
      await this.closeAll();
      this.log.info('Vigil agent stopped');
    })();
    return this.stopping;
  }

  private async closeAll(): Promise<void> {
    if (!this.dirLock) return;
    await this.scrape.stop();
    await this.receiver.stop();
    this.heap.close();
    // Before the WAL closes: the queues save how far the receivers have taken it.
    await this.sender.stop();
    await this.storage.stop();
    this.dirLock.release();
    this.dirLock = undefined;
  }
}

/**
 * Every route of the full server the agent has not registered answers why: queries as Prometheus'
 * agent answers them (422, `execution`), log and trace ingest with the same status and its own
 * reason, so a shipper pointed at an agent stops rather than retries.
 */
function refuseServerRoutes(router: Router): void {
  const served = new Set(router.routeList().map((r) => `${r.method} ${r.route}`));
  for (const [route, methods] of Object.entries(ROUTE_NEEDS)) {
    const missing = Object.entries(methods).filter(([m]) => !served.has(`${m} ${route}`));
    if (missing.length === 0) continue;
    for (const [method, need] of missing) {
      const why = need === 'write' ? AGENT_INGEST_REFUSAL : AGENT_QUERY_REFUSAL;
      router.on(method, route, () => {
        throw new ApiError('execution', why);
      });
    }
  }
}

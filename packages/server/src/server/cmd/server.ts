/**
 * The wiring: the one place that builds the concrete storage, ingest and API objects and connects
 * them. Tests start a whole server in-process through {@link VigilServer}.
 */
import * as http from 'node:http';
import type * as https from 'node:https';
import * as path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { registerAdminApi } from '../api/admin.js';
import { Router } from '../api/http.js';
import { registerMetadataApi } from '../api/metadata.js';
import { registerSeriesApi } from '../api/series.js';
import { registerWriteApi } from '../api/write.js';
import { registerQueryApi } from '../api/query.js';
import { QueryGate } from '../api/query_gate.js';
import { HeapWatch } from '../../core/util/heap.js';
import type { QueryFn } from '../../alerting/rules/types.js';
import { registerStatusApi } from '../api/status.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { effectiveConfigYaml } from '../config/effective.js';
import { parseListen, type VigilConfig } from '../config/config.js';
import { MetadataStore } from '../../metrics/metadata.js';
import { RemoteWriteReceiver } from '../../metrics/remotewrite/receiver.js';
import { DB } from '../../metrics/tsdb/db.js';
import { createLogger, type Logger } from '../../core/util/log.js';
import { registerProcessMetrics, SelfHistogram, SelfRegistry } from '../../core/selfmon/registry.js';
import { registerTargetsApi } from '../api/targets.js';
import { loadConfig } from '../config/config.js';
import { parseScrapeConfigs, type ScrapeConfig } from '../../metrics/scrape/config.js';
import { ScrapeManager } from '../../metrics/scrape/manager.js';
import { AlertLimitError, AlertRouter, AlertValidationError } from '../../alerting/alertmanager/router.js';
import { RuleLoadError, RuleManager, type RuleManagerOptions } from '../../alerting/rules/manager.js';
import { loadSLOs, sloRuleGroups } from '../../alerting/slo/index.js';
import type { RuleGroupDef } from '../../alerting/rules/file.js';
import { RecordingRule } from '../../alerting/rules/recording.js';
import { logqlLanguage, logqlQueryFn, logqlServiceQueryFn } from '../../alerting/rules/logql.js';
import { registerRulesApi } from '../api/rules.js';
import { registerRuleMetrics } from '../../alerting/rules/metrics.js';
import { labelsToRecord } from '../../core/model/labels.js';
import { LogStore } from '../../logs/store/index.js';
import { registerLogIngest } from '../api/log_ingest.js';
import { registerLokiApi } from '../api/loki.js';
import { LogqlEngine } from '../../logs/logql/engine.js';
import { LocalLogQueryService, type LogQueryService } from '../../logs/query/service.js';
import { RemoteLogQueryService } from '../../logs/query/remote.js';
import { LogForwarder } from '../../logs/forward/index.js';
import { registerUiRoutes } from '../api/ui.js';
import { registerAlertmanagerApi } from '../api/alertmanager.js';
import { registerStorageMetrics } from '../selfmon/storage.js';
import { registerLogMetrics } from '../selfmon/logs.js';
import { registerOtlpGrpcMetrics, registerTraceMetrics } from '../selfmon/traces.js';
import { TraceStore } from '../../traces/store/store.js';
import { createTraceIngestor, registerTraceIngest } from '../api/trace_ingest.js';
import { OtlpGrpcServer } from '../api/otlp_grpc.js';
import { OtlpMetricsIngestor } from '../../metrics/otlp/ingest.js';
import { registerMetricIngest } from '../api/metric_ingest.js';
import { registerOtlpMetricsIngest } from '../selfmon/otlp_metrics.js';
import { registerZipkinIngest } from '../api/zipkin.js';
import { MetricsGenerator } from '../../traces/generators/index.js';
import { TsdbGeneratorSink } from './generator_sink.js';
import { registerGeneratorMetrics } from '../selfmon/trace_generator.js';
import { registerTempoApi } from '../api/tempo.js';
import { registerTempoSearch } from '../api/tempo_search.js';
import { registerTempoTags } from '../api/tempo_tags.js';
import { registerTempoMetrics } from '../api/tempo_metrics.js';
import { registerJaegerApi } from '../api/jaeger.js';
import { lockDir, type DirLock } from '../../core/util/dirlock.js';
import { LimitsReport } from '../selfmon/limits.js';
import { registerLimitsApi } from '../api/limits.js';
import { limitReadings, logLimitsOf, seriesLimitsOf, traceLimitsOf } from '../config/apply_limits.js';
import { buildInfo, registerBuildInfo } from '../selfmon/build_info.js';
import { ExemplarStorage } from '../../metrics/exemplars/storage.js';
import { registerExemplarsApi } from '../api/exemplars.js';
import { registerExemplarMetrics } from '../selfmon/exemplars.js';
import { RemoteWriteSender } from '../../metrics/remotewrite/sender/index.js';
import type { PromQueryService } from '../../metrics/query/service.js';
import { LocalPromQueryService } from '../../metrics/query/local.js';
import { RemotePromQueryService } from '../../metrics/query/remote.js';
import { RemoteReadStore } from '../../metrics/remoteread/store.js';

/** Whether `host` (from `listen`) only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
import { registerLoginRoutes } from '../api/login.js';
import { boundAddress, closeGracefully, createFrontServer, listenOn, registerLifecycleRoutes, webPolicyFor } from './web_server.js';
import { WebFront } from '../api/web_front.js';
import type { Duplex } from 'node:stream';
import { AlertmanagerNotifier } from '../../alerting/notifier/notifier.js';

/** The URL people reach Vigil by (`web.external_url`), else the listen address: the base of links in alerts and notifications. */
function externalUrlOf(config: VigilConfig): string {
  return (config.web.externalUrl ?? `http://${config.listen}`).replace(/\/$/, '');
}

/** A running Vigil: storage, ingest and the HTTP API. */
export class VigilServer {
  readonly db: DB;
  /** OpenMetrics and remote_write exemplars, in a bounded buffer kept across restarts. */
  readonly exemplars: ExemplarStorage;
  readonly log: Logger;
  private readonly receiver: RemoteWriteReceiver;
  private readonly notifier: AlertmanagerNotifier;
  /** OTLP metrics ingest (HTTP and gRPC). */
  readonly otlpMetrics: OtlpMetricsIngestor;
  /** The PromQL engine; rules and the API share it. */
  readonly engine: Engine;
  /** Where PromQL queries, series, labels, metadata and exemplars are answered (`storage.type`). */
  readonly promql: PromQueryService;
  /** Admission of API queries (`query.max_concurrency`, queue, heap). */
  readonly queryGate: QueryGate;
  /** How near the heap is to its limit: queries, new series and log pushes are refused near it. */
  private readonly heap: HeapWatch;
  readonly scrape: ScrapeManager;
  /** `remote_write:`: follows the WAL and sends every sample to the configured receivers. */
  readonly remoteWriteSender: RemoteWriteSender;
  /** Alert routing and notification (Alertmanager semantics); rules notify it in-process. */
  readonly alerts: AlertRouter;
  /** Recording and alerting rules (PromQL). */
  readonly rules: RuleManager;
  /** Log rules: LogQL metric queries, recorded into the TSDB or alerting like any rule. */
  readonly logRules: RuleManager;
  /** The log store behind the Loki API. */
  readonly logs: LogStore;
  /** Where the Loki API and log rules get LogQL answers (`logs.storage.type`). */
  private readonly logQueries: LogQueryService;
  /** Forwards every line the log store accepts to `logs.forward_to` (read from its WAL). */
  readonly logForwarder: LogForwarder;
  /** The trace store behind OTLP trace ingest and the Tempo API. */
  readonly traces: TraceStore;
  private readonly http: http.Server | https.Server;
  private readonly router: Router;
  /** The web configuration file in force (TLS, users, tokens, roles), reread on reload. */
  private readonly front: WebFront;
  /** Called by `POST /-/quit`; the CLI sets it to shut down as on SIGTERM (default: stop the server). */
  onQuit: (() => void) | undefined;
  /** The OTLP/gRPC listener, when `otlp.grpc_listen_address` asks for one. */
  readonly otlpGrpc: OtlpGrpcServer | undefined;
  private otlpGrpcAddress: string | undefined;
  /** Span metrics and the service graph, computed from accepted spans and flushed into the TSDB. */
  readonly traceMetrics: MetricsGenerator;
  /** Open HTTP connections (WebSockets included). */
  readonly openConnections: () => number;
  /** Open live-tail WebSockets. */
  readonly tailClients: () => number;
  private ready = false;
  private config: VigilConfig;
  private readonly configFile: string | undefined;
  private stopping: Promise<void> | undefined;
  /** Whether the last configuration load or reload worked, and when one last did (the first load counts, as in Prometheus). */
  private lastReload: { successful: boolean; lastSuccessMs: number };
  private dirLock: DirLock | undefined;

  constructor(config: VigilConfig, opts: { logger?: Logger; now?: () => number; configFile?: string; flags?: Record<string, string>; version?: string } = {}) {
    this.config = config;
    this.configFile = opts.configFile;
    this.heap = new HeapWatch();
    this.log = opts.logger ?? createLogger();
    this.db = new DB({
      dir: path.resolve(config.storage.path),
      retentionMs: config.storage.retentionMs,
      retentionBytes: config.storage.retentionBytes,
      outOfOrderWindowMs: config.storage.outOfOrderWindowMs,
      decodedChunkCacheBytes: config.storage.decodedChunkCacheBytes,
      logger: this.log.child({ component: 'tsdb' }),
      ...(opts.now ? { now: opts.now } : {}),
      seriesLimits: { ...seriesLimitsOf(config.limits), memoryPressure: () => this.heap.pressure() },
    });
    this.exemplars = new ExemplarStorage({
      maxExemplars: config.storage.maxExemplars,
      dir: path.join(path.resolve(config.storage.path), 'exemplars'),
      logger: this.log.child({ component: 'exemplars' }),
    });
    const metadata = new MetadataStore();
    const receiver = (this.receiver = new RemoteWriteReceiver(this.db, {
      metadata,
      exemplars: this.exemplars,
      ingestionRate: config.limits.ingestion_rate,
      ingestionBurstSize: config.limits.ingestion_burst_size,
      ...(opts.now ? { now: opts.now } : {}),
    }));
    const policy = webPolicyFor(config);
    const router = (this.router = new Router(this.log.child({ component: 'http' }), policy));
    this.front = new WebFront(router, config.web.configFile, { enableAdminApi: config.web.enableAdminApi, enableLifecycle: config.web.enableLifecycle });
    registerLoginRoutes(router, () => router.access);
    registerAdminApi(router, this.db, { started: () => this.ready, writeProblems: () => this.writeProblems() });
    registerWriteApi(router, receiver, { maxBodyBytes: config.remoteWrite.maxBodyBytes });
    // OTLP metrics share remote_write's rate bucket and the head's series limits: one tenant, one budget.
    this.otlpMetrics = new OtlpMetricsIngestor(this.db, {
      translation: {
        translationStrategy: config.otlp.translationStrategy,
        promoteResourceAttributes: config.otlp.promoteResourceAttributes,
        keepIdentifyingResourceAttributes: config.otlp.keepIdentifyingResourceAttributes,
      },
      rate: receiver.rate,
      limitRefusals: receiver.limitRefusals,
      metadata,
      exemplars: this.exemplars,
      ...(opts.now ? { now: opts.now } : {}),
    });
    registerMetricIngest(router, this.otlpMetrics, { maxBytes: config.remoteWrite.maxBodyBytes });
    const now = opts.now ?? Date.now;
    this.engine = new Engine({ now, timeoutMs: config.query.timeoutMs, maxSamples: config.query.maxSamples, memoryPressure: () => this.heap.pressure() });
    // PromQL and LogQL queries, and the metadata calls that scan like them, share one gate: all
    // run on this thread and draw on one heap.
    const gate = (this.queryGate = new QueryGate({
      maxConcurrency: config.query.maxConcurrency,
      queueTimeoutMs: config.query.queueTimeoutMs,
      memoryPressure: () => this.heap.pressure(),
    }));
    // The one source of PromQL answers for the API, rules and SLOs: this TSDB (with the
    // remote_read endpoints merged in), or remote storage.
    const remoteReads = config.remoteRead.map(
      (r) => new RemoteReadStore(r, { externalLabels: config.global.externalLabels, localStartTime: () => this.db.startTime() }),
    );
    const promql = (this.promql =
      config.storage.type === 'remote' && config.storage.remote
        ? new RemotePromQueryService(config.storage.remote)
        : new LocalPromQueryService(
            this.engine,
            this.db,
            metadata,
            this.exemplars,
            { timeoutMs: config.query.timeoutMs, memoryPressure: () => this.heap.pressure() },
            remoteReads,
          ));
    registerQueryApi(router, promql, gate, now);
    registerSeriesApi(router, promql, gate);
    registerMetadataApi(router, promql, gate);
    registerExemplarsApi(router, promql, gate);
    const build = buildInfo(opts.version ?? '0.0.0');
    this.lastReload = { successful: true, lastSuccessMs: now() };
    registerStatusApi(router, this.db, {
      build,
      startedAt: now(),
      configYaml: () => effectiveConfigYaml(this.config),
      lastReload: () => this.lastReload,
      flags: opts.flags ?? {},
      retention: `${Math.round(config.storage.retentionMs / 86_400_000)}d`,
    });
    const selfMetrics = new SelfRegistry();
    registerProcessMetrics(selfMetrics, Date.now());
    registerBuildInfo(selfMetrics, build);
    // Prometheus' prometheus_config_last_reload_* under Vigil's prefix, for the usual "reload failed" alert.
    selfMetrics.register('vigil_config_last_reload_successful', 'gauge', 'Whether the last configuration reload attempt was successful.', () =>
      this.lastReload.successful ? 1 : 0,
    );
    selfMetrics.register(
      'vigil_config_last_reload_success_timestamp_seconds',
      'gauge',
      'Timestamp of the last successful configuration reload.',
      () => this.lastReload.lastSuccessMs / 1000,
    );
    registerStorageMetrics(selfMetrics, this.db, receiver);
    registerOtlpMetricsIngest(selfMetrics, this.otlpMetrics);
    registerExemplarMetrics(selfMetrics, this.exemplars);
    this.remoteWriteSender = new RemoteWriteSender({
      walDir: this.db.walDir,
      stateDir: path.join(path.resolve(config.storage.path), 'remote_write'),
      walSegment: () => this.db.walSegment,
      highestTimestamp: () => this.db.head.maxt,
      metadata: () => metadata.list(),
      onExemplars: (listener) => this.exemplars.onAppended(listener),
      logger: this.log.child({ component: 'remote-write' }),
    });
    // Segments a queue has not sent yet stay out of checkpoints (up to its wal_retention_size).
    this.db.holdWal(() => this.remoteWriteSender.retainFrom());
    this.remoteWriteSender.register(selfMetrics);
    const httpLatency = new SelfHistogram(
      selfMetrics,
      'vigil_http_request_duration_seconds',
      'HTTP request latency by route and status code.',
      ['handler', 'code'],
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    );
    // The status is known once the response is sent (errors are written after the handler returns).
    router.onRequestDone = (route, seconds, res) => res.once('close', () => httpLatency.observe([route, String(res.statusCode)], seconds));
    this.scrape = new ScrapeManager(this.db, {
      logger: this.log.child({ component: 'scrape' }),
      metadata,
      exemplars: this.exemplars,
      ...(opts.now ? { now: opts.now } : {}),
    });
    registerTargetsApi(router, this.scrape);
    for (const w of [...config.warnings, ...config.alertmanager.warnings]) this.log.warn(w);
    this.alerts = new AlertRouter({
      dataDir: path.join(path.resolve(config.storage.path), 'alertmanager'),
      config: config.alertmanager,
      logger: this.log.child({ component: 'alertmanager' }),
      externalURL: externalUrlOf(config),
      limits: { maxAlerts: config.limits.max_alerts, maxSilences: config.limits.max_silences },
    });
    registerAlertmanagerApi(router, this.alerts, opts.version);
    this.alerts.register(selfMetrics);
    this.logs = new LogStore({
      dir: path.join(path.resolve(config.storage.path), 'logs'),
      retentionMs: config.storage.retentionMs,
      retentionBytes: config.storage.retentionBytes,
      log: this.log.child({ component: 'logs' }),
      maxStreams: config.limits.max_streams,
    });
    const logIngest = registerLogIngest(router, this.logs, {
      limits: logLimitsOf(config.limits),
      memoryPressure: () => this.heap.pressure(),
      ...(opts.now ? { now: opts.now } : {}),
    });
    const limits = new LimitsReport(limitReadings(config.limits, this.db, receiver, this.logs, this.alerts), [
      this.db.head.limitRefusals,
      receiver.limitRefusals,
      logIngest.limitRefusals,
      () => [
        ['max_alerts', this.alerts.alertsRefused],
        ['max_silences', this.alerts.silences.refused],
      ],
    ]);
    limits.register(selfMetrics);
    registerLimitsApi(router, limits);
    // One LogQL engine serves the Loki API and the log rules.
    const logql = new LogqlEngine(this.logs, { timeoutMs: config.query.timeoutMs, maxBytesRead: config.query.maxBytesRead, now });
    // The one source of LogQL answers for the Loki API, the UI and log rules: this store, or remote storage.
    const logStorage = config.logs.storage;
    this.logQueries =
      logStorage.type === 'remote' && logStorage.remote ? new RemoteLogQueryService(logStorage.remote) : new LocalLogQueryService(this.logs, logql);
    this.logQueries.register(selfMetrics);
    const loki = registerLokiApi(router, this.logQueries, {
      build,
      gate,
      // Loki's /ready says what /-/ready says: not started yet, or why writes are refused.
      notReady: () => (this.ready ? this.writeProblems().join('; ') || undefined : 'starting'),
    });
    registerLogMetrics(selfMetrics, this.logs, logIngest);
    this.logForwarder = new LogForwarder({
      source: this.logs,
      stateDir: path.join(path.resolve(config.storage.path), 'log_forward'),
      logger: this.log.child({ component: 'log-forward' }),
    });
    // WAL segments a forwarder has not sent stay through the store's checkpoints and restarts.
    this.logs.holdWal(() => this.logForwarder.retainFrom());
    this.logForwarder.register(selfMetrics);
    this.traces = new TraceStore({
      dir: path.join(path.resolve(config.storage.path), 'traces'),
      retentionMs: config.storage.retentionMs,
      retentionBytes: config.storage.retentionBytes,
      logger: this.log.child({ component: 'traces' }),
      maxSpansPerTrace: config.limits.max_spans_per_trace,
      ...(opts.now ? { now: opts.now } : {}),
    });
    const traceIngestor = createTraceIngestor(this.traces, { limits: traceLimitsOf(config.limits), ...(opts.now ? { now: opts.now } : {}) });
    const traceIngest = registerTraceIngest(router, this.traces, { ingestor: traceIngestor });
    registerZipkinIngest(router, traceIngestor);
    if (config.otlp.grpcListenAddress) {
      this.otlpGrpc = new OtlpGrpcServer({
        address: config.otlp.grpcListenAddress,
        traces: traceIngestor,
        logs: this.logs,
        metrics: this.otlpMetrics,
        logLimits: logLimitsOf(config.limits),
        maxMessageBytes: config.otlp.grpcMaxMessageBytes,
        ...(opts.now ? { now: opts.now } : {}),
        logger: this.log.child({ component: 'otlp-grpc' }),
        authorize: (authorization, route) => this.front.grpcAccess(authorization, route),
      });
    }
    registerTraceMetrics(selfMetrics, this.traces, traceIngest, registerTempoApi(router, this.traces));
    if (this.otlpGrpc) registerOtlpGrpcMetrics(selfMetrics, this.otlpGrpc.stats);
    registerTempoSearch(router, this.traces, build);
    registerTempoTags(router, this.traces);
    registerTempoMetrics(router, this.traces, { now });
    registerJaegerApi(router, this.traces, { now });
    // Fed after the WAL write, written through the TSDB's Appendable like any ingest: the series are then PromQL's like any other.
    this.traceMetrics = new MetricsGenerator(
      config.traces.metricsGenerator,
      new TsdbGeneratorSink(this.db, this.log.child({ component: 'trace-metrics' }), this.exemplars),
      opts.now ?? Date.now,
    );
    this.traces.onAccepted((spans) => this.traceMetrics.push(spans));
    registerGeneratorMetrics(selfMetrics, this.traceMetrics);
    gate.register(selfMetrics);
    this.promql.register(selfMetrics);
    // The limit set from memory_budget (bin/vigil.js): queries and new series are refused near it.
    selfMetrics.register('nodejs_heap_size_limit_bytes', 'gauge', 'V8 heap limit, in bytes.', () => getHeapStatistics().heap_size_limit);
    const db = this.db;
    // External Alertmanagers (`alerting:`), sent to beside (or, with builtin_router: false, instead of) the built-in one.
    this.notifier = new AlertmanagerNotifier(config.alerting, { logger: this.log.child({ component: 'notifier' }) });
    this.notifier.register(selfMetrics);
    // Both rule managers write into the TSDB and notify the router in-process.
    const ruleOptions: Omit<RuleManagerOptions, 'queryFn'> = {
      notifyFn: (alerts) => {
        this.notifier.send(alerts);
        if (!this.config.alerting.builtinRouter) return;
        try {
          this.alerts.receive(alerts, { fromRules: true });
        } catch (err) {
          if (err instanceof AlertValidationError || err instanceof AlertLimitError) this.log.warn('rule alerts rejected by the router', { err });
          else throw err;
        }
      },
      appendable: db,
      evaluationIntervalMs: config.global.evaluationIntervalMs,
      externalLabels: labelsToRecord(config.global.externalLabels),
      externalURL: externalUrlOf(config),
      baseDir: config.baseDir,
    };
    // Rules and SLOs read through the same query service as the API (local: in time slices; remote:
    // over HTTP). The template `query` function needs an answer at once and takes the synchronous
    // path, which a remote refuses with a clear error text rather than blocking.
    const promqlRules: QueryFn = Object.assign(
      async (expr: string, t: number, signal?: AbortSignal) => (await promql.instant(expr, t, signal ? { signal } : {})).result,
      { sync: (expr: string, t: number) => promql.instantSync(expr, t).result },
    );
    const engine = this.engine;
    this.rules = new RuleManager({
      ...ruleOptions,
      queryFn: promqlRules,
      // ALERTS_FOR_STATE is written to this TSDB in either storage mode, so it is read back from here.
      restoreQueryFn: async (expr: string, t: number, signal?: AbortSignal) => (await engine.instantQueryAsync(db, expr, t, signal ? { signal } : {})).result,
      logger: this.log.child({ component: 'rules' }),
    });
    this.logRules = new RuleManager({
      ...ruleOptions,
      queryFn: this.logQueries instanceof RemoteLogQueryService ? logqlServiceQueryFn(this.logQueries) : logqlQueryFn(logql),
      language: logqlLanguage,
      logger: this.log.child({ component: 'log-rules' }),
    });
    // /api/v1/rules lists both kinds; Loki's ruler paths list the log rules, as Grafana's Loki data source expects.
    registerRulesApi(router, { groups: () => [...this.rules.groups(), ...this.logRules.groups()] });
    registerRulesApi(router, this.logRules, '/prometheus');
    registerRuleMetrics(selfMetrics, [this.rules, this.logRules]);
    this.scrape.register(selfMetrics);
    registerLifecycleRoutes(
      router,
      () => this.reload(),
      () => (this.onQuit ?? (() => void this.stop()))(),
    );
    registerUiRoutes(router, { externalUrl: () => this.config.web.externalUrl });
    router.on('GET', '/metrics', () => ({ kind: 'raw', status: 200, body: selfMetrics.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }));
    ({ server: this.http, openConnections: this.openConnections } = createFrontServer(this.front, router, config, this.log));
    this.tailClients = loki.tailClients;
    // Both are bounded (web.max_connections, 32 tails); a gauge near its bound says clients are being turned away.
    selfMetrics.register('vigil_http_open_connections', 'gauge', 'Open HTTP connections, WebSockets included.', () => this.openConnections());
    selfMetrics.register('vigil_loki_tail_clients', 'gauge', 'Open live-tail WebSockets.', () => this.tailClients());
    // Live tail (/loki/api/v1/tail) is a WebSocket; anything else asking to upgrade is refused. A
    // browser always sends Origin on a WebSocket handshake, and no CORS protects the stream.
    this.http.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const refusal = policy.checkHost(req.headers) ?? policy.checkOrigin(req.headers);
      if (refusal) {
        socket.end(
          `HTTP/1.1 ${refusal.status} ${http.STATUS_CODES[refusal.status]}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${refusal.message}\n`,
        );
        return;
      }
      // The tail needs the read role like any query: a session cookie or an Authorization header.
      this.front.upgrade(req, socket, () => {
        if (!loki.upgrade(req, socket, head)) socket.destroy();
      });
    });
  }

  /**
   * Locks the data directory, opens storage (replaying the WAL), then listens. A start that fails
   * (directory in use, port taken, unreadable storage) closes whatever it opened, releases the lock
   * and throws, so nothing keeps the data files open.
   */
  async start(): Promise<void> {
    this.dirLock = lockDir(path.resolve(this.config.storage.path));
    try {
      await this.startLocked();
    } catch (err) {
      await this.closeAll().catch((closeErr: unknown) => this.log.error('cleanup after a failed start failed', { err: closeErr }));
      throw err;
    }
  }

  private async startLocked(): Promise<void> {
    await this.db.start();
    this.exemplars.start();
    this.receiver.start();
    // The forwarders first, so the store's start-up cleanup keeps the WAL segments they have not sent.
    await this.logForwarder.apply(this.config.logs.forwardTo);
    // Also starts the store's own periodic tick (sealing old heads, retention, compaction).
    for (const repair of this.logs.start()) this.log.warn(repair);
    this.logForwarder.start();
    // Replays the trace WAL into the head (repairs are logged by the store).
    this.traces.start();
    this.traceMetrics.start();
    await listenOn(this.http, this.config.listen);
    if (this.otlpGrpc) {
      this.otlpGrpcAddress = await this.otlpGrpc.start();
      this.log.info('OTLP/gRPC is listening', { address: this.otlpGrpcAddress });
    }
    await this.remoteWriteSender.apply(this.config.remoteWriteTo, this.config.global.externalLabels);
    this.scrape.applyConfig(this.scrapeConfigs(this.config));
    await this.alerts.start();
    this.notifier.start();
    await this.applyRules(this.config);
    if (this.config.storage.type === 'remote') this.logRemoteStorage();
    if (this.config.logs.storage.type === 'remote')
      this.log.info(
        'LogQL queries, labels and series are answered by remote storage; log ingest still writes the local store (forward it with logs.forward_to)',
        {
          url: this.logQueries.name,
        },
      );
    this.rules.start();
    this.logRules.start();
    await this.scrape.start();
    this.ready = true;
    this.log.info('Vigil is listening', { address: `http://${this.address()}`, data: this.db.dir });
    if (!isLoopback(parseListen(this.config.listen).host) && !this.front.authConfigured) {
      // Without a web configuration whoever reaches the port can write data and silence alerts.
      this.log.warn(
        'listening on a non-loopback address without authentication: anyone who can reach it can read and write data and silence alerts; set --web.config.file (users or tokens, and TLS), bind 127.0.0.1, or put an authenticating proxy in front',
        { address: this.config.listen },
      );
    }
  }

  /** Says where queries go, and what remote storage cannot see: the recording rules' results, written to this TSDB. */
  private logRemoteStorage(): void {
    this.log.info('PromQL queries, series, labels, metadata and exemplars are answered by remote storage', { url: this.promql.name });
    const recording = this.rules.groups().reduce((n, g) => n + g.rules.filter((r) => r instanceof RecordingRule).length, 0);
    if (recording > 0)
      this.log.warn(
        `${recording} recording rules (SLO rules included) write their results to the local TSDB, which queries in remote storage mode do not read: forward them to the remote with remote_write, or the queries, SLO pages and rules that read them find nothing`,
        { url: this.promql.name },
      );
  }

  /** Why a store is refusing writes (full disk, I/O error), prefixed with the store; empty when none. */
  writeProblems(): string[] {
    const out: string[] = [];
    const metrics = this.db.writeProblem();
    if (metrics) out.push(`metrics storage: ${metrics}`);
    const logs = this.logs.writeProblem();
    if (logs) out.push(`log storage: ${logs}`);
    const traces = this.traces.writeProblem();
    if (traces) out.push(`trace storage: ${traces}`);
    return out;
  }

  /** The configured scrape jobs, plus Vigil scraping itself unless turned off or already listed. */
  private scrapeConfigs(cfg: VigilConfig): ScrapeConfig[] {
    const jobs = [...cfg.scrapeConfigs];
    if (cfg.selfScrape && !jobs.some((j) => j.jobName === 'vigil')) {
      const addr = this.address().replace(/^0\.0\.0\.0:|^\[::\]:/, '127.0.0.1:');
      jobs.push(...parseScrapeConfigs([this.front.selfScrapeJob(addr)], cfg.global, process.cwd()));
    }
    return jobs;
  }

  /**
   * Rereads the configuration file and applies what can change at run time (scrape jobs). A bad
   * file throws and leaves the running configuration as it was.
   */
  async reload(): Promise<void> {
    try {
      await this.reloadConfig();
    } catch (err) {
      this.lastReload = { ...this.lastReload, successful: false };
      throw err;
    }
    this.lastReload = { successful: true, lastSuccessMs: Date.now() };
  }

  private async reloadConfig(): Promise<void> {
    if (!this.configFile) {
      this.front.apply(this.front.reread());
      this.scrape.applyConfig(this.scrapeConfigs(this.config));
      await this.applyRules(this.config);
      return;
    }
    const next = loadConfig(this.configFile);
    const web = this.front.reread();
    // Rules first: a bad rule file refuses the whole reload before anything changed.
    await this.applyRules(next);
    this.front.apply(web);
    this.scrape.applyConfig(this.scrapeConfigs(next));
    this.alerts.applyConfig(next.alertmanager);
    this.notifier.applyConfig(next.alerting);
    await this.remoteWriteSender.apply(next.remoteWriteTo, next.global.externalLabels);
    await this.logForwarder.apply(next.logs.forwardTo);
    // Like the listen address, which web configuration file and which switches are used is fixed at start (flags may have set them).
    this.config = { ...next, listen: this.config.listen, storage: this.config.storage, remoteRead: this.config.remoteRead, web: this.config.web };
    this.log.info('configuration reloaded', { file: this.configFile });
  }

  /** Loads every rule file of `cfg` and applies them only when all are valid (else throws RuleLoadError). */
  private async applyRules(cfg: VigilConfig): Promise<void> {
    // SLOs become rule groups of the PromQL manager, listed and reloaded with the rule files.
    const slos = loadSLOs(cfg.sloFiles, cfg.baseDir, cfg.slos);
    const sloGroups = sloRuleGroups(slos.slos, slos.windows);
    if (slos.errors.length + sloGroups.errors.length > 0) throw new RuleLoadError([...slos.errors, ...sloGroups.errors]);
    const defs: [RuleManager, RuleGroupDef[]][] = [
      [this.rules, [...this.rules.loadFiles(cfg.ruleFiles), ...sloGroups.groups]],
      [this.logRules, this.logRules.loadFiles(cfg.logRuleFiles)],
    ];
    for (const [m, d] of defs) await m.applyGroups(d);
  }

  /** Every route the HTTP API serves (for the test that walks them all). */
  routes(): Array<{ method: string; route: string }> {
    return this.router.routeList();
  }

  /** The bound OTLP/gRPC HOST:PORT once started, or undefined when the listener is off. */
  grpcAddress(): string | undefined {
    return this.otlpGrpcAddress;
  }

  /** The bound `host:port`. */
  address(): string {
    return boundAddress(this.http);
  }

  /** Stops accepting requests, lets in-flight ones finish (up to `graceMs`), then closes storage. Idempotent. */
  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false;
      await closeGracefully(this.http, graceMs);
      await this.closeAll();
      this.log.info('Vigil stopped');
    })();
    return this.stopping;
  }

  /** Stops every component and closes storage, then releases the data directory. */
  private async closeAll(): Promise<void> {
    if (!this.dirLock) return;
    await this.scrape.stop();
    await this.rules.stop();
    await this.logRules.stop();
    // After the rules: their last sends go out before discovery stops.
    await this.notifier.stop();
    await this.alerts.stop();
    await this.otlpGrpc?.stop();
    await this.receiver.stop();
    // Before the log store closes its WAL: the forwarders save how far the receivers have taken it.
    await this.logForwarder.stop();
    this.logs.stop();
    // Before the TSDB closes: its last flush goes in.
    this.traceMetrics.stop();
    this.traces.stop();
    this.heap.close();
    // Before the TSDB closes its WAL: the queues save how far the receivers have taken it.
    await this.remoteWriteSender.stop();
    this.promql.close();
    this.logQueries.close();
    await this.db.stop();
    this.exemplars.stop();
    this.dirLock.release();
    this.dirLock = undefined;
  }
}

/**
 * The scrape manager: one pool per `scrape_configs` job, each with its discovery, its targets and
 * one loop per target. `applyConfig` reloads without losing data: pools whose config is unchanged
 * are left alone; a changed pool hands each surviving target's staleness state to its new loop;
 * targets that disappear end with staleness markers.
 */
import type { MetadataStore } from '../metadata.js';
import type { ExemplarStorage } from '../exemplars/storage.js';
import type { Labels } from '../../core/model/labels.js';
import { compileRelabel } from '../relabel/relabel.js';
import type { SelfRegistry, SelfSample } from '../../core/selfmon/registry.js';
import type { Appendable } from '../storage/interface.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import type { ScrapeConfig, TargetGroup } from './config.js';
import { discovererFor, type Discoverer, type SdMechanism } from './discovery.js';
import { ScrapeLoop, ScrapeStats, type LoopSettings } from './loop.js';
import { acceptHeader, protocolFormat } from './parser/index.js';
import { schemaForFactor } from './histogram_limits.js';
import { buildTargets, type DroppedTarget, type Target, type TargetConfig } from './target.js';
import { httpTransport, type ScrapeTransport, type TransportFactory } from './transport.js';

/** Options for {@link ScrapeManager}. */
export interface ScrapeManagerOptions {
  readonly logger?: Logger;
  /** Clock for sample timestamps, in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** How pools fetch; default node:http(s) with each config's auth and TLS. */
  readonly transport?: TransportFactory;
  /** Receives scraped metadata too, for `/api/v1/metadata`. */
  readonly metadata?: MetadataStore;
  /** Mixed into every target's scrape offset. */
  readonly offsetSeed?: number;
  /** Where OpenMetrics exemplars go; without it they are ignored. */
  readonly exemplars?: ExemplarStorage;
  /** Builds the discoverer of a config; default static + file_sd. For tests. */
  readonly discoverer?: (cfg: ScrapeConfig) => Discoverer;
}

/** An active target as the targets API needs it. */
export interface ActiveTarget {
  readonly scrapePool: string;
  readonly target: Target;
  readonly loop: ScrapeLoop;
}

/** A dropped target of a pool. */
export interface PoolDroppedTarget extends DroppedTarget {
  readonly scrapePool: string;
}

/** The per-loop settings a scrape config implies. */
export function settingsOf(cfg: ScrapeConfig): LoopSettings {
  return {
    honorLabels: cfg.honorLabels,
    honorTimestamps: cfg.honorTimestamps,
    sampleLimit: cfg.sampleLimit,
    labelLimit: cfg.labelLimit,
    labelNameLengthLimit: cfg.labelNameLengthLimit,
    labelValueLengthLimit: cfg.labelValueLengthLimit,
    bodySizeLimit: cfg.bodySizeLimit,
    metricRelabel: compileRelabel(cfg.metricRelabelConfigs),
    acceptHeader: acceptHeader(cfg.scrapeProtocols),
    ...(cfg.fallbackScrapeProtocol ? { fallbackFormat: protocolFormat(cfg.fallbackScrapeProtocol) } : {}),
    histogramLimits: { bucketLimit: cfg.nativeHistogramBucketLimit, maxSchema: schemaForFactor(cfg.nativeHistogramMinBucketFactor) },
    histograms: {
      nativeHistograms: cfg.scrapeNativeHistograms,
      keepClassicHistograms: cfg.alwaysScrapeClassicHistograms,
      convertClassicToNhcb: cfg.convertClassicHistogramsToNhcb,
    },
  };
}

/** Everything of a config except where its targets come from. */
function settingsKey(cfg: ScrapeConfig): string {
  return JSON.stringify({ ...cfg, staticConfigs: undefined, fileSdConfigs: undefined, httpSdConfigs: undefined, dnsSdConfigs: undefined });
}

function discoveryKey(cfg: ScrapeConfig): string {
  return JSON.stringify([cfg.staticConfigs, cfg.fileSdConfigs, cfg.httpSdConfigs, cfg.dnsSdConfigs]);
}

/** The targets and loops of one job. */
class ScrapePool {
  readonly loops = new Map<string, ScrapeLoop>();
  dropped: DroppedTarget[] = [];
  private readonly settings: LoopSettings;
  private readonly targetCfg: TargetConfig;
  private readonly transport: ScrapeTransport;
  private discoverer: Discoverer;
  private predecessor: ScrapePool | undefined;
  private running = false;
  private stopped = false;
  /** Loops being stopped (removed targets), awaited by {@link ScrapePool.stop}. */
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    public cfg: ScrapeConfig,
    private readonly m: ScrapeManager,
    readonly stats: ScrapeStats,
    predecessor: ScrapePool | undefined,
  ) {
    this.settings = settingsOf(cfg);
    this.targetCfg = { ...cfg, relabel: compileRelabel(cfg.relabelConfigs) };
    this.transport = m.transportFactory(cfg);
    this.discoverer = m.discovererFactory(cfg);
    this.predecessor = predecessor;
  }

  /**
   * Starts discovery (targets appear at once for static and file_sd configs). Resolves when the
   * predecessor's loops have all stopped.
   */
  open(): Promise<void> {
    this.discoverer.start((groups) => this.sync(groups));
    // Targets the new config no longer has were not taken over by sync: end them now.
    const pred = this.predecessor;
    this.predecessor = undefined;
    if (pred) for (const loop of pred.loops.values()) this.retire(loop, true);
    return Promise.all([...this.retiring]).then(() => undefined);
  }

  /** Only the targets changed: swap discovery and keep every loop whose target remains. */
  replaceDiscovery(cfg: ScrapeConfig): void {
    this.discoverer.stop();
    this.cfg = cfg;
    this.discoverer = this.m.discovererFactory(cfg);
    this.discoverer.start((groups) => this.sync(groups));
  }

  startLoops(): void {
    this.running = true;
    for (const l of this.loops.values()) l.start();
  }

  private retire(loop: ScrapeLoop, stale: boolean): void {
    const p = loop.stop(stale);
    this.retiring.add(p);
    void p.finally(() => this.retiring.delete(p));
  }

  /** Brings the loops in line with the discovered groups. */
  sync(groups: readonly TargetGroup[]): void {
    if (this.stopped) return;
    const { active, dropped } = buildTargets(groups, this.targetCfg);
    this.dropped = dropped;
    const keep = new Set<string>();
    for (const t of active) {
      keep.add(t.key);
      if (this.loops.has(t.key)) continue;
      const loop = this.m.newLoop(t, this.settings, this.transport, this.stats);
      const old = this.predecessor?.loops.get(t.key);
      if (old) {
        // Same target under a changed config: the new loop continues the old one's series.
        this.predecessor!.loops.delete(t.key);
        loop.inherit(old.state());
        this.retire(old, false);
      }
      this.loops.set(t.key, loop);
      if (this.running) loop.start();
    }
    for (const [key, loop] of this.loops) {
      if (keep.has(key)) continue;
      this.loops.delete(key);
      this.retire(loop, true);
    }
  }

  /** Stops discovery and every loop; `stale` writes end-of-target staleness markers. */
  async stop(stale: boolean): Promise<void> {
    this.stopped = true;
    this.discoverer.stop();
    for (const loop of this.loops.values()) this.retire(loop, stale);
    this.loops.clear();
    await Promise.all([...this.retiring]);
    this.transport.close();
  }

  /** Stops discovery only; the successor pool stops or takes over the loops, then the connections close. */
  async handOver(loopsStopped: Promise<void>): Promise<void> {
    this.stopped = true;
    this.discoverer.stop();
    await loopsStopped;
    await Promise.all([...this.retiring]);
    this.transport.close();
  }
}

/** Runs every scrape pool. */
export class ScrapeManager {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly sharedMetadata: MetadataStore | undefined;
  private readonly exemplars: ExemplarStorage | undefined;
  private readonly offsetSeed: number;
  /** @internal */
  readonly transportFactory: TransportFactory;
  /** @internal */
  readonly discovererFactory: (cfg: ScrapeConfig) => Discoverer;
  private pools = new Map<string, ScrapePool>();
  /** Counters per job, kept across reloads so they never go down. */
  private readonly statsByJob = new Map<string, ScrapeStats>();
  private running = false;
  private stopping: Promise<void> | undefined;
  private readonly pending = new Set<Promise<void>>();
  /** Config reloads applied, for self-monitoring. */
  reloads = 0;
  /** Service discovery failures by mechanism, kept across reloads (Prometheus' `prometheus_sd_*_failures_total`). */
  readonly sdFailures: Record<SdMechanism, number> = { file: 0, http: 0, dns: 0 };

  constructor(
    private readonly appendable: Appendable,
    opts: ScrapeManagerOptions = {},
  ) {
    this.log = opts.logger ?? nopLogger;
    this.now = opts.now ?? Date.now;
    this.sharedMetadata = opts.metadata;
    this.exemplars = opts.exemplars;
    this.offsetSeed = opts.offsetSeed ?? 0;
    this.transportFactory = opts.transport ?? httpTransport;
    this.discovererFactory =
      opts.discoverer ??
      ((cfg) => discovererFor(cfg, { logger: this.log.child({ component: 'discovery', job: cfg.jobName }), onFailure: (m) => this.sdFailures[m]++ }));
  }

  /** @internal Builds a loop with the manager's shared settings. */
  newLoop(target: Target, settings: LoopSettings, transport: ScrapeTransport, stats: ScrapeStats): ScrapeLoop {
    return new ScrapeLoop({
      target,
      settings,
      transport,
      stats,
      appendable: this.appendable,
      now: this.now,
      logger: this.log,
      offsetSeed: this.offsetSeed,
      ...(this.sharedMetadata ? { sharedMetadata: this.sharedMetadata } : {}),
      ...(this.exemplars ? { exemplars: this.exemplars } : {}),
    });
  }

  /**
   * Applies validated scrape configs (from `parseScrapeConfigs`). Unchanged jobs keep running
   * untouched; jobs whose targets alone changed keep the loops of the targets that remain; changed jobs are rebuilt with their surviving targets' state carried over; removed
   * jobs stop with staleness markers. Static and file targets are discovered before this returns; HTTP and DNS ones when their first refresh answers.
   */
  applyConfig(configs: readonly ScrapeConfig[]): void {
    if (this.stopping) return;
    this.reloads++;
    const next = new Map<string, ScrapePool>();
    for (const cfg of configs) {
      const old = this.pools.get(cfg.jobName);
      if (old && settingsKey(old.cfg) === settingsKey(cfg)) {
        if (discoveryKey(old.cfg) !== discoveryKey(cfg)) old.replaceDiscovery(cfg);
        next.set(cfg.jobName, old);
        continue;
      }
      const pool = new ScrapePool(cfg, this, this.statsFor(cfg.jobName), old);
      const handedOver = pool.open();
      if (this.running) pool.startLoops();
      if (old) this.track(old.handOver(handedOver));
      next.set(cfg.jobName, pool);
    }
    for (const [job, pool] of this.pools) if (!next.has(job)) this.track(pool.stop(true));
    this.pools = next;
    this.log.info('scrape configuration applied', { jobs: configs.length, targets: this.activeTargets().length });
  }

  private statsFor(job: string): ScrapeStats {
    let s = this.statsByJob.get(job);
    if (!s) this.statsByJob.set(job, (s = new ScrapeStats()));
    return s;
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Starts every loop on its slot in the interval. Idempotent. */
  start(): Promise<void> {
    if (this.running || this.stopping) return Promise.resolve();
    this.running = true;
    for (const pool of this.pools.values()) pool.startLoops();
    return Promise.resolve();
  }

  /**
   * Stops discovery and every loop, waiting for scrapes in flight to be cancelled. Writes no
   * staleness markers: the targets did not go away, Vigil did. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      const all = [...this.pools.values()].map((p) => p.stop(false));
      await Promise.all([...all, ...this.pending]);
      this.pools.clear();
    })();
    return this.stopping;
  }

  /** Scrapes every active target once now and waits for all of them; for tests and tools. */
  async scrapeNow(): Promise<void> {
    await Promise.all(this.activeTargets().map((t) => t.loop.scrapeOnce()));
  }

  /** Waits for stopping loops of removed targets (their staleness markers) to finish. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** The active targets, by pool name then scrape URL. */
  activeTargets(): ActiveTarget[] {
    const out: ActiveTarget[] = [];
    for (const [scrapePool, pool] of [...this.pools].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      const loops = [...pool.loops.values()].sort((a, b) => (a.target.url < b.target.url ? -1 : a.target.url > b.target.url ? 1 : 0));
      for (const loop of loops) out.push({ scrapePool, target: loop.target, loop });
    }
    return out;
  }

  /** Targets dropped by relabeling or invalid, by pool name. */
  droppedTargets(): PoolDroppedTarget[] {
    const out: PoolDroppedTarget[] = [];
    for (const [scrapePool, pool] of [...this.pools].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      for (const d of pool.dropped) out.push({ ...d, scrapePool });
    }
    return out;
  }

  /** The configured job names, sorted. */
  scrapePools(): string[] {
    return [...this.pools.keys()].sort();
  }

  /** Registers the scrape pool metrics on Vigil's own `/metrics`. */
  register(reg: SelfRegistry): void {
    const perJob = (f: (s: ScrapeStats) => number) => (): SelfSample[] =>
      [...this.statsByJob].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([job, s]) => ({ labels: { scrape_job: job }, value: f(s) }));
    reg.register('vigil_target_scrape_pools', 'gauge', 'Configured scrape pools.', () => this.pools.size);
    reg.register('vigil_target_scrape_pool_targets', 'gauge', 'Active targets per scrape pool.', () =>
      [...this.pools].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([job, p]) => ({ labels: { scrape_job: job }, value: p.loops.size })),
    );
    reg.register('vigil_target_scrape_pool_dropped_targets', 'gauge', 'Targets dropped by relabeling per scrape pool.', () =>
      [...this.pools].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([job, p]) => ({ labels: { scrape_job: job }, value: p.dropped.length })),
    );
    reg.register('vigil_target_scrape_pool_reloads_total', 'counter', 'Scrape configuration reloads applied.', () => this.reloads);
    // Prometheus' names after the prefix: prometheus_sd_file_read_errors_total and so on.
    reg.register('vigil_sd_file_read_errors_total', 'counter', 'file_sd files that could not be read or parsed.', () => this.sdFailures.file);
    reg.register('vigil_sd_http_failures_total', 'counter', 'http_sd refreshes that failed (the last good targets were kept).', () => this.sdFailures.http);
    reg.register('vigil_sd_dns_lookup_failures_total', 'counter', 'dns_sd lookups that failed (the last good targets were kept).', () => this.sdFailures.dns);
    reg.register(
      'vigil_target_scrapes_total',
      'counter',
      'Scrapes attempted.',
      perJob((s) => s.scrapes),
    );
    reg.register(
      'vigil_target_scrapes_failed_total',
      'counter',
      'Scrapes that failed (target down).',
      perJob((s) => s.failed),
    );
    reg.register(
      'vigil_target_scrapes_missed_total',
      'counter',
      'Scheduled scrapes skipped because Vigil fell behind.',
      perJob((s) => s.missed),
    );
    reg.register(
      'vigil_target_scrapes_exceeded_sample_limit_total',
      'counter',
      'Scrapes failed for exceeding sample_limit.',
      perJob((s) => s.exceededSampleLimit),
    );
    reg.register(
      'vigil_target_scrapes_exceeded_body_size_limit_total',
      'counter',
      'Scrapes failed for exceeding body_size_limit.',
      perJob((s) => s.exceededBodySizeLimit),
    );
    reg.register(
      'vigil_target_scrapes_sample_out_of_order_total',
      'counter',
      'Scraped samples rejected as out of order.',
      perJob((s) => s.samplesOutOfOrder),
    );
    reg.register(
      'vigil_target_scrapes_sample_duplicate_timestamp_total',
      'counter',
      'Scraped samples rejected as duplicates with another value.',
      perJob((s) => s.samplesDuplicate),
    );
    reg.register(
      'vigil_target_scrapes_sample_out_of_bounds_total',
      'counter',
      'Scraped samples rejected as too old.',
      perJob((s) => s.samplesOutOfBounds),
    );
  }

  /** Per-target metadata, for `/api/v1/targets/metadata`. */
  targetMetadata(): Array<{ labels: Labels; metadata: MetadataStore }> {
    return this.activeTargets().map((t) => ({ labels: t.target.labels, metadata: t.loop.metadata }));
  }
}

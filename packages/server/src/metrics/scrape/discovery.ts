/**
 * Target discovery: `static_configs` and `file_sd_configs` (Prometheus' `discovery/file`); the
 * polling discoverers (`http_sd_configs`, `dns_sd_configs`) are in ./sd_refresh.ts. A file
 * holds a JSON or YAML list of target groups; files are found by glob, watched with `fs.watch`
 * and re-read every `refresh_interval` (a watch can miss events on some filesystems). A file that
 * cannot be read or parsed keeps its last good groups and logs an error, so a half-written file
 * never empties a job.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../../core/util/log.js';
import { nopLogger } from '../../core/util/log.js';
import { formatPath, parseTargetGroup, ScrapeConfigError, type FileSdConfig, type ScrapeConfig, type TargetGroup } from './config.js';
import { DnsDiscoverer, HttpDiscoverer } from './sd_refresh.js';

/** Receives the complete current set of groups of one provider whenever it changes. */
export type GroupsListener = (groups: readonly TargetGroup[]) => void;

/** A source of target groups with a lifecycle. */
export interface Discoverer {
  /** Starts discovery; `onUpdate` is called at once with the first groups, then on every change. */
  start(onUpdate: GroupsListener): void;
  /** Stops watching. Idempotent. */
  stop(): void;
}

/** Fixed groups from `static_configs`. */
export class StaticDiscoverer implements Discoverer {
  constructor(private readonly groups: readonly TargetGroup[]) {}
  start(onUpdate: GroupsListener): void {
    onUpdate(this.groups);
  }
  stop(): void {}
}

/** The discovery mechanisms whose failures are counted on /metrics. */
export type SdMechanism = 'file' | 'http' | 'dns';

/** Options every discoverer takes. */
export interface DiscovererOptions {
  readonly logger?: Logger;
  /** Called once per failure (a file that cannot be read, a failed HTTP refresh, a failed DNS lookup). */
  readonly onFailure?: (mechanism: SdMechanism) => void;
}

/** Options for {@link FileDiscoverer}. */
export interface FileDiscovererOptions extends DiscovererOptions {
  /** Coalesces bursts of watch events (an editor's save is several). Default 100 ms. */
  readonly debounceMs?: number;
}

/** Prometheus' file_sd meta label: the file a target came from. */
export const META_FILEPATH = '__meta_filepath';

/** Reads the target groups of one file_sd file; throws with a readable message on bad content. */
export function readTargetGroupFile(file: string): TargetGroup[] {
  const text = fs.readFileSync(file, 'utf8');
  const ext = path.extname(file).toLowerCase();
  let raw: unknown;
  try {
    raw = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`${file}: invalid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) throw new Error(`${file}: expected a list of target groups`);
  return raw.map((g: unknown, i) => {
    try {
      const tg = parseTargetGroup([i], g, `${file}:${i}`);
      return { ...tg, labels: { ...tg.labels, [META_FILEPATH]: file } };
    } catch (err) {
      if (err instanceof ScrapeConfigError) throw new Error(`${file}: ${formatPath(err.path)}: ${err.detail}`);
      throw err;
    }
  });
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const c of glob) re += c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[\\^$.+()[\]{}|]/g, '\\$&');
  return new RegExp(`^${re}$`);
}

/** The files matching `pattern` (a `*` only in the last element), sorted. */
export function expandGlob(pattern: string): string[] {
  if (!pattern.includes('*') && !pattern.includes('?')) return fs.existsSync(pattern) ? [pattern] : [];
  const dir = path.dirname(pattern);
  const re = globToRegExp(path.basename(pattern));
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Groups from one `file_sd_configs` entry. */
export class FileDiscoverer implements Discoverer {
  private readonly log: Logger;
  private readonly onFailure: ((m: SdMechanism) => void) | undefined;
  private readonly debounceMs: number;
  /** Last good groups per file. */
  private readonly byFile = new Map<string, TargetGroup[]>();
  private watchers: fs.FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private listener: GroupsListener | undefined;
  private lastEmitted = '';
  /** Read failures since start, for self-monitoring. */
  readErrors = 0;

  constructor(
    private readonly cfg: FileSdConfig,
    opts: FileDiscovererOptions = {},
  ) {
    this.log = opts.logger ?? nopLogger;
    this.onFailure = opts.onFailure;
    this.debounceMs = opts.debounceMs ?? 100;
  }

  start(onUpdate: GroupsListener): void {
    if (this.listener) return;
    this.listener = onUpdate;
    this.refresh();
    // Watch directories, not files: tools replace files by rename, which ends a file watch.
    for (const dir of new Set(this.cfg.files.map((f) => path.dirname(f)))) {
      try {
        const w = fs.watch(dir, { persistent: false }, () => this.scheduleRefresh());
        w.on('error', (err) => this.log.warn('file_sd watch failed; relying on refresh_interval', { dir, err }));
        this.watchers.push(w);
      } catch (err) {
        this.log.warn('cannot watch file_sd directory; relying on refresh_interval', { dir, err });
      }
    }
    this.timer = setInterval(() => this.refresh(), this.cfg.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.timer = this.debounce = undefined;
    this.listener = undefined;
  }

  private scheduleRefresh(): void {
    if (this.debounce || !this.listener) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.refresh();
    }, this.debounceMs);
    this.debounce.unref();
  }

  /** Re-reads every matching file now and reports the groups if they changed. */
  refresh(): void {
    const files = new Set(this.cfg.files.flatMap(expandGlob));
    for (const f of this.byFile.keys()) if (!files.has(f)) this.byFile.delete(f);
    for (const f of files) {
      try {
        this.byFile.set(f, readTargetGroupFile(f));
      } catch (err) {
        // A vanished file (deleted between glob and read) simply has no targets.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.byFile.delete(f);
          continue;
        }
        this.readErrors++;
        this.onFailure?.('file');
        this.log.error('file_sd: cannot read targets; keeping the last good ones', { file: f, err });
      }
    }
    const groups = [...this.byFile.keys()].sort().flatMap((f) => this.byFile.get(f)!);
    const key = JSON.stringify(groups);
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    this.listener?.(groups);
  }
}

/**
 * All providers of one scrape config combined: calls `onUpdate` with the union of their current
 * groups whenever one of them changes.
 */
export class CombinedDiscoverer implements Discoverer {
  private readonly current: Array<readonly TargetGroup[]>;
  private started = false;

  constructor(private readonly providers: readonly Discoverer[]) {
    this.current = providers.map(() => []);
  }

  start(onUpdate: GroupsListener): void {
    if (this.started) return;
    this.started = true;
    let ready = false;
    this.providers.forEach((p, i) =>
      p.start((groups) => {
        this.current[i] = groups;
        if (ready) onUpdate(this.current.flat());
      }),
    );
    ready = true;
    onUpdate(this.current.flat());
  }

  stop(): void {
    this.started = false;
    for (const p of this.providers) p.stop();
  }
}

/** The discoverer for a scrape config's `static_configs`, `file_sd_configs`, `http_sd_configs` and `dns_sd_configs`. */
export function discovererFor(
  cfg: Pick<ScrapeConfig, 'staticConfigs' | 'fileSdConfigs' | 'httpSdConfigs' | 'dnsSdConfigs'>,
  opts: DiscovererOptions = {},
): CombinedDiscoverer {
  return new CombinedDiscoverer([
    new StaticDiscoverer(cfg.staticConfigs),
    ...cfg.fileSdConfigs.map((f) => new FileDiscoverer(f, opts)),
    ...cfg.httpSdConfigs.map((h) => new HttpDiscoverer(h, opts)),
    ...cfg.dnsSdConfigs.map((d) => new DnsDiscoverer(d, opts)),
  ]);
}

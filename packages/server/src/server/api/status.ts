/**
 * `/api/v1/status/*`: build and runtime information, flags, the loaded configuration and TSDB
 * cardinality statistics, in the shapes Grafana and Prometheus' own UI read.
 */
import { METRIC_NAME } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import type { DB } from '../../metrics/tsdb/db.js';
import { json, type Router } from './http.js';
import { limitParam } from './params.js';
import type { BuildInfo } from '../selfmon/build_info.js';

/** What the status endpoints report about the running server. */
export interface StatusInfo {
  build: BuildInfo;
  startedAt: number;
  /** The effective configuration as YAML text, secrets hidden. */
  configYaml: () => string;
  /** Whether the last configuration (re)load worked, and when one last did. */
  lastReload: () => { successful: boolean; lastSuccessMs: number };
  /** Command-line flags as given, by name. */
  flags: Readonly<Record<string, string>>;
  retention: string;
}

/**
 * The Prometheus version whose API and PromQL semantics Vigil follows. Grafana picks features by
 * this number, as it does for other Prometheus-compatible servers.
 */
export const PROMETHEUS_COMPAT_VERSION = '3.0.0';

/** Registers the status endpoints. */
export function registerStatusApi(router: Router, db: DB, info: StatusInfo): void {
  registerProcessStatusApi(router, info, () => db.stats().walReplay?.repairs.length ?? 0);
  registerTsdbStatusApi(router, db);
}

/** Build and runtime information, flags and configuration: what any Vigil process (the agent too) reports. */
export function registerProcessStatusApi(router: Router, info: StatusInfo, walRepairs: () => number): void {
  router.on('GET', '/api/v1/status/buildinfo', () =>
    json({
      version: PROMETHEUS_COMPAT_VERSION,
      revision: info.build.revision,
      branch: info.build.branch,
      buildUser: 'vigil',
      buildDate: '',
      goVersion: `node ${info.build.nodeVersion}`,
      application: 'vigil',
      vigilVersion: info.build.version,
    }),
  );

  router.on('GET', '/api/v1/status/runtimeinfo', () => {
    return json({
      startTime: new Date(info.startedAt).toISOString(),
      CWD: process.cwd(),
      reloadConfigSuccess: info.lastReload().successful,
      lastConfigTime: new Date(info.lastReload().lastSuccessMs).toISOString(),
      corruptionCount: walRepairs(),
      goroutineCount: 0,
      GOMAXPROCS: 1,
      GOMEMLIMIT: 0,
      GOGC: '',
      GODEBUG: '',
      storageRetention: info.retention,
    });
  });

  router.on('GET', '/api/v1/status/flags', () => json(info.flags));
  router.on('GET', '/api/v1/status/config', () => json({ yaml: info.configYaml() }));
}

/** `/api/v1/status/tsdb`: the head's cardinality statistics. */
function registerTsdbStatusApi(router: Router, db: DB): void {
  router.on('GET', '/api/v1/status/tsdb', (req) => {
    const limit = limitParam(req.query) || 10;
    const head = db.head;
    const byName = new Map<string, number>();
    const valuesByLabel = new Map<string, Set<string>>();
    const memByLabel = new Map<string, number>();
    const byPair = new Map<string, number>();
    let pairs = 0;
    const q = head.querier(-Infinity, Infinity);
    try {
      const ss = q.select({ start: -Infinity, end: Infinity, seriesOnly: true }, [new Matcher('=~', METRIC_NAME, '.+')]);
      while (ss.next()) {
        for (const l of ss.at().labels) {
          pairs++;
          if (l.name === METRIC_NAME) byName.set(l.value, (byName.get(l.value) ?? 0) + 1);
          let vs = valuesByLabel.get(l.name);
          if (!vs) valuesByLabel.set(l.name, (vs = new Set()));
          if (!vs.has(l.value)) {
            vs.add(l.value);
            memByLabel.set(l.name, (memByLabel.get(l.name) ?? 0) + Buffer.byteLength(l.value));
          }
          const pair = `${l.name}=${l.value}`;
          byPair.set(pair, (byPair.get(pair) ?? 0) + 1);
        }
      }
    } finally {
      q.close();
    }
    const top = (m: Map<string, number>): Array<{ name: string; value: number }> =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, limit)
        .map(([name, value]) => ({ name, value }));
    const st = head.stats();
    return json({
      headStats: {
        numSeries: st.series,
        numLabelPairs: pairs,
        chunkCount: st.chunks,
        minTime: Number.isFinite(st.mint) ? st.mint : 0,
        maxTime: Number.isFinite(st.maxt) ? st.maxt : 0,
      },
      seriesCountByMetricName: top(byName),
      labelValueCountByLabelName: top(new Map([...valuesByLabel.entries()].map(([k, v]) => [k, v.size]))),
      memoryInBytesByLabelName: top(memByLabel),
      seriesCountByLabelValuePair: top(byPair),
    });
  });
}

/**
 * Dashboards. The files are a subset of Grafana's dashboard JSON (panels with `gridPos` and
 * `targets[].expr`, `templating.list`, `time`), so a Grafana export imports by the same path as
 * the shipped files: {@link normalizeDashboard} keeps what Vigil can draw and says what it dropped.
 */

/** Panel types Vigil draws. */
export type PanelType = 'timeseries' | 'stat' | 'gauge' | 'table';

/** A query of a panel. */
export interface PanelTarget {
  readonly expr: string;
  readonly legend?: string;
  /** Grafana's `exemplar` switch of a Prometheus target: its exemplars are drawn on the chart, each opening its trace. */
  readonly exemplar?: boolean;
}

/** A panel, normalized. */
export interface Panel {
  readonly title: string;
  readonly type: PanelType;
  readonly targets: readonly PanelTarget[];
  readonly unit: string;
  /** Position on a 24-column grid, in grid units (Grafana's). */
  readonly grid: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly stacked: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Thresholds for stat/gauge colours: value at which a colour starts. */
  readonly thresholds: ReadonlyArray<{ readonly value: number; readonly color: string }>;
}

/** A template variable whose values come from a label. */
export interface Variable {
  readonly name: string;
  readonly label: string;
  /** Metric to restrict values to (from `label_values(metric, label)`), or empty. */
  readonly metric: string;
  readonly includeAll: boolean;
}

/** A dashboard, normalized. */
export interface Dashboard {
  readonly id: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly variables: readonly Variable[];
  readonly range: string;
  /** What the import could not keep (unsupported panel types, non-Prometheus targets). */
  readonly warnings: readonly string[];
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);

const TYPE_MAP: Readonly<Record<string, PanelType>> = {
  timeseries: 'timeseries',
  graph: 'timeseries',
  stat: 'stat',
  singlestat: 'stat',
  gauge: 'gauge',
  bargauge: 'gauge',
  table: 'table',
  'table-old': 'table',
};

/** A URL-safe id from a title. */
export function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'dashboard'
  );
}

/** Parses `label_values(metric, label)` or `label_values(label)`. */
export function parseLabelValues(q: string): { metric: string; label: string } | undefined {
  const m = /^\s*label_values\(\s*(?:([^,]+?)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(q);
  return m ? { metric: m[1] ?? '', label: m[2]! } : undefined;
}

/** Normalizes a Vigil or Grafana dashboard JSON; throws an Error naming what is wrong. */
export function normalizeDashboard(input: unknown, fallbackId = ''): Dashboard {
  // Grafana's "export for sharing" wraps the dashboard; its API wraps it in `dashboard`.
  const root = isObj(input) && isObj(input['dashboard']) ? input['dashboard'] : input;
  if (!isObj(root)) throw new Error('a dashboard must be a JSON object');
  if (!Array.isArray(root['panels'])) throw new Error('a dashboard needs a "panels" array');
  const title = str(root['title'], 'Untitled');
  const warnings: string[] = [];
  const panels: Panel[] = [];
  // Grafana rows contain panels; flatten them, keeping their positions.
  const flat: Json[] = [];
  for (const p of root['panels']) {
    if (!isObj(p)) continue;
    if (p['type'] === 'row') {
      if (Array.isArray(p['panels'])) flat.push(...p['panels'].filter(isObj));
      continue;
    }
    flat.push(p);
  }
  let autoY = 0;
  for (const p of flat) {
    const ptitle = str(p['title'], 'Panel');
    const type = TYPE_MAP[str(p['type'])];
    if (!type) {
      warnings.push(`panel "${ptitle}": type ${JSON.stringify(p['type'])} is not supported`);
      continue;
    }
    const targets: PanelTarget[] = [];
    for (const t of Array.isArray(p['targets']) ? p['targets'] : []) {
      if (!isObj(t) || t['hide'] === true) continue;
      const expr = str(t['expr']);
      if (!expr) {
        warnings.push(`panel "${ptitle}": a target without a PromQL expr was skipped`);
        continue;
      }
      const legend = str(t['legendFormat']);
      targets.push({ expr, ...(legend && legend !== '__auto' ? { legend } : {}), ...(t['exemplar'] === true ? { exemplar: true } : {}) });
    }
    if (targets.length === 0) {
      warnings.push(`panel "${ptitle}": no PromQL targets`);
      continue;
    }
    const fc = isObj(p['fieldConfig']) && isObj(p['fieldConfig']['defaults']) ? p['fieldConfig']['defaults'] : {};
    const custom = isObj(fc['custom']) ? fc['custom'] : {};
    const stacking = isObj(custom['stacking']) ? str(custom['stacking']['mode']) : '';
    const gp = isObj(p['gridPos']) ? p['gridPos'] : {};
    const h = num(gp['h'], type === 'stat' || type === 'gauge' ? 4 : 8);
    const grid = { x: num(gp['x'], 0), y: num(gp['y'], autoY), w: num(gp['w'], 12), h };
    autoY = Math.max(autoY, grid.y + grid.h);
    const steps = isObj(fc['thresholds']) && Array.isArray(fc['thresholds']['steps']) ? fc['thresholds']['steps'] : [];
    const thresholds = steps.filter(isObj).map((s) => ({ value: typeof s['value'] === 'number' ? s['value'] : -Infinity, color: str(s['color'], 'green') }));
    const panel: Panel = {
      title: ptitle,
      type,
      targets,
      unit: str(fc['unit'], str(p['unit'], 'short')),
      grid,
      stacked: stacking === 'normal' || stacking === 'percent' || p['stack'] === true || p['stacked'] === true,
      thresholds,
      ...(typeof fc['min'] === 'number' ? { min: fc['min'] } : {}),
      ...(typeof fc['max'] === 'number' ? { max: fc['max'] } : {}),
    };
    panels.push(panel);
  }
  const variables: Variable[] = [];
  const list = isObj(root['templating']) && Array.isArray(root['templating']['list']) ? root['templating']['list'] : [];
  for (const v of list) {
    if (!isObj(v)) continue;
    const name = str(v['name']);
    const q = isObj(v['query']) ? str(v['query']['query']) : str(v['query']);
    const lv = parseLabelValues(q);
    if (!name || !lv || (v['type'] !== undefined && v['type'] !== 'query')) {
      if (name && v['type'] !== 'datasource') warnings.push(`variable "${name}": only label_values(...) queries are supported`);
      continue;
    }
    variables.push({ name, label: lv.label, metric: lv.metric, includeAll: v['includeAll'] === true });
  }
  const time = isObj(root['time']) ? str(root['time']['from'], 'now-1h') : 'now-1h';
  const range = /^now-(\d+[smhdw])$/.exec(time)?.[1] ?? '1h';
  return { id: str(root['uid']) || fallbackId || slug(title), title, panels, variables, range, warnings };
}

/** Replaces `$var`, `${var}` and `[[var]]` with values; `All` becomes a match-anything regex. */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(
    /\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]|\$([a-zA-Z_][a-zA-Z0-9_]*)/g,
    (m, a?: string, b?: string, c?: string) => {
      const name = a ?? b ?? c ?? '';
      // Grafana's interval macros: a fixed window that suits scrape intervals up to 15 s.
      if (name === '__rate_interval' || name === '__interval') return '1m';
      if (name.startsWith('__')) return m;
      const v = values[name];
      if (v === undefined) return m;
      return v === '$__all' ? '.+' : v.replace(/[\\"]/g, (x) => `\\${x}`);
    },
  );
}

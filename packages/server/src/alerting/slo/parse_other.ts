/**
 * Pyrra's `ServiceLevelObjective` and OpenSLO's `SLO` documents, read into the SLO model the way Sloth
 * reads OpenSLO: a good/total ratio becomes the raw error ratio `1 - good/total`, a bad/total ratio
 * becomes events. These formats carry more fields than an SLO needs (Kubernetes metadata, data
 * sources); unknown fields are ignored rather than refused, so documents written for those tools load.
 */
import { isMap, isSeq, type YAMLMap } from 'yaml';
import { parseExpr } from '../../metrics/promql/parser/index.js';
import { DEFAULT_PERIOD_MS, type SLI, type SLO } from './model.js';
import type { SpecReader } from './parse.js';

const UNIT_MS: Record<string, number> = { Minute: 60_000, Hour: 3600_000, Day: 86_400_000, Week: 7 * 86_400_000 };

/** Pyrra's default alert name. */
const PYRRA_ALERT = 'ErrorBudgetBurn';

/** A Pyrra selector (`metric: http_requests_total{code=~"5.."}`): a plain series selector, checked here so errors point at it. */
function pyrraMetric(r: SpecReader, m: YAMLMap | undefined, key: string, where: string): string | undefined {
  const got: unknown = m?.get(key, true);
  const node = isMap(got) ? got : undefined;
  const metric = node === undefined ? undefined : r.str(node.get('metric', true));
  if (metric === undefined) {
    r.err(node ?? m ?? null, `${where}.${key}.metric is required`);
    return undefined;
  }
  try {
    if (parseExpr(metric).kind !== 'VectorSelector') throw new Error('expected a series selector such as http_requests_total{code=~"5.."}');
  } catch (e) {
    r.err(node!.get('metric', true), `${where}.${key}.metric: ${(e as Error).message}`);
    return undefined;
  }
  return metric;
}

function rateOf(selector: string, by: string): string {
  return `sum${by}(rate(${selector}[{{.window}}]))`;
}

/** Pyrra's `ServiceLevelObjective` (ratio and latency indicators). The service is `metadata.labels.service`, else the namespace, else the name. */
export function readPyrra(r: SpecReader, root: YAMLMap, apiVersion: string): SLO | undefined {
  const before = r.errors.length;
  const meta = r.map(root.get('metadata', true), 'metadata', ['name', 'namespace', 'labels', 'annotations']);
  const spec = r.map(root.get('spec', true), 'spec', ['target', 'window', 'description', 'indicator', 'alerting', 'serviceLevelObjectiveLabels']);
  if (meta === undefined || spec === undefined) {
    r.err(root, 'ServiceLevelObjective: metadata and spec are required');
    return undefined;
  }
  const name = r.name(meta, 'name', 'metadata');
  const metaLabels = r.labels(meta.get('labels', true), 'metadata.labels');
  const service = metaLabels['service'] ?? r.str(meta.get('namespace', true)) ?? name;
  const objective = r.objective(spec.get('target', true), 'spec.target');
  const periodMs = r.duration(spec.get('window', true), 'spec.window');
  const ind = r.map(spec.get('indicator', true), 'spec.indicator', ['ratio', 'latency', 'latencyNative', 'boolGauge']);
  let sli: SLI | undefined;
  const ratio = ind?.get('ratio', true);
  const latency = ind?.get('latency', true);
  if (isMap(ratio) === isMap(latency)) r.err(ind ?? spec, 'spec.indicator: give exactly one of ratio or latency');
  else {
    const m = (isMap(ratio) ? ratio : latency) as unknown as YAMLMap;
    const where = isMap(ratio) ? 'spec.indicator.ratio' : 'spec.indicator.latency';
    const groupingNode = m.get('grouping', true);
    const grouping = isSeq(groupingNode) ? groupingNode.items.map((i) => r.str(i) ?? '') : [];
    const by = grouping.length > 0 ? ` by (${grouping.join(', ')}) ` : '';
    const total = pyrraMetric(r, m, 'total', where);
    if (isMap(ratio)) {
      const errors = pyrraMetric(r, m, 'errors', where);
      if (errors && total) sli = { kind: 'events', errorQuery: rateOf(errors, by), totalQuery: rateOf(total, by) };
    } else {
      // Latency: the good events are the histogram bucket at the bound (`le`), the bad ones all requests minus those.
      const success = pyrraMetric(r, m, 'success', where);
      if (success && !/\ble\s*=\s*"/.test(success)) r.err(m.get('success', true), `${where}.success.metric must select one bucket with le="<bound>"`);
      else if (success && total) sli = { kind: 'events', errorQuery: `(${rateOf(total, by)} - ${rateOf(success, by)})`, totalQuery: rateOf(total, by) };
    }
  }
  const alerting = r.map(spec.get('alerting', true), 'spec.alerting', ['disabled', 'name', 'burnrates', 'absent']);
  const disabled = alerting !== undefined && r.bool(alerting.get('disabled', true), 'spec.alerting.disabled');
  const alertName = r.str(alerting?.get('name', true)) ?? PYRRA_ALERT;
  const annotations = { description: r.str(spec.get('description', true)) ?? '' };
  if (r.errors.length > before || name === undefined || service === undefined || objective === undefined || periodMs === undefined || sli === undefined)
    return undefined;
  return {
    id: `${service}-${name}`,
    service,
    name,
    description: annotations.description,
    objective,
    periodMs,
    labels: r.labels(spec.get('serviceLevelObjectiveLabels', true), 'spec.serviceLevelObjectiveLabels'),
    sli,
    alertName,
    // Pyrra's severities.
    page: disabled ? undefined : { labels: { severity: 'critical' }, annotations: {} },
    ticket: disabled ? undefined : { labels: { severity: 'warning' }, annotations: {} },
    spec: apiVersion,
    mode: 'cli-gen-pyrra',
    file: r.file,
    line: r.line(root),
  };
}

/** A query of an OpenSLO metric: v1alpha `{query}`, v1 `{metricSource: {spec: {query}}}`. */
function openSLOQuery(r: SpecReader, node: unknown, where: string): string | undefined {
  if (!isMap(node)) return undefined;
  const direct = r.str(node.get('query', true));
  const source = node.getIn(['metricSource', 'spec', 'query'], true);
  const q = direct ?? r.str(source);
  if (q === undefined) r.err(node, `${where}: query is required (query, or metricSource.spec.query)`);
  else if (!q.includes('{{.window}}')) r.err(node, `${where}: the query must use {{.window}} where the range goes`);
  return q;
}

/** An OpenSLO ratio (`good` or `bad`, with `total`) as an SLI. */
function openSLORatio(r: SpecReader, m: YAMLMap, where: string): SLI | undefined {
  const good = m.get('good', true);
  const bad = m.get('bad', true);
  if ((good === undefined) === (bad === undefined)) {
    r.err(m, `${where}: give exactly one of good or bad, with total`);
    return undefined;
  }
  const total = openSLOQuery(r, m.get('total', true), `${where}.total`);
  if (m.get('total', true) === undefined) r.err(m, `${where}: total is required`);
  if (good !== undefined) {
    const g = openSLOQuery(r, good, `${where}.good`);
    // The layout of Sloth's conversion, so the recorded expressions print the same.
    return g && total ? { kind: 'raw', errorRatioQuery: `\n  1 - (\n    (\n      ${g}\n    )\n    /\n    (\n      ${total}\n    )\n  )\n` } : undefined;
  }
  const b = openSLOQuery(r, bad, `${where}.bad`);
  return b && total ? { kind: 'events', errorQuery: b, totalQuery: total } : undefined;
}

/** The period of an OpenSLO SLO: v1alpha `timeWindows: [{count, unit}]`, v1 `timeWindow: [{duration}]`. */
function openSLOPeriod(r: SpecReader, spec: YAMLMap): number | undefined {
  const tw = spec.get('timeWindows', true) ?? spec.get('timeWindow', true);
  if (tw === undefined) return DEFAULT_PERIOD_MS;
  const first = isSeq(tw) ? tw.items[0] : undefined;
  if (!isMap(first)) {
    r.err(tw, 'spec.timeWindow: expected a list with one window');
    return undefined;
  }
  if (first.has('duration')) return r.duration(first.get('duration', true), 'spec.timeWindow[0].duration');
  const count = r.num(first.get('count', true));
  const unit = UNIT_MS[r.str(first.get('unit', true)) ?? ''];
  if (count === undefined || count <= 0 || unit === undefined) {
    r.err(first, `spec.timeWindows[0]: expected count > 0 and unit one of ${Object.keys(UNIT_MS).join(', ')}`);
    return undefined;
  }
  return count * unit;
}

/**
 * OpenSLO's `SLO`: one SLO per objective, named `<metadata.name>-<index>` as Sloth names them. The
 * ratio is per objective (v1alpha `ratioMetrics`) or the SLO's indicator (v1 `indicator.spec.ratioMetric`).
 * OpenSLO has no alert routing of its own, so, as with Sloth, no alerts are generated.
 */
export function readOpenSLO(r: SpecReader, root: YAMLMap, apiVersion: string): SLO[] {
  const meta = root.get('metadata', true);
  const spec = root.get('spec', true);
  if (!isMap(meta) || !isMap(spec)) {
    r.err(root, 'SLO: metadata and spec are required');
    return [];
  }
  const before = r.errors.length;
  const name = r.name(meta, 'name', 'metadata');
  const service = r.name(spec, 'service', 'spec');
  const periodMs = openSLOPeriod(r, spec);
  const objectives = spec.get('objectives', true);
  if (!isSeq(objectives) || objectives.items.length === 0) {
    r.err(objectives ?? spec, 'spec.objectives: expected a non-empty list');
    return [];
  }
  const indicatorRatio = spec.getIn(['indicator', 'spec', 'ratioMetric'], true);
  const out: SLO[] = [];
  objectives.items.forEach((o, i) => {
    const where = `spec.objectives[${i}]`;
    if (!isMap(o)) {
      r.err(o, `${where}: expected a mapping`);
      return;
    }
    const ratio = o.get('ratioMetrics', true) ?? indicatorRatio;
    if (!isMap(ratio)) {
      r.err(o, `${where}: only ratio SLIs are supported (ratioMetrics, or spec.indicator.spec.ratioMetric)`);
      return;
    }
    const sli = openSLORatio(r, ratio, o.has('ratioMetrics') ? `${where}.ratioMetrics` : 'spec.indicator.spec.ratioMetric');
    const objective = o.has('targetPercent')
      ? r.objective(o.get('targetPercent', true), `${where}.targetPercent`)
      : r.objective(o.get('target', true), `${where}.target`, 100);
    if (r.errors.length > before || !sli || objective === undefined || !name || !service || periodMs === undefined) return;
    const sloName = `${name}-${i}`;
    out.push({
      id: `${service}-${sloName}`,
      service,
      name: sloName,
      description: r.str(spec.get('description', true)) ?? '',
      objective,
      periodMs,
      labels: {},
      sli,
      alertName: '',
      page: undefined,
      ticket: undefined,
      spec: apiVersion,
      mode: 'cli-gen-openslo',
      file: r.file,
      line: r.line(o),
    });
  });
  return out;
}

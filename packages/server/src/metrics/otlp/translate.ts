/**
 * OTLP metrics into Prometheus samples, as Prometheus 3's OTLP receiver writes them: gauges and
 * non-monotonic sums as gauges, monotonic sums as counters (`_total`), histograms as classic
 * `_bucket{le}` / `_sum` / `_count`, summaries as `{quantile}` / `_sum` / `_count`; `job` from
 * `service.namespace/service.name`, `instance` from `service.instance.id`, the other resource
 * attributes on `target_info` (all of them with `keep_identifying_resource_attributes`) and those
 * named in `promote_resource_attributes` on every series. A data point flagged "no recorded value"
 * becomes a staleness marker. Delta points are marked for ./delta.ts to add up.
 */
import type { FloatHistogram } from '../../core/model/histogram.js';
import { sortLabels, type Label, type Labels } from '../../core/model/labels.js';
import { STALE_NAN } from '../../core/model/value.js';
import type { MetadataStore } from '../metadata.js';
import { FLAG_NO_RECORDED_VALUE, TEMPORALITY_DELTA, type Attr, type DataPoint, type Metric, type MetricsRequest, type ResourceMetrics } from './model.js';
import { decodedAttrs } from './decode_proto.js';
import { AttrSeriesCache, type AttrSource, type SeriesEntry } from './attr_cache.js';
import { addsSuffixes, escapes, formatBound, labelName, metricName, unitName, type PromType, type TranslationStrategy } from './names.js';
import { nativeHistogramOf } from './exponential.js';
import { NO_EXEMPLARS, NO_SERIES, OutPointPool, type OutPoint, type OutSample } from './out_points.js';

/** The `otlp:` settings that shape translation (Prometheus' names). */
export interface OtlpTranslation {
  translationStrategy: TranslationStrategy;
  /** Resource attributes copied onto every series of the resource. */
  promoteResourceAttributes: readonly string[];
  /** Keep service.name, service.namespace and service.instance.id on target_info too. */
  keepIdentifyingResourceAttributes: boolean;
}

export const DEFAULT_TRANSLATION: OtlpTranslation = {
  translationStrategy: 'UnderscoreEscapingWithSuffixes',
  promoteResourceAttributes: [],
  keepIdentifyingResourceAttributes: false,
};

/** What a resource puts on each of its series, and a key naming that. */
interface ResourceLabels {
  base: readonly Label[];
  job: string | undefined;
  instance: string | undefined;
  key: string;
}

export interface Translated {
  points: OutPoint[];
  /** Data points refused before storage, and why (grouped by message). */
  rejected: number;
  reasons: Map<string, number>;
  metadata: Array<[string, { type: string; help: string; unit: string }]>;
}

const NO_LABELS: readonly Label[] = [];
const IDENTIFYING = new Set(['service.name', 'service.namespace', 'service.instance.id']);

/**
 * Translates requests; caches name translations, which repeat in every request of a sender. A
 * translation's points are reused by the next: it is valid until the next {@link translate}.
 */
export class Translator {
  private readonly names = new Map<string, string>();
  private readonly labelNames = new Map<string, string>();
  private readonly outPoints = new OutPointPool();
  private readonly pointList: OutPoint[] = [];

  constructor(readonly cfg: OtlpTranslation) {}

  private label(key: string): string {
    let n = this.labelNames.get(key);
    if (n === undefined) {
      n = labelName(key, this.cfg.translationStrategy);
      if (this.labelNames.size > 10_000) this.labelNames.clear();
      this.labelNames.set(key, n);
    }
    return n;
  }

  private metric(m: Metric, type: PromType): string {
    const key = `${type}\u0000${m.unit}\u0000${m.name}`;
    let n = this.names.get(key);
    if (n === undefined) {
      n = metricName(m.name, m.unit, type, this.cfg.translationStrategy);
      if (this.names.size > 10_000) this.names.clear();
      this.names.set(key, n);
    }
    return n;
  }

  translate(req: MetricsRequest): Translated {
    this.outPoints.reset();
    this.pointList.length = 0;
    // The decoder's pool reuses point objects too: one of this request may be the last one's.
    this.curPoint = undefined;
    this.curInner = undefined;
    this.cache.begin();
    const out: Translated = { points: this.pointList, rejected: 0, reasons: new Map(), metadata: [] };
    for (const r of req.resources) this.resource(r, out);
    return out;
  }

  private refuse(out: Translated, n: number, reason: string): void {
    out.rejected += n;
    out.reasons.set(reason, (out.reasons.get(reason) ?? 0) + n);
  }

  private resource(r: ResourceMetrics, out: Translated): void {
    const res = new Map<string, string>();
    for (const a of r.attrs) res.set(a.key, a.value);
    // Labels every series of the resource carries: promoted attributes, then job and instance.
    const base: Label[] = [];
    for (const key of this.cfg.promoteResourceAttributes) {
      const v = res.get(key);
      const name = this.label(key);
      if (v !== undefined && v !== '' && name !== '') base.push({ name, value: v });
    }
    const service = res.get('service.name');
    const ns = res.get('service.namespace');
    const job = service === undefined ? undefined : ns ? `${ns}/${service}` : service;
    const instance = res.get('service.instance.id');
    let key = `${job ?? ''}\u0001${instance ?? ''}`;
    for (const l of base) key += `\u0001${l.name}\u0002${l.value}`;
    const labels: ResourceLabels = { base, job, instance, key };
    let latest = -Infinity;
    for (const scope of r.scopes)
      for (const m of scope.metrics) {
        for (const p of m.points) if (p.timeMs > latest) latest = p.timeMs;
        this.metricPoints(m, labels, out);
      }
    if (latest === -Infinity) return;
    // target_info: the resource's descriptive attributes, once per request at its latest point.
    const info: Attr[] = r.attrs.filter((a) => this.cfg.keepIdentifyingResourceAttributes || !IDENTIFYING.has(a.key));
    if (info.length === 0) return;
    const series = this.labelsOf(
      { attrs: info, rawBuf: undefined, rawStart: 0, rawEnd: 0 },
      { base: NO_LABELS, job, instance, key: `${job ?? ''}\u0001${instance ?? ''}` },
      'target_info',
      undefined,
    );
    if (series === undefined) return;
    const point = this.outPoints.take(latest, 'target_info');
    this.add(point, series, latest, 1, false, false);
    out.points.push(point);
  }

  private readonly cache = new AttrSeriesCache();
  private curPoint: AttrSource | undefined;
  private curRes: string | undefined;
  private curInner: Map<string, SeriesEntry> | undefined;

  /** The series of a label set (see {@link buildLabels}), from the cache when seen before. */
  private labelsOf(p: AttrSource, res: ResourceLabels, name: string, extra: Label | undefined): SeriesEntry | undefined {
    if (p !== this.curPoint || res.key !== this.curRes || this.curInner === undefined) {
      this.curInner = this.cache.inner(p, res.key);
      this.curPoint = p;
      this.curRes = res.key;
    }
    const k = extra ? `${name}\u0000${extra.value}` : name;
    let e = this.curInner.get(k);
    if (e === undefined) {
      const labels = this.buildLabels(decodedAttrs(p as DataPoint), res, name, extra);
      if (labels === undefined) return undefined;
      e = { labels, ref: 0, deltaKey: undefined };
      this.curInner.set(k, e);
      this.cache.added();
    }
    return e;
  }

  /**
   * The label set of a series: `base` (promoted resource attributes), the point's attributes (which
   * win over them; attributes that escape to the same name have their values joined with `;` in key
   * order), job and instance, the extra label, the name. Undefined when an attribute key is unusable.
   */
  private buildLabels(attrs: readonly Attr[], res: ResourceLabels, name: string, extra: Label | undefined): Labels | undefined {
    const { base, job, instance } = res;
    const m = new Map<string, string>();
    for (const l of base) m.set(l.name, l.value);
    const sorted = attrs.length > 1 && escapes(this.cfg.translationStrategy) ? [...attrs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) : attrs;
    const fromPoint = new Set<string>();
    for (const a of sorted) {
      const n = this.label(a.key);
      if (n === '') return undefined;
      if (a.value === '') continue;
      if (fromPoint.has(n)) m.set(n, `${m.get(n)};${a.value}`);
      else {
        fromPoint.add(n);
        m.set(n, a.value);
      }
    }
    if (job !== undefined && job !== '') m.set('job', job);
    if (instance !== undefined && instance !== '') m.set('instance', instance);
    if (extra) m.set(extra.name, extra.value);
    m.set('__name__', name);
    const pairs: Label[] = [];
    for (const [n, v] of m) pairs.push({ name: n, value: v });
    return sortLabels(pairs);
  }

  private metricPoints(m: Metric, res: ResourceLabels, out: Translated): void {
    if (m.points.length === 0) return;
    const type: PromType =
      m.kind === 'sum' && m.monotonic
        ? 'counter'
        : m.kind === 'histogram' || m.kind === 'exponential_histogram'
          ? 'histogram'
          : m.kind === 'summary'
            ? 'summary'
            : 'gauge';
    const name = this.metric(m, type);
    if (name === '') {
      this.refuse(out, m.points.length, `metric name ${JSON.stringify(m.name)} has no valid characters`);
      return;
    }
    const delta = m.temporality === TEMPORALITY_DELTA && (m.kind === 'sum' || m.kind === 'histogram' || m.kind === 'exponential_histogram');
    const family = type === 'counter' && addsSuffixes(this.cfg.translationStrategy) ? name.replace(/_total$/, '') : name;
    out.metadata.push([family, { type, help: m.description, unit: unitName(m.unit) }]);
    for (const p of m.points) {
      if (p.timeMs <= 0) {
        this.refuse(out, 1, 'data point without time_unix_nano');
        continue;
      }
      const stale = (p.flags & FLAG_NO_RECORDED_VALUE) !== 0;
      const point = this.outPoints.take(p.timeMs, name);
      const ok =
        m.kind === 'histogram'
          ? this.histogram(p, name, res, delta, stale, point)
          : m.kind === 'exponential_histogram'
            ? this.exponential(p, name, res, delta, stale, point)
            : m.kind === 'summary'
              ? this.summary(p, name, res, stale, point)
              : this.number(p, name, res, delta, stale, point);
      if (typeof ok === 'string') this.refuse(out, 1, ok);
      else out.points.push(point);
    }
  }

  private add(point: OutPoint, series: SeriesEntry | undefined, t: number, v: number, delta: boolean, stale: boolean, h?: FloatHistogram): boolean {
    if (series === undefined) return false;
    const value = stale ? STALE_NAN : v;
    const hist = stale ? undefined : h;
    const d = delta && !stale;
    if (point.series === NO_SERIES) {
      point.series = series;
      point.t = t;
      point.v = value;
      point.h = hist;
      point.delta = d;
    } else {
      const sample: OutSample = { series, t, v: value, h: hist, delta: d };
      if (point.more === undefined) point.more = [sample];
      else point.more.push(sample);
    }
    return true;
  }

  private number(p: DataPoint, name: string, res: ResourceLabels, delta: boolean, stale: boolean, point: OutPoint): true | string {
    const labels = this.labelsOf(p, res, name, undefined);
    if (!this.add(point, labels, p.timeMs, p.value, delta, stale)) return badAttr(name);
    if (p.exemplars.length > 0) exemplarsOf(p, labels!.labels, point);
    return true;
  }

  private histogram(p: DataPoint, name: string, res: ResourceLabels, delta: boolean, stale: boolean, point: OutPoint): true | string {
    if (p.bucketCounts.length !== 0 && p.bucketCounts.length !== p.bounds.length + 1)
      return `histogram ${name}: ${p.bucketCounts.length} bucket counts for ${p.bounds.length} explicit bounds (want one more count than bounds)`;
    const t = p.timeMs;
    let cum = 0;
    const bucketName = `${name}_bucket`;
    const bucketLabels: Labels[] = [];
    for (let i = 0; i < p.bounds.length && p.bucketCounts.length > 0; i++) {
      cum += p.bucketCounts[i]!;
      const labels = this.labelsOf(p, res, bucketName, { name: 'le', value: formatBound(p.bounds[i]!) });
      if (!this.add(point, labels, t, cum, delta, stale)) return badAttr(name);
      bucketLabels.push(labels!.labels);
    }
    const inf = this.labelsOf(p, res, bucketName, { name: 'le', value: '+Inf' });
    if (!this.add(point, inf, t, p.count, delta, stale)) return badAttr(name);
    bucketLabels.push(inf!.labels);
    if (p.hasSum && !this.add(point, this.labelsOf(p, res, `${name}_sum`, undefined), t, p.sum, delta, stale)) return badAttr(name);
    this.add(point, this.labelsOf(p, res, `${name}_count`, undefined), t, p.count, delta, stale);
    // Each exemplar goes on the bucket its value falls in, as Prometheus places them.
    for (const e of p.exemplars) {
      let i = 0;
      while (i < p.bounds.length && e.value > p.bounds[i]!) i++;
      exemplarOn(e, bucketLabels[Math.min(i, bucketLabels.length - 1)]!, point);
    }
    return true;
  }

  /**
   * An exponential histogram as one native histogram sample. "No recorded value" is a float
   * staleness marker (what Prometheus' scrape writes for a native histogram series that ended,
   * and what this project's queries read as the end of a series).
   */
  private exponential(p: DataPoint, name: string, res: ResourceLabels, delta: boolean, stale: boolean, point: OutPoint): true | string {
    const h = stale ? undefined : nativeHistogramOf(p, name, 'unknown');
    if (typeof h === 'string') return h;
    const labels = this.labelsOf(p, res, name, undefined);
    if (!this.add(point, labels, p.timeMs, NaN, delta, stale, h)) return badAttr(name);
    if (p.exemplars.length > 0) exemplarsOf(p, labels!.labels, point);
    return true;
  }

  private summary(p: DataPoint, name: string, res: ResourceLabels, stale: boolean, point: OutPoint): true | string {
    const t = p.timeMs;
    for (let i = 0; i < p.quantiles.length; i += 2) {
      const labels = this.labelsOf(p, res, name, { name: 'quantile', value: formatBound(p.quantiles[i]!) });
      if (!this.add(point, labels, t, p.quantiles[i + 1]!, false, stale)) return badAttr(name);
    }
    if (!this.add(point, this.labelsOf(p, res, `${name}_sum`, undefined), t, p.sum, false, stale)) return badAttr(name);
    this.add(point, this.labelsOf(p, res, `${name}_count`, undefined), t, p.count, false, stale);
    return true;
  }
}

function badAttr(name: string): string {
  return `a data point of ${name} has an attribute key that is empty or only underscores`;
}

function exemplarsOf(p: DataPoint, labels: Labels, point: OutPoint): void {
  for (const e of p.exemplars) exemplarOn(e, labels, point);
}

function exemplarOn(e: DataPoint['exemplars'][number], seriesLabels: Labels, point: OutPoint): void {
  const pairs: Label[] = [];
  if (e.traceId) pairs.push({ name: 'trace_id', value: e.traceId });
  if (e.spanId) pairs.push({ name: 'span_id', value: e.spanId });
  if (point.exemplars === NO_EXEMPLARS) point.exemplars = [];
  point.exemplars.push({ seriesLabels, labels: sortLabels(pairs), value: e.value, ts: e.timeMs || point.t });
}

/** Sets each metric family's metadata. */
export function storeMetadata(store: MetadataStore | undefined, md: Translated['metadata']): void {
  if (!store) return;
  for (const [family, m] of md) store.set(family, m);
}

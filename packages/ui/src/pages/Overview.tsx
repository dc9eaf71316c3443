/**
 * The overview: one row per service (the SDK's `service` label) and per scrape job, with the golden
 * signals and saturation as cards coloured by thresholds and by the alerts firing for that row (the
 * latency cards with exemplars over their sparkline, each opening its trace), each
 * service's SLO status (least budget left, worst burn rate) where it has SLOs, the business cards where the SDK's business metrics exist, and a click-through to Explore.
 */
import { activeAlerts, labelValues, promGet, query, queryExemplars, queryRange, type AmAlert } from '../api.js';
import { useRef } from 'preact/hooks';
import { exemplarPoints, thinExemplars, type ExemplarPoint } from '../lib/exemplars.js';
import { Sparkline } from '../components/Chart.js';
import { loadSloInstant, SloBadge } from '../components/SloStatus.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { useAsync } from '../hooks.js';
import { labelMatcher } from '../lib/escape.js';
import { formatValue } from '../lib/format.js';
import {
  GOLDEN,
  SIGNALS,
  alertForRow,
  rowSignals,
  alertLevel,
  levelOf,
  serviceSloStatus,
  signalOfAlert,
  worst,
  type Level,
  type ServiceSloStatus,
  type Signal,
} from '../lib/overview.js';
import { sloRows } from '../lib/slo.js';
import { parseDuration } from '../lib/time.js';
import type { MatrixSeries } from '../lib/series.js';
import { exploreHref, href, onLinkClick, useLocation } from '../router.js';

interface Row {
  readonly name: string;
  readonly kind: 'service' | 'job';
}

interface SignalData {
  readonly xs: number[];
  readonly ys: Array<number | null>;
  readonly last: number | undefined;
}

interface OverviewData {
  readonly rows: Row[];
  /** signal id → row name → data */
  readonly signals: Map<Signal['id'], Map<string, SignalData>>;
  readonly alerts: AmAlert[];
}

interface BusinessCard {
  readonly title: string;
  readonly value: number | undefined;
  readonly unit: string;
  readonly compare?: number | undefined;
  readonly expr: string;
}

function toData(s: MatrixSeries): SignalData {
  const xs = s.values.map((v) => v[0]);
  const ys = s.values.map((v) => Number(v[1]));
  const lastT = xs[xs.length - 1] ?? 0;
  // A value older than two minutes is a stopped series, not the current state.
  const fresh = Date.now() / 1000 - lastT < 120;
  return { xs, ys, last: fresh ? ys[ys.length - 1] : undefined };
}

async function loadSignals(rows: Row[], rangeMs: number, signal: AbortSignal): Promise<Map<Signal['id'], Map<string, SignalData>>> {
  const end = Date.now();
  const start = end - rangeMs;
  // About 120 points: enough for a sparkline, and the last point is at most one step old.
  const step = Math.max(5000, Math.round(rangeMs / 120));
  const out = new Map<Signal['id'], Map<string, SignalData>>();
  const jobRows = new Set(rows.filter((r) => r.kind === 'job').map((r) => r.name));
  await Promise.all(
    SIGNALS.map(async (s) => {
      const [bySvc, byJob] = await Promise.all([
        queryRange(s.expr('service'), start, end, step, signal).catch(() => []),
        // Span metrics carry `service`, never `job`: no query by job for them.
        s.fallbackFor ? Promise.resolve([]) : queryRange(s.expr('job'), start, end, step, signal).catch(() => []),
      ]);
      const m = new Map<string, SignalData>();
      for (const x of byJob) if (x.metric['job']) m.set(x.metric['job'], toData(x));
      // Service rows take their own series; job rows only when no service of that name exists.
      for (const x of bySvc) if (x.metric['service']) m.set(x.metric['service'], toData(x));
      for (const x of byJob) if (x.metric['job'] && jobRows.has(x.metric['job'])) m.set(x.metric['job'], toData(x));
      out.set(s.id, m);
    }),
  );
  return out;
}

async function loadBusiness(names: string[], signal: AbortSignal): Promise<Map<string, BusinessCard[]>> {
  const out = new Map<string, BusinessCard[]>();
  const add = (svc: string, c: BusinessCard): void => {
    const l = out.get(svc) ?? [];
    l.push(c);
    out.set(svc, l);
  };
  const biz = names.filter((n) => n.startsWith('business_'));
  const jobs: Array<Promise<void>> = [];
  for (const n of biz) {
    const m = /^business_(.+)_value_total$/.exec(n);
    if (m) {
      const expr = `sum by (service) (increase(${n}[24h]))`;
      jobs.push(
        Promise.all([query(expr, undefined, signal), query(`sum by (service) (increase(${n}[24h] offset 24h))`, undefined, signal)]).then(([now, prev]) => {
          if (now.resultType !== 'vector') return;
          const prevBy = new Map(prev.resultType === 'vector' ? prev.result.map((s) => [s.metric['service'] ?? '', Number(s.value[1])]) : []);
          for (const s of now.result) {
            const svc = s.metric['service'] ?? '';
            // Events recorded without a value (page views) would show a meaningless 0.
            if (Number(s.value[1]) === 0 && !prevBy.get(svc)) continue;
            const money = /purchase|payment|revenue|order|sale/.test(m[1]!);
            add(svc, {
              title: `${m[1]!.replace(/_/g, ' ')} ${money ? 'revenue' : 'value'}, 24h`,
              value: Number(s.value[1]),
              unit: money ? 'currencyUSD' : 'short',
              compare: prevBy.get(svc),
              expr: `sum(increase(${n}{${labelMatcher('service', svc)}}[1h]))`,
            });
          }
        }),
      );
      continue;
    }
    const e = /^business_(.+)_total$/.exec(n);
    if (e && !n.startsWith('business_funnel_')) {
      const expr = `sum by (service) (rate(${n}[5m])) * 60`;
      jobs.push(
        query(expr, undefined, signal).then((r) => {
          if (r.resultType !== 'vector') return;
          for (const s of r.result)
            add(s.metric['service'] ?? '', {
              title: `${e[1]!.replace(/_/g, ' ')} / min`,
              value: Number(s.value[1]),
              unit: 'short',
              expr: `sum by (status) (rate(${n}{${labelMatcher('service', s.metric['service'] ?? '')}}[5m])) * 60`,
            });
        }),
      );
    }
  }
  if (biz.includes('business_funnel_conversion_ratio')) {
    jobs.push(
      query('business_funnel_conversion_ratio', undefined, signal).then((r) => {
        if (r.resultType !== 'vector') return;
        for (const s of r.result) {
          const { service = '', funnel = '', from = '', to = '' } = s.metric;
          if (from === to) continue;
          add(service, {
            title: `${funnel}: ${from} → ${to}`,
            value: Number(s.value[1]),
            unit: 'percentunit',
            expr: `business_funnel_conversion_ratio{${labelMatcher('service', service)},${labelMatcher('funnel', funnel)},${labelMatcher('to', to)}}`,
          });
        }
      }),
    );
  }
  await Promise.all(jobs.map((j) => j.catch(() => undefined)));
  for (const l of out.values()) l.sort((a, b) => a.title.localeCompare(b.title));
  return out;
}

async function loadOverview(rangeMs: number, signal: AbortSignal): Promise<OverviewData> {
  const [services, jobs, alerts] = await Promise.all([labelValues('service').catch(() => [] as string[]), labelValues('job'), activeAlerts()]);
  const rows: Row[] = [
    ...services.map((name) => ({ name, kind: 'service' as const })),
    ...jobs.filter((j) => !services.includes(j)).map((name) => ({ name, kind: 'job' as const })),
  ];
  return { rows, signals: await loadSignals(rows, rangeMs, signal), alerts };
}

// Canvas strokes cannot use CSS variables; these read on both themes.
const SPARK_COLORS: Record<Level, string> = { ok: '#2f81f7', warning: '#c69026', critical: '#e5534b', unknown: '#8a8f98' };

// The latency cards' sparklines show exemplars: a slow request's trace is one click from the overview.
const EXEMPLAR_SIGNALS: ReadonlySet<Signal['id']> = new Set(['latency', 'span_latency']);

function Card({ s, row, d, alertLvl, rangeMs }: { s: Signal; row: Row; d: SignalData | undefined; alertLvl: Level; rangeMs: number }): preact.JSX.Element {
  const lvl = worst(levelOf(d?.last, s), alertLvl);
  const sel = labelMatcher(row.kind, row.name);
  const host = useRef<HTMLDivElement>(null);
  const withExemplars = EXEMPLAR_SIGNALS.has(s.id) && d !== undefined && d.xs.length > 1;
  const ex = useAsync(
    (signal): Promise<ExemplarPoint[]> => {
      if (!withExemplars) return Promise.resolve([]);
      const end = Date.now();
      // A dozen on a 140-pixel line: the slowest of each stretch of time.
      return queryExemplars(s.detail(sel), end - rangeMs, end, signal).then(
        (r) => thinExemplars(exemplarPoints(r), 12),
        () => [],
      );
    },
    [withExemplars, sel, rangeMs],
    15_000,
  );
  const card = (
    <a
      class={`card level-${lvl}`}
      href={exploreHref(s.detail(sel))}
      onClick={onLinkClick}
      data-signal={s.id}
      data-level={lvl}
      title={`Open ${s.title} of ${row.name} in Explore`}
    >
      <div class="card-title">{s.title}</div>
      <div class="card-value">{formatValue(d?.last, s.unit)}</div>
      {d && d.xs.length > 1 ? (
        <Sparkline xs={d.xs} ys={d.ys} color={SPARK_COLORS[lvl]} exemplars={ex.data} exemplarHost={withExemplars ? host : undefined} />
      ) : (
        <div class="spark spark-empty">{d ? 'one point so far' : 'no data'}</div>
      )}
    </a>
  );
  if (!withExemplars) return card;
  // The exemplar links sit beside the card's link, over its sparkline: links cannot nest.
  return (
    <div class="card-box">
      {card}
      <div class="card-exemplars" ref={host} data-testid="card-exemplars" />
    </div>
  );
}

function LatencyDetail({ row }: { row: Row }): preact.JSX.Element | null {
  // p50/p95/p99 for one row, on demand (three quantiles for every row would triple the queries).
  const sel = labelMatcher(row.kind, row.name);
  const st = useAsync(
    (signal) =>
      Promise.all(
        [0.5, 0.95, 0.99].map((q) =>
          query(`histogram_quantile(${q}, sum by (le) (rate(http_server_request_duration_seconds_bucket{${sel}}[1m])))`, undefined, signal).then((r) =>
            r.resultType === 'vector' && r.result[0] ? Number(r.result[0].value[1]) : undefined,
          ),
        ),
      ),
    [sel],
    15_000,
  );
  if (!st.data || st.data.every((v) => v === undefined)) return null;
  const [p50, p95, p99] = st.data;
  return (
    <span class="quantiles" data-testid="quantiles">
      p50 {formatValue(p50, 's')} · p95 {formatValue(p95, 's')} · p99 {formatValue(p99, 's')}
    </span>
  );
}

/** The overview page. */
export function Overview(): preact.JSX.Element {
  const loc = useLocation();
  const range = loc.params.get('range') ?? '30m';
  const rangeMs = parseDuration(range) ?? 1_800_000;
  const st = useAsync((signal) => loadOverview(rangeMs, signal), [rangeMs], 15_000);
  // Business cards load on their own so the golden signals never wait for them.
  const biz = useAsync(async (signal) => loadBusiness(await promGet<string[]>('/api/v1/label/__name__/values', undefined, signal), signal), [], 60_000);
  const business = biz.data ?? new Map<string, BusinessCard[]>();
  // SLO status per service, on its own too: a server without SLOs answers with empty vectors.
  const slo = useAsync(async (signal) => serviceSloStatus(sloRows({ ...(await loadSloInstant(signal)), history: [] })), [], 30_000);
  const slos = slo.data ?? new Map<string, ServiceSloStatus>();
  if (st.error && !st.data) return <ErrorBox error={st.error} hint="Check that Vigil is running and reachable, then reload." />;
  if (!st.data) return <Loading what="Loading services" />;
  const { rows, signals, alerts } = st.data;
  if (rows.length === 0) {
    return (
      <Empty title="No services yet">
        Vigil has no series. Add a <code>scrape_configs</code> job pointing at a service's <code>/metrics</code> (the SDK's <code>vigil.metricsHandler()</code>
        ), or remote_write to <code>/api/v1/write</code>. The demo: <code>npm start</code>.
      </Empty>
    );
  }
  return (
    <div class="overview">
      <div class="page-head">
        <h1>Overview</h1>
        <span class="muted">last {range} · refreshes every 15 s</span>
      </div>
      {rows.map((row) => {
        const rowAlerts = alerts.filter((a) => alertForRow(a, row.name));
        const present = rowSignals((id) => signals.get(id)?.has(row.name) ?? false);
        return (
          <section class="row" data-row={row.name} aria-label={`${row.kind} ${row.name}`}>
            <div class="row-head">
              <h2>{row.name}</h2>
              <span class="tag">{row.kind}</span>
              {row.kind === 'service' ? <LatencyDetail row={row} /> : null}
              {present.some((s) => s.id.startsWith('span_')) ? (
                <a
                  class="tag from-traces"
                  href={href(`/traces?${new URLSearchParams({ service: row.name, range }).toString()}`)}
                  onClick={onLinkClick}
                  title="No request metrics from this service: these cards come from the spans it sends (span metrics)"
                  data-link="row-traces"
                >
                  from traces
                </a>
              ) : null}
              {row.kind === 'service' && slos.has(row.name) ? <SloBadge service={row.name} st={slos.get(row.name)!} /> : null}
              {rowAlerts.length > 0 ? (
                <a
                  class={`badge level-${rowAlerts.reduce<Level>((l, a) => worst(l, alertLevel(a)), 'ok')}`}
                  href={href(`/alerts?filter=${encodeURIComponent(`${row.kind}=${row.name}`)}`)}
                  onClick={onLinkClick}
                >
                  {rowAlerts.length} alert{rowAlerts.length > 1 ? 's' : ''} firing: {[...new Set(rowAlerts.map((a) => a.labels['alertname']))].join(', ')}
                </a>
              ) : null}
            </div>
            {present.length === 0 ? (
              <div class="muted">No golden-signal metrics for this {row.kind}.</div>
            ) : (
              <div class="golden">
                {GOLDEN.map((g) => {
                  const cards = present.filter((s) => s.golden === g.id);
                  return (
                    <section data-golden={g.id} aria-label={`${g.title} of ${row.name}`}>
                      <h3>{g.title}</h3>
                      <div class="cards">
                        {cards.length === 0 ? <div class="muted small">{g.missing}</div> : null}
                        {cards.map((s) => {
                          const lvl = rowAlerts.filter((a) => signalOfAlert(a) === s.id).reduce<Level>((l, a) => worst(l, alertLevel(a)), 'unknown');
                          return <Card s={s} row={row} d={signals.get(s.id)?.get(row.name)} alertLvl={lvl} rangeMs={rangeMs} />;
                        })}
                      </div>
                    </section>
                  );
                })}
              </div>
            )}
            {(business.get(row.name) ?? []).length > 0 ? <h3 class="business-head">Business</h3> : null}
            {(business.get(row.name) ?? []).length > 0 ? (
              <div class="cards business">
                {business.get(row.name)!.map((b) => (
                  <a class="card level-ok" href={exploreHref(b.expr, '6h')} onClick={onLinkClick} data-business={b.title}>
                    <div class="card-title">{b.title}</div>
                    <div class="card-value">{formatValue(b.value, b.unit)}</div>
                    {b.compare !== undefined ? (
                      <div class="muted">
                        yesterday {formatValue(b.compare, b.unit)}
                        {b.compare > 0 && b.value !== undefined
                          ? ` (${b.value >= b.compare ? '+' : ''}${(((b.value - b.compare) / b.compare) * 100).toFixed(0)}%)`
                          : ''}
                      </div>
                    ) : null}
                  </a>
                ))}
              </div>
            ) : null}
          </section>
        );
      })}
    </div>
  );
}

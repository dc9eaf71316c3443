/**
 * Dashboards provisioned from a folder (served at `/api/v1/ui/dashboards`), plus ones imported or
 * edited in the browser (kept in localStorage, since the provisioned files are the server's).
 * Panels: time series, stat, gauge, table on a 24-column grid; variables from label values.
 */
import { useMemo, useState } from 'preact/hooks';
import { jsonCall, labelValues, query, queryExemplars, queryRange } from '../api.js';
import { exemplarPoints, thinExemplars, type ExemplarPoint } from '../lib/exemplars.js';
import { Chart } from '../components/Chart.js';
import { Empty, ErrorBox, Loading } from '../components/States.js';
import { TimePicker } from '../components/TimePicker.js';
import { useAsync } from '../hooks.js';
import { normalizeDashboard, substitute, type Dashboard, type Panel } from '../lib/dashboard.js';
import { formatValue } from '../lib/format.js';
import { align, legendName, seriesName } from '../lib/series.js';
import { autoStep, parseDuration, rangeFromParams, rangeToParams, resolveRange, type TimeRange } from '../lib/time.js';
import { exploreHref, href, navigate, onLinkClick, setParams, useLocation } from '../router.js';

const LOCAL_KEY = 'vigil.dashboards';

function localDashboards(): Record<string, unknown> {
  try {
    return JSON.parse(localStorage.getItem(LOCAL_KEY) ?? '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

async function loadAll(): Promise<{ list: Dashboard[]; errors: string[] }> {
  const errors: string[] = [];
  const files = await jsonCall<Array<{ id: string; dashboard: unknown }>>('GET', '/api/v1/ui/dashboards').catch((e: unknown) => {
    errors.push(`provisioned dashboards: ${(e as Error).message}`);
    return [];
  });
  const list: Dashboard[] = [];
  for (const f of files) {
    try {
      list.push(normalizeDashboard(f.dashboard, f.id));
    } catch (e) {
      errors.push(`${f.id}: ${(e as Error).message}`);
    }
  }
  for (const [id, d] of Object.entries(localDashboards())) {
    try {
      const n = normalizeDashboard(d, id);
      // A local edit overrides the provisioned dashboard of the same id.
      const i = list.findIndex((x) => x.id === n.id);
      if (i >= 0) list[i] = n;
      else list.push(n);
    } catch (e) {
      errors.push(`${id}: ${(e as Error).message}`);
    }
  }
  return { list, errors };
}

const COLORS: Readonly<Record<string, string>> = { green: 'ok', red: 'critical', orange: 'warning', yellow: 'warning' };

function levelFor(p: Panel, v: number | undefined): string {
  if (v === undefined) return 'unknown';
  let c = 'green';
  for (const t of p.thresholds) if (v >= t.value) c = t.color;
  return COLORS[c] ?? 'ok';
}

/** A panel is half a screen wide: past this many diamonds they cover the lines and each other (Explore shows them all). */
const EXEMPLARS_PER_PANEL = 60;

/** Targets over the same histogram return the same exemplars: each is drawn once. */
function uniqueExemplars(lists: ExemplarPoint[][]): ExemplarPoint[] {
  const seen = new Set<string>();
  return lists.flat().filter((e) => {
    const k = `${e.t}|${e.v}|${e.traceId ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function PanelView({ p, vars, range, tick }: { p: Panel; vars: Record<string, string>; range: TimeRange; tick: number }): preact.JSX.Element {
  const exprs = p.targets.map((t) => substitute(t.expr, vars));
  const key = JSON.stringify([exprs, range, tick]);
  const st = useAsync(
    async (signal) => {
      const { start, end } = resolveRange(range, Date.now());
      if (p.type === 'timeseries') {
        const step = autoStep(end - start);
        // Exemplars of the targets that ask for them (Grafana's switch); a failure leaves the chart without them.
        const [all, exemplars] = await Promise.all([
          Promise.all(p.targets.map((t, i) => queryRange(exprs[i]!, start, end, step, signal).then((ss) => ss.map((s) => ({ s, legend: t.legend }))))),
          Promise.all(
            p.targets.map((t, i) => (t.exemplar && !p.stacked ? queryExemplars(exprs[i]!, start, end, signal).then(exemplarPoints, () => []) : [])),
          ).then((lists) => thinExemplars(uniqueExemplars(lists), EXEMPLARS_PER_PANEL)),
        ]);
        return { kind: 'series' as const, series: all.flat(), exemplars };
      }
      const all = await Promise.all(exprs.map((e) => query(e, undefined, signal)));
      // A native-histogram sample has no single value to show here; Explore draws it as a heatmap.
      const histograms = all.reduce((n, r) => n + (r.resultType === 'vector' ? r.result.filter((s) => s.histogram).length : 0), 0);
      const rows = all.flatMap((r, i) =>
        r.resultType === 'vector'
          ? r.result.flatMap((s) => (s.histogram ? [] : [{ metric: s.metric, v: Number(s.value[1]), legend: p.targets[i]?.legend }]))
          : r.resultType === 'scalar'
            ? [{ metric: {}, v: Number(r.result[1]), legend: p.targets[i]?.legend }]
            : [],
      );
      return { kind: 'rows' as const, rows, histograms };
    },
    [key],
  );
  const data = st.data;
  const aligned = useMemo(() => (data?.kind === 'series' ? align(data.series.map((x) => x.s)) : undefined), [data]);
  const names = useMemo(() => (data?.kind === 'series' ? data.series.map((x) => legendName(x.s.metric, x.legend)) : []), [data]);
  const g = p.grid;
  let body: preact.JSX.Element;
  if (st.error) body = <ErrorBox error={st.error} />;
  else if (!data) body = <Loading />;
  else if (data.kind === 'series')
    body =
      data.series.length === 0 || !aligned ? (
        <div class="muted">No data in this range.</div>
      ) : (
        <Chart data={aligned} names={names} unit={p.unit} stacked={p.stacked} height={Math.max(80, g.h * 30 - 70)} exemplars={data.exemplars} />
      );
  else if (data.rows.length === 0)
    body =
      data.histograms > 0 ? (
        <div class="muted" data-testid="panel-histograms">
          The query returns native histograms, which this panel cannot show as one number.{' '}
          <a href={exploreHref(exprs[0] ?? '')} onClick={onLinkClick}>
            Open it in Explore
          </a>{' '}
          for the heatmap, or ask for <span class="mono">histogram_quantile(0.99, …)</span>.
        </div>
      ) : (
        <div class="muted">No data.</div>
      );
  else if (p.type === 'table')
    body = (
      <table class="data">
        <tbody>
          {data.rows.map((r) => (
            <tr>
              <td class="mono">{r.legend ? legendName(r.metric, r.legend) : seriesName(r.metric)}</td>
              <td class="num">{formatValue(r.v, p.unit)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  else if (p.type === 'gauge') {
    const v = data.rows[0]!.v;
    const min = p.min ?? 0;
    const max = p.max ?? (p.unit === 'percentunit' ? 1 : p.unit === 'percent' ? 100 : Math.max(1, v * 1.25));
    const frac = Math.min(1, Math.max(0, (v - min) / (max - min || 1)));
    const a = Math.PI * (1 - frac);
    body = (
      <svg class={`gauge level-${levelFor(p, v)}`} viewBox="0 0 120 70" role="img" aria-label={`${p.title}: ${formatValue(v, p.unit)}`}>
        <path d="M10 60 A50 50 0 0 1 110 60" class="gauge-track" />
        <path d={`M10 60 A50 50 0 0 1 ${60 + 50 * Math.cos(a)} ${60 - 50 * Math.sin(a)}`} class="gauge-fill" />
        <text x="60" y="56" text-anchor="middle">
          {formatValue(v, p.unit)}
        </text>
      </svg>
    );
  } else
    body = (
      <div class="stats">
        {data.rows.slice(0, 6).map((r) => (
          <div class={`stat level-${levelFor(p, r.v)}`}>
            <div class="card-value">{formatValue(r.v, p.unit)}</div>
            {data.rows.length > 1 ? <div class="muted small">{r.legend ? legendName(r.metric, r.legend) : seriesName(r.metric)}</div> : null}
          </div>
        ))}
      </div>
    );
  return (
    <div
      class="dash-panel panel"
      style={{ gridColumn: `${g.x + 1} / span ${g.w}`, gridRow: `${g.y + 1} / span ${g.h}` }}
      data-panel={p.title}
      data-type={p.type}
    >
      <div class="dash-panel-head">
        <h3>{p.title}</h3>
        <a href={exploreHref(exprs[0] ?? '')} onClick={onLinkClick} title="Open in Explore" aria-label={`Open ${p.title} in Explore`}>
          ↗
        </a>
      </div>
      {body}
    </div>
  );
}

function VariablePicker({
  d,
  values,
  onChange,
}: {
  d: Dashboard;
  values: Record<string, string>;
  onChange: (n: string, v: string) => void;
}): preact.JSX.Element {
  const opts = useAsync(() => Promise.all(d.variables.map((v) => labelValues(v.label, v.metric || undefined).catch(() => [] as string[]))), [d.id]);
  return (
    <>
      {d.variables.map((v, i) => (
        <label>
          {v.name}{' '}
          <select aria-label={`Variable ${v.name}`} value={values[v.name] ?? ''} onChange={(e) => onChange(v.name, e.currentTarget.value)}>
            {v.includeAll ? <option value="$__all">All</option> : null}
            {(opts.data?.[i] ?? []).map((o) => (
              <option value={o}>{o}</option>
            ))}
          </select>
        </label>
      ))}
    </>
  );
}

function DashboardView({ d }: { d: Dashboard }): preact.JSX.Element {
  const { params } = useLocation();
  const range = rangeFromParams(params, d.range);
  const refresh = params.get('refresh') ?? '30s';
  const [tick, setTick] = useState(0);
  useAsync(async () => setTick((t) => t + 1), [], parseDuration(refresh) ?? 0);
  const [editing, setEditing] = useState(false);
  const vars: Record<string, string> = {};
  for (const v of d.variables) vars[v.name] = params.get(`var-${v.name}`) ?? (v.includeAll ? '$__all' : '');
  // Variables without a chosen value take the first label value, once known.
  const firsts = useAsync(
    () =>
      Promise.all(
        d.variables.map((v) =>
          labelValues(v.label, v.metric || undefined).then(
            (x) => x[0] ?? '',
            () => '',
          ),
        ),
      ),
    [d.id],
  );
  d.variables.forEach((v, i) => {
    if (!vars[v.name] && firsts.data) vars[v.name] = firsts.data[i] ?? '';
  });
  const ready = d.variables.every((v) => vars[v.name]);
  return (
    <div class="dashboard" data-dashboard={d.id}>
      <div class="page-head">
        <h1>{d.title}</h1>
        <a href={href('/dashboards')} onClick={onLinkClick}>
          all dashboards
        </a>
        <button onClick={() => setEditing(!editing)}>{editing ? 'Close editor' : 'Edit JSON'}</button>
      </div>
      <div class="toolbar">
        <VariablePicker d={d} values={vars} onChange={(n, v) => setParams((p) => p.set(`var-${n}`, v))} />
        <TimePicker
          range={range}
          onRange={(r) => setParams((p) => rangeToParams(r, p))}
          refresh={refresh}
          onRefresh={(r) => setParams((p) => p.set('refresh', r || 'off'))}
        />
      </div>
      {d.warnings.length ? <div class="state warning">{d.warnings.join('; ')}</div> : null}
      {editing ? <Editor initial={d} /> : null}
      {ready ? (
        <div class="dash-grid">
          {d.panels.map((p) => (
            <PanelView p={p} vars={vars} range={range} tick={tick} />
          ))}
        </div>
      ) : (
        <Loading what="Loading variables" />
      )}
    </div>
  );
}

function toGrafana(d: Dashboard): unknown {
  return {
    uid: d.id,
    title: d.title,
    time: { from: `now-${d.range}`, to: 'now' },
    templating: {
      list: d.variables.map((v) => ({
        name: v.name,
        type: 'query',
        query: v.metric ? `label_values(${v.metric}, ${v.label})` : `label_values(${v.label})`,
        includeAll: v.includeAll,
      })),
    },
    panels: d.panels.map((p) => ({
      title: p.title,
      type: p.type,
      gridPos: p.grid,
      targets: p.targets.map((t) => ({ expr: t.expr, ...(t.legend ? { legendFormat: t.legend } : {}) })),
      fieldConfig: {
        defaults: {
          unit: p.unit,
          ...(p.stacked ? { custom: { stacking: { mode: 'normal' } } } : {}),
          ...(p.thresholds.length
            ? { thresholds: { steps: p.thresholds.map((t) => ({ value: Number.isFinite(t.value) ? t.value : null, color: t.color })) } }
            : {}),
        },
      },
    })),
  };
}

function Editor({ initial }: { initial?: Dashboard }): preact.JSX.Element {
  const [text, setText] = useState(initial ? JSON.stringify(toGrafana(initial), null, 2) : '');
  const [err, setErr] = useState<unknown>();
  const save = (): void => {
    try {
      const raw: unknown = JSON.parse(text);
      const d = normalizeDashboard(raw);
      const all = localDashboards();
      all[d.id] = raw;
      localStorage.setItem(LOCAL_KEY, JSON.stringify(all));
      navigate(`/dashboards/${encodeURIComponent(d.id)}`);
      location.reload();
    } catch (e) {
      setErr(e);
    }
  };
  return (
    <div class="panel editor-panel">
      <p class="muted">
        {initial
          ? 'Edit the dashboard JSON (Grafana’s format); saving keeps it in this browser.'
          : 'Paste a Grafana dashboard JSON (time series, stat, gauge and table panels with Prometheus targets).'}
      </p>
      <textarea class="json" aria-label="Dashboard JSON" value={text} onInput={(e) => setText(e.currentTarget.value)} rows={16} />
      <div class="actions">
        <button class="primary" onClick={save}>
          {initial ? 'Save' : 'Import'}
        </button>
      </div>
      {err ? <ErrorBox error={err} hint="The JSON needs a panels array; panels need targets with a PromQL expr." /> : null}
    </div>
  );
}

/** The dashboards page: a list, or one dashboard at `/dashboards/<id>`. */
export function Dashboards({ id }: { id?: string | undefined }): preact.JSX.Element {
  const st = useAsync(() => loadAll(), []);
  const [importing, setImporting] = useState(false);
  if (st.error) return <ErrorBox error={st.error} />;
  if (!st.data) return <Loading what="Loading dashboards" />;
  const { list, errors } = st.data;
  if (id) {
    const d = list.find((x) => x.id === id);
    return d ? <DashboardView d={d} /> : <Empty title={`No dashboard “${id}”`}>Pick one from the list at /ui/dashboards, or import it.</Empty>;
  }
  return (
    <div class="dashboards">
      <div class="page-head">
        <h1>Dashboards</h1>
        <button onClick={() => setImporting(!importing)}>Import…</button>
      </div>
      {errors.map((e) => (
        <div class="state warning">{e}</div>
      ))}
      {importing ? <Editor /> : null}
      {list.length === 0 ? (
        <Empty title="No dashboards">Put dashboard JSON files (Grafana’s format) in the dashboards folder, or import one here.</Empty>
      ) : (
        <ul class="dash-list">
          {list.map((d) => (
            <li>
              <a href={href(`/dashboards/${encodeURIComponent(d.id)}`)} onClick={onLinkClick}>
                {d.title}
              </a>{' '}
              <span class="muted">{d.panels.length} panels</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

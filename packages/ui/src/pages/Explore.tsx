/**
 * Explore: a PromQL query as a graph or a table over a time range, with everything in the URL
 * (`expr`, `range` or `from`/`to`, `step`, `stacked`, `view`, `refresh`) so a link reproduces it.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiFailure, query, queryExemplars, queryRange, type QueryResult } from '../api.js';
import { exemplarPoints, type ExemplarPoint } from '../lib/exemplars.js';
import type { ApiHistogram } from '../lib/histogram.js';
import { Chart } from '../components/Chart.js';
import { HistogramHeatmap } from '../components/HistogramHeatmap.js';
import { QueryEditor } from '../components/QueryEditor.js';
import { Empty, Loading } from '../components/States.js';
import { TimePicker } from '../components/TimePicker.js';
import { useAsync } from '../hooks.js';
import { unitOf } from '../lib/format.js';
import { align, legendName, seriesName, type MatrixSeries } from '../lib/series.js';
import { autoStep, formatDuration, parseDuration, rangeFromParams, rangeToParams, resolveRange } from '../lib/time.js';
import { setParams, useLocation } from '../router.js';

// Prometheus refuses more than 11,000 points per series; stay under it.
const MAX_POINTS = 11_000;

function Table({ result }: { result: QueryResult }): preact.JSX.Element {
  if (result.resultType === 'scalar' || result.resultType === 'string') {
    return (
      <table class="data">
        <tbody>
          <tr>
            <td>{result.resultType}</td>
            <td class="num">{result.result[1]}</td>
          </tr>
        </tbody>
      </table>
    );
  }
  if (result.result.length === 0)
    return <Empty title="The query returned no series">Check the metric name and label matchers; the metric may not have been scraped in this range.</Empty>;
  const rows =
    result.resultType === 'vector'
      ? result.result.map((s) => ({ m: s.metric, v: s.histogram ? histogramText(s.histogram[1]) : s.value[1] }))
      : (result.result as MatrixSeries[]).map((s) => ({
          m: s.metric,
          v: s.histograms?.length ? `${s.histograms.length} histograms` : `${s.values.length} points, last ${s.values[s.values.length - 1]?.[1] ?? ''}`,
        }));
  return (
    <table class="data">
      <thead>
        <tr>
          <th>Series</th>
          <th class="num">Value</th>
        </tr>
      </thead>
      <tbody>
        {rows.slice(0, 1000).map((r) => (
          <tr>
            <td class="mono">{seriesName(r.m)}</td>
            <td class="num mono">{r.v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A native histogram in a table cell: its count, sum and number of buckets. */
function histogramText(h: ApiHistogram): string {
  return `histogram: count ${h.count}, sum ${h.sum}, ${h.buckets?.length ?? 0} buckets`;
}

/** The Explore page. */
export function Explore(): preact.JSX.Element {
  const { params } = useLocation();
  const expr = params.get('expr') ?? '';
  const range = rangeFromParams(params);
  const view = params.get('view') === 'table' ? 'table' : 'graph';
  const stacked = params.get('stacked') === '1';
  const refresh = params.get('refresh') ?? '';
  const stepParam = params.get('step') ?? '';
  const legend = params.get('legend') ?? '';
  const [draft, setDraft] = useState(expr);
  useEffect(() => setDraft(expr), [expr]);

  const rangeKey = range.kind === 'relative' ? range.range : `${range.from}-${range.to}`;
  const st = useAsync(
    async (signal) => {
      if (!expr.trim()) return undefined;
      const { start, end } = resolveRange(range, Date.now());
      if (view === 'table') return { kind: 'table' as const, result: await query(expr, range.kind === 'absolute' ? end : undefined, signal) };
      let step = parseDuration(stepParam) ?? autoStep(end - start);
      if ((end - start) / step > MAX_POINTS) step = Math.ceil((end - start) / MAX_POINTS / 1000) * 1000;
      // Exemplars are extra: a server without them (or a failure) leaves the graph as it is.
      const [series, exemplars] = await Promise.all([
        queryRange(expr, start, end, step, signal),
        queryExemplars(expr, start, end, signal).then(exemplarPoints, (): ExemplarPoint[] => []),
      ]);
      return { kind: 'graph' as const, series, exemplars, step, range: [start / 1000, end / 1000] as const };
    },
    [expr, rangeKey, view, stepParam],
    parseDuration(refresh) ?? 0,
  );

  const graph = st.data?.kind === 'graph' ? st.data : undefined;
  const all: MatrixSeries[] = graph?.series ?? [];
  // Native histograms are drawn as a heatmap; float series (even of the same query) as lines.
  const histograms = useMemo(() => all.filter((s) => (s.histograms?.length ?? 0) > 0), [all]);
  const series = useMemo(() => (histograms.length === 0 ? all : all.filter((s) => s.values.length > 0)), [all, histograms]);
  const aligned = useMemo(() => align(series), [series]);
  const names = useMemo(() => series.map((s) => legendName(s.metric, legend || undefined)), [series, legend]);
  const error = st.error instanceof ApiFailure ? st.error.message : st.error ? String(st.error) : undefined;

  const run = (): void => setParams((p) => p.set('expr', draft.trim()), false);
  return (
    <div class="explore">
      <div class="page-head">
        <h1>Explore</h1>
      </div>
      <div class="query-row">
        <QueryEditor value={draft} onInput={setDraft} onRun={run} error={error} />
        <button class="primary" onClick={run} title="Run (Enter)">
          Run
        </button>
      </div>
      <div class="toolbar">
        <div class="tabs" role="tablist">
          {(['graph', 'table'] as const).map((v) => (
            <button
              role="tab"
              aria-selected={view === v}
              class={view === v ? 'on' : ''}
              onClick={() => setParams((p) => (v === 'graph' ? p.delete('view') : p.set('view', v)))}
            >
              {v === 'graph' ? 'Graph' : 'Table'}
            </button>
          ))}
        </div>
        <TimePicker
          range={range}
          onRange={(r) => setParams((p) => rangeToParams(r, p))}
          refresh={refresh}
          onRefresh={(r) => setParams((p) => (r ? p.set('refresh', r) : p.delete('refresh')))}
        />
        {view === 'graph' ? (
          <>
            <label>
              Step{' '}
              <input
                class="short"
                aria-label="Step"
                placeholder={graph ? formatDuration(graph.step) : 'auto'}
                value={stepParam}
                onChange={(e) => {
                  const v = e.currentTarget.value.trim();
                  setParams((p) => (v ? p.set('step', v) : p.delete('step')));
                }}
              />
            </label>
            <label>
              <input
                type="checkbox"
                checked={stacked}
                onChange={(e) => setParams((p) => (e.currentTarget.checked ? p.set('stacked', '1') : p.delete('stacked')))}
              />{' '}
              Stacked
            </label>
            <label>
              Legend{' '}
              <input
                aria-label="Legend format"
                placeholder="{{route}}"
                value={legend}
                onChange={(e) => {
                  const v = e.currentTarget.value;
                  setParams((p) => (v ? p.set('legend', v) : p.delete('legend')));
                }}
              />
            </label>
          </>
        ) : null}
        {st.loading ? <span class="muted">loading…</span> : null}
      </div>
      {!expr ? (
        <Empty title="Enter a PromQL expression">
          Start typing a metric name for suggestions; Enter runs the query. Try{' '}
          <code>sum by (route) (rate(http_server_request_duration_seconds_count[1m]))</code>.
        </Empty>
      ) : error ? null : st.data === undefined ? (
        <Loading what="Running query" />
      ) : st.data?.kind === 'table' ? (
        <Table result={st.data.result} />
      ) : graph ? (
        series.length === 0 && histograms.length === 0 ? (
          <Empty title="The query returned no series in this range">
            Widen the time range, or check the metric name and label matchers (autocomplete lists what exists).
          </Empty>
        ) : (
          <>
            {histograms.length > 0 ? (
              <>
                <div class="muted small" data-testid="histogram-summary">
                  {histograms.length} native-histogram series{histograms.length > 1 ? ' (summed)' : ''} · step {formatDuration(graph.step)}
                </div>
                <HistogramHeatmap expr={expr} series={histograms} range={graph.range} step={graph.step} unit={unitOf(expr) ?? 'short'} />
              </>
            ) : null}
            {series.length > 0 ? (
              <>
                <div class="muted small" data-testid="result-summary">
                  {series.length} series · {aligned[0].length} timestamps · step {formatDuration(graph.step)}
                  {graph.exemplars.length > 0 ? ` · ${graph.exemplars.length} exemplars (◆ opens its trace; red ◆: a failed request)` : ''}
                </div>
                <Chart
                  data={aligned}
                  names={names}
                  stacked={stacked}
                  unit={unitOf(expr) ?? 'short'}
                  height={360}
                  range={graph.range}
                  exemplars={stacked ? [] : graph.exemplars}
                />
                {series.length > 40 ? <div class="muted small">The legend is hidden above 40 series; switch to the table view to list them.</div> : null}
              </>
            ) : null}
          </>
        )
      ) : null}
    </div>
  );
}

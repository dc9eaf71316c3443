/**
 * Native histograms over time as a heatmap on uPlot: time across, bucket boundaries up a log axis,
 * each bucket's observations per second as colour, with the p50, p90 and p99 (PromQL
 * `histogram_quantile`) drawn as lines over it and given as figures for the whole range above it.
 * Hovering names the bucket under the pointer and its value.
 */
import { useEffect, useMemo, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { query, queryRange } from '../api.js';
import { useAsync } from '../hooks.js';
import { formatValue } from '../lib/format.js';
import { cellAt, heatColor, heatmapOf, isCumulative, quantileQueries, type Heatmap } from '../lib/histogram.js';
import type { MatrixSeries } from '../lib/series.js';
import { formatDuration, timeAxisLabel } from '../lib/time.js';

const QUANTILES = [
  { q: 0.5, name: 'p50', color: '#00b4ff' },
  { q: 0.9, name: 'p90', color: '#2bd96b' },
  { q: 0.99, name: 'p99', color: '#ff2d55' },
] as const;

/** Props of {@link HistogramHeatmap}. */
export interface HistogramHeatmapProps {
  readonly expr: string;
  readonly series: readonly MatrixSeries[];
  /** Unix seconds. */
  readonly range: readonly [number, number];
  /** ms. */
  readonly step: number;
  readonly unit: string;
  readonly height?: number;
}

function axisColor(): string {
  return getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#888';
}

function rateUnit(map: Heatmap): string {
  return map.measure === 'per second' ? '/s' : '';
}

/** Paints the cells under the quantile lines, clipped to the plot area. */
function paintCells(u: uPlot, map: Heatmap): void {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  const bottom = top + height;
  for (const c of map.cells) {
    const x0 = u.valToPos(c.t0, 'x', true);
    const x1 = u.valToPos(c.t1, 'x', true);
    const yHi = u.valToPos(c.upper, 'y', true);
    const yLo = c.lower > 0 ? u.valToPos(c.lower, 'y', true) : bottom;
    ctx.fillStyle = heatColor(c.value, map.maxValue);
    // A pixel of overlap so neighbouring cells leave no hairline gaps.
    ctx.fillRect(Math.floor(x0), Math.floor(yHi), Math.max(1, Math.ceil(x1 - x0) + 1), Math.max(1, Math.ceil(yLo - yHi) + 1));
  }
  ctx.restore();
}

/** The heatmap with its quantiles. */
export function HistogramHeatmap({ expr, series, range, step, unit, height = 360 }: HistogramHeatmapProps): preact.JSX.Element {
  const cumulative = isCumulative(expr);
  const map = useMemo(
    () =>
      heatmapOf(
        series.map((s) => s.histograms ?? []),
        cumulative,
      ),
    [series, cumulative],
  );
  const rangeSec = range[1] - range[0];
  const stepSec = step / 1000;
  // Four steps (at least a minute) per rate window: enough samples for a rate at any scrape interval.
  const windowSec = Math.max(60, 4 * stepSec);
  const queries = useMemo(() => quantileQueries(expr, rangeSec, stepSec, windowSec), [expr, rangeSec, stepSec, windowSec]);
  const quantiles = useAsync(
    async (signal) => {
      const [lines, totals] = await Promise.all([
        Promise.all(QUANTILES.map((q) => queryRange(queries.line(q.q), range[0] * 1000, range[1] * 1000, step, signal))),
        Promise.all(QUANTILES.map((q) => query(queries.total(q.q), range[1] * 1000, signal))),
      ]);
      return {
        lines: lines.map((r) => r[0]?.values ?? []),
        totals: totals.map((r) => (r.resultType === 'vector' && r.result[0]?.value ? Number(r.result[0].value[1]) : undefined)),
      };
    },
    [queries, range[0], range[1], step],
  );

  const box = useRef<HTMLDivElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const lines = quantiles.data?.lines;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const began = performance.now();
    el.dataset['xFrom'] = String(range[0]);
    el.dataset['xTo'] = String(range[1]);
    // x: the timestamps of the quantile lines and of the cells, so both can be drawn.
    const xs = new Set<number>();
    for (const c of map.cells) xs.add(c.t1);
    for (const l of lines ?? []) for (const [t] of l) xs.add(t);
    const x = [...xs].sort((a, b) => a - b);
    const row = new Map(x.map((t, i) => [t, i]));
    const cols = QUANTILES.map((_, i) => {
      const col = new Array<number | null>(x.length).fill(null);
      for (const [t, v] of lines?.[i] ?? []) {
        const n = Number(v);
        if (Number.isFinite(n) && n > 0) col[row.get(t)!] = n;
      }
      return col;
    });
    const grid = { stroke: 'rgba(128,128,128,0.15)', width: 1 };
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        legend: { show: true, live: true },
        cursor: { points: { show: false }, drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: () => [range[0], range[1]] },
          y: { distr: 3, log: 10, range: () => [map.yMin, map.yMax] },
        },
        axes: [
          {
            stroke: axisColor(),
            grid,
            ticks: grid,
            space: (u: uPlot) => ((u.scales['x']?.max ?? 0) - (u.scales['x']?.min ?? 0) > 36 * 3600 ? 110 : 60),
            values: (u: uPlot, vals: number[]) => vals.map((v) => timeAxisLabel(v, (u.scales['x']?.max ?? 0) - (u.scales['x']?.min ?? 0))),
          },
          {
            stroke: axisColor(),
            grid,
            ticks: grid,
            size: 70,
            // Room for 20 ms and 50 ms between the decades.
            space: 20,
            values: (_u: uPlot, vals: number[]) => {
              // uPlot passes null for the log ticks it has no room to label.
              const labels = vals.map((v) => (v === null ? '' : formatValue(v, unit)));
              el.dataset['yLabels'] = labels.join('|');
              return labels;
            },
          },
        ],
        series: [
          {},
          ...QUANTILES.map((q) => ({
            label: q.name,
            stroke: q.color,
            width: 2,
            ...(q.q === 0.5 ? { dash: [6, 4] } : {}),
            points: { show: false },
            value: (_u: uPlot, v: number | null) => formatValue(v, unit),
          })),
        ],
        hooks: {
          drawAxes: [(u: uPlot) => paintCells(u, map)],
          draw: [
            () => {
              if (!el.dataset['drawMs']) el.dataset['drawMs'] = (performance.now() - began).toFixed(1);
            },
          ],
          setCursor: [
            (u: uPlot) => {
              const t = tip.current;
              if (!t) return;
              const { left = -1, top = -1 } = u.cursor;
              const cell = left < 0 || top < 0 ? undefined : cellAt(map, u.posToVal(left, 'x'), u.posToVal(top, 'y'));
              if (!cell) {
                t.hidden = true;
                delete el.dataset['hover'];
                return;
              }
              const bucket = `${cell.lower > 0 ? formatValue(cell.lower, unit) : '0'} – ${formatValue(cell.upper, unit)}`;
              const value = `${formatValue(cell.value, 'short')}${rateUnit(map)}`;
              t.textContent = `${timeAxisLabel(cell.t1, 0)}  ·  ${bucket}  ·  ${value}${map.measure === 'per second' ? ' observations' : ''}`;
              t.hidden = false;
              const over = u.over.getBoundingClientRect();
              const host = el.getBoundingClientRect();
              t.style.left = `${Math.min(over.left - host.left + left + 12, host.width - t.offsetWidth - 4)}px`;
              t.style.top = `${over.top - host.top + top + 12}px`;
              el.dataset['hover'] = JSON.stringify({ t: cell.t1, lower: cell.lower, upper: cell.upper, value: cell.value });
            },
          ],
        },
      },
      [x, ...cols] as uPlot.AlignedData,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [map, lines, unit, height, range[0], range[1]]);

  const totals = quantiles.data?.totals;
  return (
    <div class="heatmap">
      <div class="quantiles" data-testid="histogram-quantiles">
        {QUANTILES.map((q, i) => (
          <div class="quantile" data-q={q.name}>
            <span class="q-name" style={{ borderColor: q.color }}>
              {q.name}
            </span>
            <span class="q-value mono">{totals ? (totals[i] === undefined ? '–' : formatValue(totals[i], unit)) : quantiles.error ? '–' : '…'}</span>
          </div>
        ))}
        <span class="muted small">
          {quantiles.error ? `quantiles unavailable: ${quantiles.error instanceof Error ? quantiles.error.message : String(quantiles.error)} · ` : ''}
          {queries.totalOver === 'range'
            ? `over the last ${formatDuration(rangeSec * 1000)}, all series together`
            : 'at the end of the range, all series together'}
        </span>
      </div>
      <div class="chart heat" ref={box} data-cells={map.cells.length} data-y-min={map.yMin} data-y-max={map.yMax} data-max-value={map.maxValue}>
        <div class="heat-tip" ref={tip} role="tooltip" hidden />
      </div>
      <div class="heat-scale muted small">
        <span>0</span>
        <span class="heat-bar" aria-hidden="true" />
        <span>
          {formatValue(map.maxValue, 'short')}
          {rateUnit(map)}
        </span>
        <span>
          {map.measure === 'per second' ? 'observations per second in each bucket' : 'value of each bucket'} · lines: p50 (dashed), p90, p99 over{' '}
          {cumulative ? `${formatDuration(windowSec * 1000)} windows` : 'the query'}
          {map.belowZero > 0 ? ` · ${formatValue(map.belowZero, 'short')} in buckets at or below zero, not drawn on the log axis` : ''}
        </span>
      </div>
    </div>
  );
}

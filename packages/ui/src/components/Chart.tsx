/**
 * Time-series charts on uPlot, which draws 10,000 points in a few milliseconds on a canvas. The time
 * from creating the plot to its first draw is written to `data-draw-ms`, so the browser tests can
 * hold the chart to its budget.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatValue } from '../lib/format.js';
import { timeAxisLabel } from '../lib/time.js';
import { stack, type Aligned } from '../lib/series.js';
import type { ExemplarPoint } from '../lib/exemplars.js';

/** Series colours: distinguishable in light and dark themes. */
export const PALETTE = ['#2f81f7', '#e5534b', '#46954a', '#c69026', '#986ee2', '#0fa5a5', '#d66bb0', '#8a8f98', '#f08c3a', '#5a6fd6'];

/** Props of {@link Chart}. */
export interface ChartProps {
  readonly data: Aligned;
  readonly names: readonly string[];
  readonly unit?: string;
  readonly stacked?: boolean;
  readonly height?: number;
  /** The time range shown, Unix seconds: the x axis spans it whatever the data covers. */
  readonly range?: readonly [number, number] | undefined;
  /** Exemplars drawn as diamonds at their time and value, each a link to its trace. */
  readonly exemplars?: readonly ExemplarPoint[];
}

/**
 * Places the exemplars as links over the plot (in uPlot's overlay, above the canvas, so each can
 * be clicked, hovered for its title and reached by keyboard); points outside the scales are left out.
 * `host` is where the links go when they may not sit inside the plot's element (a sparkline inside
 * a card that is itself a link: links do not nest); they are then offset to land on the plot.
 */
function placeExemplars(u: uPlot, points: readonly ExemplarPoint[], host: HTMLElement = u.over): void {
  let layer = host.querySelector<HTMLDivElement>(':scope > .exemplars');
  if (!layer) {
    layer = document.createElement('div');
    layer.className = 'exemplars';
    host.appendChild(layer);
  }
  layer.replaceChildren();
  const hostBox = host.getBoundingClientRect();
  const overBox = u.over.getBoundingClientRect();
  const dx = host === u.over ? 0 : overBox.left - hostBox.left;
  const dy = host === u.over ? 0 : overBox.top - hostBox.top;
  const { min: xMin = 0, max: xMax = 0 } = u.scales['x'] ?? {};
  const { min: yMin = 0, max: yMax = 0 } = u.scales['y'] ?? {};
  for (const p of points) {
    if (p.t < xMin || p.t > xMax || p.v < yMin || p.v > yMax) continue;
    const a = document.createElement(p.href ? 'a' : 'span');
    a.className = p.error ? 'exemplar error' : 'exemplar';
    if (p.href) a.setAttribute('href', p.href);
    a.title = p.title;
    a.setAttribute('aria-label', `${p.error ? 'failed request ' : ''}exemplar${p.traceId ? `, trace ${p.traceId}` : ''}`);
    if (p.traceId) a.dataset['traceId'] = p.traceId;
    a.dataset['value'] = String(p.v);
    a.style.left = `${dx + u.valToPos(p.t, 'x')}px`;
    a.style.top = `${dy + u.valToPos(p.v, 'y')}px`;
    layer.appendChild(a);
  }
}

/**
 * A y range that holds the data and the exemplars: a slow request's exemplar sits above a p99 line
 * that averages it away, and it is the one worth clicking, so it must not fall off the chart.
 */
function yRangeWith(exemplars: readonly ExemplarPoint[] | undefined): uPlot.Range.Function | undefined {
  if (!exemplars || exemplars.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of exemplars) {
    lo = Math.min(lo, e.v);
    hi = Math.max(hi, e.v);
  }
  return (_u, min, max) => {
    const a = Math.min(min ?? lo, lo);
    const b = Math.max(max ?? hi, hi);
    return uPlot.rangeNum(a, b, 0.1, true);
  };
}

function axisColor(): string {
  return getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#888';
}

/** A time-series chart with a legend from the series' labels. */
export function Chart({ data, names, unit = 'short', stacked = false, height = 300, range, exemplars }: ChartProps): preact.JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const began = performance.now();
    const xRange = range && range[1] > range[0] ? range : undefined;
    const shown = stacked ? stack(data) : data;
    const grid = { stroke: 'rgba(128,128,128,0.15)', width: 1 };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      // Past a few dozen series the legend becomes a wall; the table view lists them instead.
      legend: { show: names.length <= 40, live: true },
      cursor: { points: { size: 5 } },
      // The chosen range when given (an empty hour at the end of the range stays visible); otherwise the
      // data's. One timestamp gives uPlot a zero-width range it widens to years; show a minute either side.
      scales: {
        ...(yRangeWith(exemplars) ? { y: { range: yRangeWith(exemplars)! } } : {}),
        x: xRange
          ? { time: true, range: () => [xRange[0], xRange[1]] }
          : data[0].length === 1
            ? { time: true, range: [data[0][0]! - 60, data[0][0]! + 60] }
            : { time: true },
      },
      axes: [
        {
          stroke: axisColor(),
          grid,
          ticks: grid,
          // Room for the widest label ("Nov 26 16:00") between ticks, so a week's labels never run
          // into each other; uPlot then picks daily ticks for a week and 5-minute ones for an hour.
          space: (u: uPlot) => ((u.scales['x']?.max ?? 0) - (u.scales['x']?.min ?? 0) > 36 * 3600 ? 110 : 60),
          // Labels follow the span shown: dates for days, hh:mm for hours. The last labels drawn are
          // kept on the element, as the draw time is, so tests can read what the canvas shows.
          values: (u: uPlot, vals: number[]) => {
            const span = (u.scales['x']?.max ?? 0) - (u.scales['x']?.min ?? 0);
            const labels = vals.map((v) => timeAxisLabel(v, span));
            el.dataset['xLabels'] = labels.join('|');
            el.dataset['xMin'] = String(u.scales['x']?.min ?? '');
            el.dataset['xMax'] = String(u.scales['x']?.max ?? '');
            return labels;
          },
        },
        { stroke: axisColor(), grid, ticks: grid, size: 70, values: (_u, vals) => vals.map((v) => formatValue(v, unit)) },
      ],
      series: [
        {},
        ...names.map((n, i) => {
          const color = PALETTE[i % PALETTE.length]!;
          return {
            label: n,
            stroke: color,
            width: 1.5,
            value: (_u: uPlot, v: number | null) => formatValue(v, unit),
            ...(stacked ? { fill: `${color}40` } : {}),
            // A line needs two points: a lone sample (a week's range over a minute of data) is a dot.
            points: { show: data[0].length <= 3, size: 6, fill: color },
          };
        }),
      ],
      ...(stacked ? { bands: names.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })) } : {}),
      hooks: {
        draw: [
          () => {
            if (!el.dataset['drawMs']) el.dataset['drawMs'] = (performance.now() - began).toFixed(1);
          },
          ...(exemplars && exemplars.length > 0 ? [(u: uPlot) => placeExemplars(u, exemplars)] : []),
        ],
      },
    };
    delete el.dataset['drawMs'];
    const plot = new uPlot(opts, shown as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [data, names, unit, stacked, height, range?.[0], range?.[1], exemplars]);
  return <div class="chart" ref={box} data-points={data[0].length * (data.length - 1)} data-series={data.length - 1} />;
}

/** A small line without axes, for cards; exemplars, when given, go into `exemplarHost` (outside the card's link). */
export function Sparkline({
  xs,
  ys,
  color = 'currentColor',
  width = 140,
  height = 34,
  exemplars,
  exemplarHost,
}: {
  xs: number[];
  ys: Array<number | null>;
  color?: string;
  width?: number;
  height?: number;
  exemplars?: readonly ExemplarPoint[] | undefined;
  exemplarHost?: { readonly current: HTMLElement | null } | undefined;
}): preact.JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || xs.length < 2) return;
    const host = exemplarHost?.current ?? undefined;
    const shown = host && exemplars && exemplars.length > 0 ? exemplars : undefined;
    const yRange = yRangeWith(shown);
    const plot = new uPlot(
      {
        width,
        height,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false }, ...(yRange ? { y: { range: yRange } } : {}) },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: color, width: 1.5, fill: 'rgba(128,128,128,0.12)', points: { show: false } }],
        hooks: shown && host ? { draw: [(u: uPlot) => placeExemplars(u, shown, host)] } : {},
      },
      [xs, ys] as uPlot.AlignedData,
      el,
    );
    return () => {
      plot.destroy();
      host?.querySelector(':scope > .exemplars')?.remove();
    };
  }, [xs, ys, color, width, height, exemplars, exemplarHost]);
  return <div class="spark" ref={box} aria-hidden="true" />;
}

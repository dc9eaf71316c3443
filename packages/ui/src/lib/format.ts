/** Number formatting by unit, shared by cards, panels, tables and chart axes. */

/** Units the UI knows (Grafana's names where they exist, so imported dashboards keep theirs). */
export type Unit = 's' | 'ms' | 'percent' | 'percentunit' | 'bytes' | 'reqps' | 'ops' | 'short' | 'none' | 'currencyUSD';

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

function trim(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs === 0) return '0';
  if (abs >= 100) return n.toFixed(0);
  return Number(n.toPrecision(digits)).toString();
}

function si(n: number): string {
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  return trim(v) + SI[i];
}

/** Formats `v` for display in `unit`. */
export function formatValue(v: number | null | undefined, unit: Unit | string = 'short'): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 's':
      if (Math.abs(v) < 1e-3) return `${trim(v * 1e6)} µs`;
      if (Math.abs(v) < 1) return `${trim(v * 1000)} ms`;
      if (Math.abs(v) < 120) return `${trim(v)} s`;
      return `${trim(v / 60)} min`;
    case 'ms':
      return formatValue(v / 1000, 's');
    case 'percent':
      return `${trim(v)}%`;
    case 'percentunit':
      return `${trim(v * 100)}%`;
    case 'bytes': {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let i = 0;
      let x = v;
      while (Math.abs(x) >= 1024 && i < units.length - 1) {
        x /= 1024;
        i++;
      }
      return `${trim(x)} ${units[i]}`;
    }
    case 'reqps':
      return `${si(v)} req/s`;
    case 'ops':
      return `${si(v)}/s`;
    case 'currencyUSD':
      return `$${v.toLocaleString('en-US', { maximumFractionDigits: 2, minimumFractionDigits: Math.abs(v) < 1000 ? 2 : 0 })}`;
    case 'none':
      return trim(v, 6);
    default:
      return si(v);
  }
}

/**
 * The benchmarks' regression guard: every run's figures are kept, and a quick run is compared with
 * the one before it. A figure "moved" when it changed by more than its noise band, and the band is
 * measured on this machine: the largest change of that figure between two runs of the same commit.
 * On a shared 2-core machine some figures jitter by half, others by a percent; one fixed threshold
 * would either cry wolf or sleep through a regression.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One invocation's figures, by benchmark then by flattened figure name. */
export interface BenchRun {
  readonly mode: 'quick' | 'full';
  readonly startedAt: string;
  readonly commit: string | null;
  readonly figures: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Below this a change is never called a move, however steady the figure was. */
export const MIN_BAND = 0.05;

/** Fields that describe a run rather than measure it. */
const NOT_FIGURES = new Set(['startedAt', 'host', 'args', 'seed', 'benchmark', 'version', 'error', 'errorSamples', 'title', 'expr', 'targetMs', 'reps']);
/** Fields that name an element of a list, so its figures keep their name when the list's order changes. */
const KEY_FIELDS = ['id', 'name', 'phase', 'query', 'peer', 'pattern'];

/** Every finite number in a benchmark's JSON record, named by its path (`servers[vigil].samplesPerSecond`). */
export function flattenFigures(value: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && prefix !== '') out[prefix] = value;
  } else if (Array.isArray(value)) {
    value.forEach((el, i) => {
      const keys = el !== null && typeof el === 'object' ? KEY_FIELDS.filter((k) => typeof (el as Record<string, unknown>)[k] === 'string') : [];
      const label = keys.length > 0 ? keys.map((k) => String((el as Record<string, unknown>)[k])).join(',') : String(i);
      flattenFigures(el, `${prefix}[${label}]`, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (!NOT_FIGURES.has(k)) flattenFigures(v, prefix === '' ? k : `${prefix}.${k}`, out);
  }
  return out;
}

/** Relative change from `a` to `b`; 0 when both are 0, Infinity from 0 to anything else. */
export function relativeChange(a: number, b: number): number {
  if (a === b) return 0;
  return a === 0 ? Infinity : (b - a) / Math.abs(a);
}

/** Consecutive runs of the same commit among the newest `window` runs: the pairs a noise band is measured on. */
export function sameCommitPairs(runs: readonly BenchRun[], window = 6): Array<[BenchRun, BenchRun]> {
  const recent = runs.slice(-window);
  const pairs: Array<[BenchRun, BenchRun]> = [];
  for (let i = 1; i < recent.length; i++) {
    const a = recent[i - 1]!;
    const b = recent[i]!;
    if (a.commit !== null && a.commit === b.commit) pairs.push([a, b]);
  }
  return pairs;
}

/** One figure of the comparison. */
export interface FigureChange {
  readonly bench: string;
  readonly figure: string;
  readonly before: number;
  readonly after: number;
  /** Relative change, after against before. */
  readonly change: number;
  /** The noise band it is judged against (relative). */
  readonly band: number;
  readonly moved: boolean;
}

/** The comparison of `current` with `baseline`, each figure judged against the band measured on `pairs`. */
export interface Comparison {
  readonly baseline: BenchRun | undefined;
  readonly current: BenchRun;
  readonly pairsMeasured: number;
  readonly changes: FigureChange[];
}

/**
 * Compares `current` with `baseline` figure by figure. A figure's band is the largest relative
 * change it showed across `pairs` (runs of one commit), never below {@link MIN_BAND}; a figure no
 * pair measured gets the largest band of its benchmark, the best guess at how noisy that run is.
 */
export function compareRuns(baseline: BenchRun | undefined, current: BenchRun, pairs: ReadonlyArray<readonly [BenchRun, BenchRun]>): Comparison {
  const changes: FigureChange[] = [];
  if (baseline !== undefined) {
    for (const [bench, figs] of Object.entries(current.figures)) {
      const bands = new Map<string, number>();
      for (const [a, b] of pairs) {
        const fa = a.figures[bench];
        const fb = b.figures[bench];
        if (!fa || !fb) continue;
        for (const [name, va] of Object.entries(fa)) {
          const vb = fb[name];
          if (vb === undefined) continue;
          bands.set(name, Math.max(bands.get(name) ?? 0, Math.abs(relativeChange(va, vb))));
        }
      }
      const benchBand = Math.max(MIN_BAND, ...[...bands.values()].filter(Number.isFinite));
      const before = baseline.figures[bench] ?? {};
      for (const [figure, after] of Object.entries(figs)) {
        const was = before[figure];
        if (was === undefined) continue;
        const change = relativeChange(was, after);
        const measured = bands.get(figure);
        const band = measured === undefined ? benchBand : Math.max(MIN_BAND, measured);
        changes.push({ bench, figure, before: was, after, change, band, moved: Math.abs(change) > band });
      }
    }
  }
  return { baseline, current, pairsMeasured: pairs.length, changes };
}

const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : 'from 0');
const num = (x: number): string => (Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(+x.toPrecision(4)));

/** The comparison as lines for a person: what moved first, then a count of what held. */
export function formatComparison(c: Comparison): string {
  if (c.baseline === undefined) return 'regression guard: no earlier run of this mode to compare with; this run is the baseline for the next.';
  const moved = c.changes.filter((x) => x.moved).sort((a, b) => Math.abs(b.change) - Math.abs(a.change));
  const lines = [
    `regression guard: this run (${c.current.commit ?? '?'}) against ${c.baseline.startedAt} (${c.baseline.commit ?? '?'}); ` +
      `noise bands from ${c.pairsMeasured} pair(s) of same-commit runs, at least ±${(MIN_BAND * 100).toFixed(0)}%`,
  ];
  for (const x of moved)
    lines.push(`  moved  ${x.bench} ${x.figure}: ${num(x.before)} → ${num(x.after)} (${pct(x.change)}, band ±${(x.band * 100).toFixed(1)}%)`);
  lines.push(`  ${moved.length} of ${c.changes.length} figures moved beyond their band; ${c.changes.length - moved.length} held`);
  return lines.join('\n');
}

/** Earlier runs of `mode` kept in `dir`, oldest first. */
export function loadRuns(dir: string, mode: BenchRun['mode']): BenchRun[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.startsWith(`${mode}-`) && f.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as BenchRun)
    .filter((r) => r.mode === mode);
}

/** Keeps `run` in `dir` as `<mode>-<time>.json` (names sort by time). */
export function saveRun(dir: string, run: BenchRun): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${run.mode}-${run.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(run, null, 2) + '\n');
  return file;
}

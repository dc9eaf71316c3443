/**
 * `npm run bench [-- --quick] [-- --only a,b]`: runs every benchmark in turn, keeps one record of the
 * run, and in quick mode compares it with the last quick run (see guard.ts).
 *
 * Each benchmark is its own script (so one can be run alone, with its own flags) and writes its
 * JSON record into `.bench/`; this runner only orders them, passes the mode on, and collects the
 * records. A benchmark that fails is reported and the rest still run, so one broken peer does not
 * hide the other figures; the exit code is then 1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchDir, REPO_ROOT } from './report.js';
import { compareRuns, flattenFigures, formatComparison, loadRuns, sameCommitPairs, saveRun, type BenchRun } from './guard.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

interface BenchDef {
  /** The name its JSON record starts with in `.bench/`. */
  readonly name: string;
  readonly script: string;
  readonly full: readonly string[];
  readonly quick: readonly string[];
  /** Node flags the benchmark process needs (a large in-process heap, say). */
  readonly nodeFlags?: readonly string[];
}

/** Every benchmark, cheapest first so a quick run reports something early. */
export const BENCHES: readonly BenchDef[] = [
  { name: 'regex', script: 'regex.js', full: [], quick: ['--reps', '5'] },
  { name: 'ingest', script: 'ingest.js', full: [], quick: ['--quick'] },
  { name: 'query', script: 'query.js', full: [], quick: ['--quick'] },
  { name: 'scrape', script: 'scrape.js', full: [], quick: ['--quick'] },
  { name: 'logs', script: 'logs.js', full: [], quick: ['--quick'] },
  { name: 'otlp_metrics', script: 'otlp_metrics.js', full: [], quick: ['--quick'] },
  { name: 'remote_query', script: 'remote_query.js', full: [], quick: ['10', '5'] },
  { name: 'remote_read', script: 'remote_query.js', full: ['50', '21', 'remote_read'], quick: ['10', '5', 'remote_read'] },
  { name: 'remote_write', script: 'remote_write.js', full: [], quick: ['--quick'] },
  { name: 'log_forward', script: 'log_forward.js', full: [], quick: ['50000', '1000'] },
  { name: 'traces', script: 'traces_http.js', full: [], quick: ['--quick'] },
  // The UI in Chromium; built by packages/ui/build.js, so it is found from here through the packages directory.
  { name: 'ui', script: '../../../../ui/dist/bench/load.js', full: [], quick: ['--quick'] },
  { name: 'isolation', script: 'isolation.js', full: [], quick: ['--series', '30000', '--runs', '1'] },
  {
    name: 'stalls',
    script: 'stalls.js',
    full: ['--series', '300000', '--streams', '5000'],
    quick: ['--series', '30000', '--streams', '1000'],
    nodeFlags: ['--max-old-space-size=8192'],
  },
];

const USAGE = `usage: npm run bench -- [--quick] [--only ${BENCHES.map((b) => b.name).join(',')}]
  --quick   small sizes; compares with the last quick run and names the figures that moved beyond their noise band`;

/** The newest `.bench/<name>-*.json` written at or after `since`, parsed. */
function newestRecord(name: string, since: number): unknown {
  const dir = benchDir();
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${name}-`) && f.endsWith('.json'))
    .map((f) => ({ f, t: statSync(path.join(dir, f)).mtimeMs }))
    .filter((x) => x.t >= since)
    .sort((a, b) => b.t - a.t);
  return files[0] ? (JSON.parse(readFileSync(path.join(dir, files[0].f), 'utf8')) as unknown) : undefined;
}

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Runs the chosen benchmarks once; the figures of those that wrote a record. */
function runOnce(benches: readonly BenchDef[], quick: boolean): { run: BenchRun; failed: string[] } {
  const figures: Record<string, Record<string, number>> = {};
  const failed: string[] = [];
  for (const b of benches) {
    const args = quick ? b.quick : b.full;
    console.log(`\n=== ${b.name}: node ${[...(b.nodeFlags ?? []), b.script, ...args].join(' ')}`);
    const since = Date.now() - 1000;
    const r = spawnSync(process.execPath, [...(b.nodeFlags ?? []), path.join(HERE, b.script), ...args], { cwd: REPO_ROOT, stdio: 'inherit' });
    const record = newestRecord(b.name, since);
    if (r.status !== 0 || record === undefined) {
      failed.push(b.name);
      console.log(`=== ${b.name} failed (exit ${r.status ?? r.signal}${record === undefined ? ', no record written' : ''})`);
      continue;
    }
    figures[b.name] = flattenFigures(record);
  }
  return { run: { mode: quick ? 'quick' : 'full', startedAt: new Date().toISOString(), commit: gitCommit(), figures }, failed };
}

function main(): number {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const quick = values.quick ?? false;
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !BENCHES.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const benches = only ? BENCHES.filter((b) => only.includes(b.name)) : BENCHES;
  const dir = path.join(benchDir(), 'runs');
  const history = loadRuns(dir, quick ? 'quick' : 'full');
  const first = runOnce(benches, quick);
  saveRun(dir, first.run);
  let failed = first.failed;
  if (quick) {
    // The noise band is measured, not assumed (guard.ts): from earlier runs of one commit, or, when
    // there are none, from running the set once more now.
    const pairs = sameCommitPairs(history);
    if (pairs.length === 0) {
      console.log('\nno two earlier quick runs of one commit: running again to measure the noise band');
      const second = runOnce(benches, quick);
      saveRun(dir, second.run);
      failed = [...new Set([...failed, ...second.failed])];
      pairs.push([first.run, second.run]);
    }
    console.log('\n' + formatComparison(compareRuns(history.at(-1), first.run, pairs)));
  }
  console.log(`\nrecords: ${dir}/`);
  if (failed.length > 0) console.log(`failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = main();

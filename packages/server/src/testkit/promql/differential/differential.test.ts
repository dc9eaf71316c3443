// Differential test: the same data, sent by remote_write to Vigil and to a real Prometheus, must
// give the same answers to several hundred generated PromQL queries (instant and range).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { postWrite, startServer } from '../../helpers.js';
import { compareAnswers, truncate, type ApiAnswer } from './compare.js';
import { END_MS, generateSeries, writeRequests, type DiffSeries } from './data.js';
import { KNOWN_DIFFERENCES } from './known-differences.js';
import { startPrometheus, type PrometheusPeer } from './prometheus.js';
import { describeCase, expandCases, generateExprs, type QueryCase } from './queries.js';
import { VIGIL_BUGS } from './vigil-bugs.js';

/** Queries in flight at once per server; enough to hide latency, few enough not to thrash a small host. */
const CONCURRENCY = 8;

let vigil: Awaited<ReturnType<typeof startServer>> | undefined;
let prom: PrometheusPeer | undefined;
let series: DiffSeries[] = [];

before(async () => {
  // The data is from 2023: retention, which counts back from the clock, must not take it mid-test.
  [vigil, prom] = await Promise.all([startServer((c) => void (c.storage.retentionMs = 100 * 365 * 86_400_000)), startPrometheus()]);
  series = generateSeries();
  // One request per scrape step, each delivered to both before the next, so neither server ever
  // sees samples out of time order.
  const data = writeRequests(series);
  // Guards the one fragile spot: the marker's exact bits must reach the wire (see STALE in data.ts).
  if (data.staleMarkerBytes !== data.staleMarkers)
    throw new Error(`${data.staleMarkers} staleness markers generated, ${data.staleMarkerBytes} encoded exactly`);
  for (const body of data.bodies) {
    const [a, b] = await Promise.all([postWrite(vigil.url, body), postWrite(prom.url, body)]);
    if (a.status >= 300 || b.status >= 300) throw new Error(`remote_write refused: vigil ${a.status} ${a.text}; prometheus ${b.status} ${b.text}`);
  }
});

after(async () => {
  await Promise.all([vigil?.stop(), prom?.stop()]);
});

async function query(base: string, c: QueryCase): Promise<{ answer: ApiAnswer; raw: string }> {
  const form = new URLSearchParams({ query: c.expr.expr });
  if (c.kind === 'instant') form.set('time', String(c.time));
  else {
    form.set('start', String(c.start));
    form.set('end', String(c.end));
    form.set('step', String(c.step));
  }
  const res = await fetch(`${base}/api/v1/${c.kind === 'instant' ? 'query' : 'query_range'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const raw = await res.text();
  let body: { status?: string; errorType?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    body = { status: 'error', errorType: `http ${res.status}`, error: raw.slice(0, 200) };
  }
  const answer: ApiAnswer = {
    httpStatus: res.status,
    status: body.status ?? 'error',
    ...(body.errorType !== undefined ? { errorType: body.errorType } : {}),
    ...(body.error !== undefined ? { error: body.error } : {}),
    ...(body.data?.resultType !== undefined ? { resultType: body.data.resultType } : {}),
    ...(body.data !== undefined ? { result: body.data.result } : {}),
  };
  return { answer, raw };
}

/** Runs `fn` over `items` with at most `n` in flight, preserving result order. */
async function pool<T, R>(items: readonly T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

test('both servers hold every sample that was sent', async () => {
  const expected = new Map<string, number>();
  for (const s of series) {
    const name = s.labels.find((l) => l.name === '__name__')!.value;
    expected.set(name, (expected.get(name) ?? 0) + s.values.filter((v) => typeof v === 'number').length);
  }
  for (const [name, n] of expected) {
    const c: QueryCase = { kind: 'instant', expr: { expr: `sum(count_over_time(${name}[2h]))`, ordered: false, subquery: false }, time: END_MS / 1000 + 60 };
    for (const base of [vigil!.url, prom!.url]) {
      const { answer } = await query(base, c);
      const v = (answer.result as Array<{ value: [number, string] }>)[0]?.value[1];
      assert.equal(Number(v), n, `${base}: ${name} holds ${v} samples, ${n} were sent`);
    }
  }
});

test('Vigil answers generated PromQL queries as Prometheus does', { timeout: 180_000 }, async () => {
  const exprs = generateExprs();
  const known = new Set(Object.keys(KNOWN_DIFFERENCES));
  const generated = new Set(exprs.map((e) => e.expr));
  const staleKnown = [...known, ...Object.keys(VIGIL_BUGS)].filter((k) => !generated.has(k));
  assert.deepEqual(staleKnown, [], 'entries of KNOWN_DIFFERENCES / VIGIL_BUGS that match no generated query: remove them');
  const cases = expandCases(exprs.filter((e) => !known.has(e.expr)));

  const t0 = performance.now();
  const outcomes = await pool(cases, CONCURRENCY, async (c) => {
    const [v, p] = await Promise.all([query(vigil!.url, c), query(prom!.url, c)]);
    return { c, v, p, diff: compareAnswers(v.answer, p.answer, c.kind === 'instant' && c.expr.ordered) };
  });
  const seconds = (performance.now() - t0) / 1000;

  const failedExprs = new Map<string, (typeof outcomes)[number]>();
  for (const o of outcomes) if (o.diff !== undefined && !failedExprs.has(o.c.expr.expr)) failedExprs.set(o.c.expr.expr, o);
  const unexpected = [...failedExprs.values()].filter((o) => !(o.c.expr.expr in VIGIL_BUGS));
  const fixed = Object.keys(VIGIL_BUGS).filter((e) => !failedExprs.has(e));
  const errors = outcomes.filter((o) => o.p.answer.status !== 'success').length;
  // An empty answer on both sides compares equal but checks little; the count keeps that visible.
  const empty = outcomes.filter((o) => o.p.answer.status === 'success' && Array.isArray(o.p.answer.result) && o.p.answer.result.length === 0).length;

  console.log(
    `differential: ${outcomes.length} queries (${cases.filter((c) => c.kind === 'instant').length} instant, ` +
      `${cases.filter((c) => c.kind === 'range').length} range) over ${exprs.length - known.size} expressions compared with Prometheus ${prom!.version} ` +
      `in ${seconds.toFixed(1)} s; ${errors} are errors and ${empty} empty results on both sides; ${known.size} expressions excluded as known 2.x/3.x differences; ` +
      `${failedExprs.size - unexpected.length} known Vigil bugs reproduced; ${unexpected.length} unexpected mismatches`,
  );
  const report = unexpected
    .slice(0, 15)
    .map((o) =>
      [`✗ ${describeCase(o.c)}`, `  first difference: ${o.diff}`, `  vigil:      ${truncate(o.v.raw, 800)}`, `  prometheus: ${truncate(o.p.raw, 800)}`].join(
        '\n',
      ),
    );
  if (unexpected.length > 15) report.push(`… and ${unexpected.length - 15} more expressions`);
  if (unexpected.length > 0) console.log(report.join('\n\n'));
  assert.equal(unexpected.length, 0, `${unexpected.length} expressions differ from Prometheus:\n${unexpected.map((o) => `  ${o.c.expr.expr}`).join('\n')}`);
  assert.deepEqual(fixed, [], 'these VIGIL_BUGS entries now match Prometheus: the bug is fixed, remove them from vigil-bugs.ts');
});

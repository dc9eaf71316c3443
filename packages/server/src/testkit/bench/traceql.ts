/**
 * TraceQL engine benchmark: `node packages/server/dist-test/testkit/bench/traceql.js [--traces N]`.
 *
 * Generates N demo-shaped traces in memory (about 10 spans each, 15 attributes per span, 2–5
 * services, some errors) and runs searches and a metrics query over all of them, with no store in
 * between: the figure is the evaluator's own cost, spans per second on one core, and the worst
 * pause the event loop saw while it ran (the driver yields every 5 ms). The store's benchmark
 * measures the whole path; this one tells how much of it TraceQL takes.
 */
import { parseArgs } from 'node:util';
import { generateTraces, T0_MS } from '../traces.js';
import { queryRange } from '../../traces/traceql/metrics.js';
import { searchTraces } from '../../traces/traceql/search.js';

const { values: args } = parseArgs({ options: { traces: { type: 'string' } } });
const N = Number(args.traces ?? 100_000);

const SEARCHES = [
  '{ resource.service.name = "shop" && status = error }',
  '{ span.attr.1 = "nope" }',
  '{ name =~ "op-[12]" }',
  '{ .attr.0 > 50 && duration > 100ms } | count() > 2',
  '{ name = "op-3" } >> { status = error }',
  '{ } | by(resource.service.name) | avg(duration) > 150ms',
];
const METRICS = '{ } | quantile_over_time(duration, .5, .99) by (resource.service.name)';

/**
 * Runs `fn` while a 1 ms interval timer measures the longest gap between its ticks, in wall time
 * and in this process's CPU time (the part a busy machine cannot inflate).
 */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; maxPauseMs: number; maxCpuMs: number }> {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let maxPauseMs = 0;
  let maxCpuMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    maxPauseMs = Math.max(maxPauseMs, now - last);
    maxCpuMs = Math.max(maxCpuMs, (cpu.user + cpu.system) / 1000);
    last = now;
    lastCpu = process.cpuUsage();
  }, 1);
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  clearInterval(timer);
  return { value, ms, maxPauseMs, maxCpuMs };
}

const traces = [...generateTraces(N, 3)];
const spans = traces.reduce((n, t) => n + t.length, 0);
console.log(`${N} traces, ${spans} spans`);
for (const q of SEARCHES) {
  const r = await timed(() => searchTraces(q, traces, { limit: Number.MAX_SAFE_INTEGER }));
  console.log(
    `${(spans / r.ms / 1000).toFixed(2).padStart(6)} M spans/s  ${r.ms.toFixed(0).padStart(5)} ms  pause ≤ ${r.maxPauseMs.toFixed(0).padStart(3)} ms (cpu ${r.maxCpuMs.toFixed(0).padStart(3)} ms)  ${String(r.value.traces.length).padStart(6)} traces  ${q}`,
  );
}
const m = await timed(() => queryRange(METRICS, traces, { startMs: T0_MS, endMs: T0_MS + N * 10 + 1000, stepMs: 60_000 }));
console.log(
  `${(spans / m.ms / 1000).toFixed(2).padStart(6)} M spans/s  ${m.ms.toFixed(0).padStart(5)} ms  pause ≤ ${m.maxPauseMs.toFixed(0).padStart(3)} ms (cpu ${m.maxCpuMs.toFixed(0).padStart(3)} ms)  ${String(m.value.series.length).padStart(6)} series  ${METRICS}`,
);

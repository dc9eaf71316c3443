/**
 * Limits under a flood (issue 19): pushes many new series by remote_write at a spawned Vigil with
 * the default limits and reports how many were accepted, the status codes, RSS, whether `count()`
 * over everything answers, and whether a restart replays it all. Not a timed test: a measurement.
 *
 *   node packages/server/dist-test/testkit/bench/limits.js [--series 2000000] [--per-request 2000] [--senders 4] [--metrics 20]
 *
 * Series are spread over `--metrics` metric names so the global limit (max_global_series) is what
 * stops them, not the per-metric one.
 */
import { parseArgs } from 'node:util';
import { labelsFrom } from '../../core/model/labels.js';
import { exited, freePort, spawnVigil, tempDir, writeBody, type VigilProcess } from '../helpers.js';
import { positiveInt } from './cli.js';
import { memStat } from './procstat.js';

const { values } = parseArgs({
  options: { series: { type: 'string' }, 'per-request': { type: 'string' }, senders: { type: 'string' }, metrics: { type: 'string' } },
});
const total = positiveInt('--series', values.series, 2_000_000);
const perRequest = positiveInt('--per-request', values['per-request'], 2000);
const senders = positiveInt('--senders', values.senders, 4);
const metrics = positiveInt('--metrics', values.metrics, 20);

const mib = (b: number | undefined): string => (b === undefined ? '?' : `${(b / 1024 / 1024).toFixed(0)} MiB`);

function body(first: number, n: number, t: number): Buffer {
  const list = [];
  for (let i = first; i < first + n; i++)
    list.push({ labels: labelsFrom({ __name__: `flood_${i % metrics}`, instance: `host-${i}`, job: 'flood' }), samples: [[t, i] as [number, number]] });
  return writeBody(list);
}

async function query(url: string, q: string): Promise<{ status: number; ms: number; value: string }> {
  const start = performance.now();
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const json = (await res.json()) as { data?: { result: Array<{ value: [number, string] }> }; error?: string };
  return { status: res.status, ms: Math.round(performance.now() - start), value: json.data?.result[0]?.value[1] ?? json.error ?? '' };
}

async function selfMetrics(url: string): Promise<string[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) =>
      /^vigil_limit(_usage|_refusals_total)?\{limit="(max_global_series|max_global_series_per_metric|ingestion_rate|ingestion_burst_size)"\}/.test(l),
    );
}

async function stop(v: VigilProcess): Promise<void> {
  v.proc.kill('SIGTERM');
  await exited(v.proc);
}

const { dir, cleanup } = tempDir('vigil-bench-limits-');
const port = await freePort();
let vigil = await spawnVigil(dir, port);
try {
  const pid = vigil.proc.pid!;
  const statuses = new Map<number, number>();
  const messages = new Map<number, string>();
  let accepted = 0;
  let peak = 0;
  let next = 0;
  const t = Date.now();
  const started = performance.now();
  const sender = async (): Promise<void> => {
    while (next < total) {
      const first = next;
      const n = Math.min(perRequest, total - first);
      next += n;
      const res = await fetch(`${vigil.url}/api/v1/write`, {
        method: 'POST',
        headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf' },
        body: body(first, n, t),
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (!messages.has(res.status)) messages.set(res.status, text.trim().slice(0, 200));
      if (res.status === 204) accepted += n;
      peak = Math.max(peak, memStat(pid)?.rssBytes ?? 0);
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
  const sendSec = (performance.now() - started) / 1000;
  const after = memStat(pid);
  console.log(
    `sent ${total} new series in ${Math.ceil(total / perRequest)} requests of ${perRequest} (${senders} senders, ${metrics} metric names) in ${sendSec.toFixed(1)} s`,
  );
  console.log(`status codes: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}`);
  for (const [s, m] of messages) if (s !== 204) console.log(`  ${s}: ${m}`);
  console.log(`series accepted (requests answered 204): ${accepted}`);
  console.log(`RSS after the flood: ${mib(after?.rssBytes)} (peak seen ${mib(peak)}, VmHWM ${mib(after?.peakRssBytes)})`);
  const count = await query(vigil.url, 'count({job="flood"})');
  console.log(
    `count({job="flood"}): HTTP ${count.status} = ${count.value} in ${count.ms} ms; RSS now ${mib(memStat(pid)?.rssBytes)}, VmHWM ${mib(memStat(pid)?.peakRssBytes)}`,
  );
  console.log((await selfMetrics(vigil.url)).map((l) => `  ${l}`).join('\n'));

  await stop(vigil);
  const restartAt = performance.now();
  vigil = await spawnVigil(dir, port);
  const replaySec = (performance.now() - restartAt) / 1000;
  const again = await query(vigil.url, 'count({job="flood"})');
  console.log(
    `restart: ready in ${replaySec.toFixed(1)} s, RSS ${mib(memStat(vigil.proc.pid!)?.rssBytes)}; count({job="flood"}) = ${again.value} (HTTP ${again.status})`,
  );
} finally {
  await stop(vigil);
  cleanup();
}

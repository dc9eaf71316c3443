/**
 * `npm run bench` (remote_write sender part): Vigil (`vigil start`), Vigil's agent (`vigil agent`)
 * and Prometheus in agent mode (`--enable-feature=agent`) scrape the same targets and remote_write
 * to the same VictoriaMetrics, at the same time. Each process's CPU over the window (scraping, WAL and sending: all an agent
 * does) divided by the samples it sent gives CPU-seconds per million samples; peak RSS is each
 * one's memory. VictoriaMetrics' own count of what arrived from each checks delivery. A third
 * process, Vigil scraping the same targets without remote_write, separates the sender's own CPU
 * (the difference) from what scraping and storing cost Vigil.
 *
 * Options: --quick (shorter, smaller), --seconds N, --targets N, --series N (per target).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { positiveInt } from './cli.js';
import { PEERS, VIGIL_BIN, httpCall, killAllSync, startServer, stopServer, type PeerDef, type ServerHandle } from './peers.js';
import { cpuSeconds, memStat } from './procstat.js';
import { REPO_ROOT, writeJson } from './report.js';
import { serveBodies } from './scrape_body.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Targets serving `series` counter series each, with values that move every scrape. */
async function serveTargets(count: number, series: number): Promise<{ ports: number[]; close: () => Promise<void> }> {
  const bodies = Array.from({ length: 4 }, (_, round) => {
    const lines = ['# HELP rw_bench_total Counters of the remote_write benchmark.', '# TYPE rw_bench_total counter'];
    for (let i = 0; i < series; i++) lines.push(`rw_bench_total{shard="${i % 16}",id="${i}"} ${i * 3 + round * ((i % 7) + 1)}`);
    return Buffer.from(lines.join('\n') + '\n');
  });
  return serveBodies(count, bodies);
}

function yaml(sender: string, ports: number[], intervalS: number, writeUrl: string | undefined): string {
  const targets = ports.map((p) => `'127.0.0.1:${p}'`).join(', ');
  return [
    'global:',
    `  scrape_interval: ${intervalS}s`,
    `  external_labels: { sender: ${sender} }`,
    'scrape_configs:',
    '  - job_name: rwbench',
    '    static_configs:',
    `      - targets: [${targets}]`,
    ...(writeUrl ? ['remote_write:', `  - url: ${writeUrl}`] : []),
    '',
  ].join('\n');
}

type SenderId = 'vigil' | 'agent' | 'prometheus';

const SENDER_TITLES: Readonly<Record<SenderId, string>> = { vigil: 'Vigil', agent: 'Vigil agent', prometheus: 'Prometheus agent' };

function sender(id: SenderId, text: string): PeerDef {
  return {
    id: id === 'agent' ? 'vigil' : id,
    title: SENDER_TITLES[id],
    readyPath: '/-/ready',
    writePath: '/api/v1/write',
    flush: () => Promise.reject(new Error('not used by the remote_write benchmark')),
    command: (dataDir, port, workDir) => {
      const file = path.join(workDir, `${id}-rw.yml`);
      if (id !== 'prometheus') {
        writeFileSync(file, `self_scrape: false\n${text}`);
        const command = id === 'agent' ? 'agent' : 'start';
        return { cmd: process.execPath, args: [VIGIL_BIN, command, '--config', file, '--data', dataDir, '--listen', `127.0.0.1:${port}`] };
      }
      writeFileSync(file, text);
      return {
        cmd: 'prometheus',
        args: ['--enable-feature=agent', `--config.file=${file}`, `--storage.agent.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`],
      };
    },
  };
}

/** The sum of a metric family's samples in a /metrics page. */
async function scraped(h: ServerHandle, name: string): Promise<number> {
  const r = await httpCall('GET', `${h.baseUrl}/metrics`, 10_000);
  let sum = 0;
  for (const line of r.body.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function vmCount(vm: ServerHandle, who: string, windowS: number): Promise<number> {
  await httpCall('GET', `${vm.baseUrl}/internal/force_flush`, 10_000);
  const q = `sum(count_over_time({sender="${who}"}[${windowS}s]))`;
  const r = await httpCall('GET', `${vm.baseUrl}/api/v1/query?query=${encodeURIComponent(q)}`, 30_000);
  const res = (JSON.parse(r.body) as { data: { result: Array<{ value: [number, string] }> } }).data.result;
  return Number(res[0]?.value[1] ?? 0);
}

interface Row {
  sender: string;
  samplesSent: number;
  cpuSeconds: number;
  cpuSecondsPerMillion: number;
  peakRssMiB: number;
  /** When the peak fell, seconds after the senders started (the window runs from the warm-up's end), and RSS then. */
  peakAtS: number;
  rssAtWindowStartMiB: number;
  rssAtWindowEndMiB: number;
  /** Over the whole run: samples the sender counted as sent, and samples VictoriaMetrics holds from it. */
  sentWholeRun: number;
  arrivedInVm: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, seconds: { type: 'string' }, targets: { type: 'string' }, series: { type: 'string' } },
  });
  const seconds = positiveInt('--seconds', values.seconds, values.quick ? 30 : 90);
  const nTargets = positiveInt('--targets', values.targets, values.quick ? 10 : 40);
  const series = positiveInt('--series', values.series, 1000);
  const intervalS = 5;
  const workDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-rw-'));
  const startedAt = new Date();
  try {
    const targets = await serveTargets(nTargets, series);
    // Queries see the newest samples at once, for the delivery check at the end.
    const vmDef: PeerDef = {
      ...PEERS.vm,
      command: (d, p, w) => {
        const c = PEERS.vm.command(d, p, w);
        return { cmd: c.cmd, args: [...c.args, '-search.latencyOffset=0s', '-search.disableCache'] };
      },
    };
    const vm = await startServer(vmDef, workDir, 30_000);
    const writeUrl = `${vm.baseUrl}/api/v1/write`;
    const baseDir = mkdtempSync(path.join(workDir, 'baseline-'));
    const ids: SenderId[] = ['vigil', 'agent', 'prometheus'];
    const hs: ServerHandle[] = [];
    for (const id of ids)
      hs.push(await startServer(sender(id, yaml(id, targets.ports, intervalS, writeUrl)), mkdtempSync(path.join(workDir, `${id}-`)), 30_000));
    const baseline = await startServer(sender('vigil', yaml('none', targets.ports, intervalS, undefined)), baseDir, 30_000);
    console.log(`== remote_write: ${nTargets} targets × ${series} series every ${intervalS} s, Vigil, Vigil agent and Prometheus agent at once, ${seconds} s`);
    const rows: Row[] = [];
    // RSS every 250 ms: when each sender's peak falls (start-up, the window, or the targets' end).
    const t0 = performance.now();
    const rssPeak = hs.map(() => ({ mib: 0, atS: 0 }));
    const rssNow = (i: number): number => (memStat(hs[i]!.pid)?.rssBytes ?? 0) / 1024 / 1024;
    const sampler = setInterval(() => {
      for (let i = 0; i < hs.length; i++) {
        const mib = rssNow(i);
        if (mib > rssPeak[i]!.mib) rssPeak[i] = { mib, atS: (performance.now() - t0) / 1000 };
      }
    }, 250);
    let rssStart: number[] = [];
    let rssEnd: number[] = [];
    let senderOnly = NaN;
    let baselineRssMiB = NaN;
    try {
      await sleep(2 * intervalS * 1000); // first scrapes, series records, connections
      const cpu0 = hs.map((h) => cpuSeconds(h.pid));
      rssStart = hs.map((_, i) => rssNow(i));
      const base0 = cpuSeconds(baseline.pid);
      const sent0 = await Promise.all(hs.map((h) => scraped(h, 'prometheus_remote_storage_samples_total')));
      await sleep(seconds * 1000);
      const cpu = hs.map((h, i) => cpuSeconds(h.pid) - cpu0[i]!);
      rssEnd = hs.map((_, i) => rssNow(i));
      const baseCpu = cpuSeconds(baseline.pid) - base0;
      const sent = await Promise.all(hs.map(async (h, i) => (await scraped(h, 'prometheus_remote_storage_samples_total')) - sent0[i]!));
      // The targets go away (scrapes then add only `up` and the scrape_* series), and the last batches land.
      await targets.close();
      await sleep(3 * intervalS * 1000);
      clearInterval(sampler);
      baselineRssMiB = (memStat(baseline.pid)?.peakRssBytes ?? 0) / 1024 / 1024;
      for (const [i, h] of hs.entries()) {
        const who = ids[i]!;
        rows.push({
          sender: SENDER_TITLES[who],
          samplesSent: sent[i]!,
          cpuSeconds: cpu[i]!,
          cpuSecondsPerMillion: sent[i]! > 0 ? (cpu[i]! * 1e6) / sent[i]! : NaN,
          peakRssMiB: (memStat(h.pid)?.peakRssBytes ?? 0) / 1024 / 1024,
          peakAtS: rssPeak[i]!.atS,
          rssAtWindowStartMiB: rssStart[i]!,
          rssAtWindowEndMiB: rssEnd[i]!,
          sentWholeRun: await scraped(h, 'prometheus_remote_storage_samples_total'),
          arrivedInVm: await vmCount(vm, who, 3600),
        });
      }
      senderOnly = ((cpu[0]! - baseCpu) * 1e6) / sent[0]!;
      console.log(`Vigil without remote_write, same targets: CPU ${baseCpu.toFixed(2)} s, peak RSS ${baselineRssMiB.toFixed(0)} MiB`);
    } finally {
      clearInterval(sampler);
      await stopServer(baseline);
      for (const h of hs) await stopServer(h);
      await stopServer(vm);
      await targets.close().catch(() => {});
    }
    console.log('\nsender              samples sent  CPU (s)  CPU s / 1M samples  peak RSS (MiB)  whole run: sent / in VM');
    for (const r of rows)
      console.log(
        `${r.sender.padEnd(18)}  ${String(r.samplesSent).padStart(12)}  ${r.cpuSeconds.toFixed(2).padStart(7)}  ${r.cpuSecondsPerMillion.toFixed(2).padStart(18)}  ${r.peakRssMiB.toFixed(0).padStart(14)}  ${`${r.sentWholeRun} / ${r.arrivedInVm}`.padStart(23)}`,
      );
    console.log(`\nRSS (MiB) at the window's start (${2 * intervalS} s) and end (${2 * intervalS + seconds} s), and when the peak fell:`);
    for (const r of rows)
      console.log(
        `${r.sender.padEnd(18)}  ${r.rssAtWindowStartMiB.toFixed(0).padStart(5)}  ${r.rssAtWindowEndMiB.toFixed(0).padStart(5)}  peak ${r.peakRssMiB.toFixed(0)} at ${r.peakAtS.toFixed(1)} s`,
      );
    const prom = rows[2]!;
    const ratio = rows[0]!.cpuSecondsPerMillion / prom.cpuSecondsPerMillion;
    const mem = rows[0]!.peakRssMiB / prom.peakRssMiB;
    const agentRatio = rows[1]!.cpuSecondsPerMillion / prom.cpuSecondsPerMillion;
    const agentMem = rows[1]!.peakRssMiB / prom.peakRssMiB;
    console.log(`Vigil vs Prometheus agent: CPU per million samples ${ratio.toFixed(2)}×, peak RSS ${mem.toFixed(2)}× (<1 better)`);
    console.log(`Vigil agent vs Prometheus agent: CPU per million samples ${agentRatio.toFixed(2)}×, peak RSS ${agentMem.toFixed(2)}× (<1 better)`);
    // When the targets go away each series gets a staleness marker (a NaN sample): sent, but not counted by count_over_time.
    console.log(
      `whole run: sent minus in VM should be ${nTargets * series} (the staleness markers of the ${nTargets * series} scraped series, sent and not counted)`,
    );
    console.log(`Vigil's sender alone (CPU with remote_write minus without): ${senderOnly.toFixed(2)} CPU s / 1M samples`);
    const file = writeJson(REPO_ROOT, 'remote_write', startedAt, {
      seconds,
      targets: nTargets,
      seriesPerTarget: series,
      intervalS,
      rows,
      cpuRatio: ratio,
      memRatio: mem,
      agentCpuRatio: agentRatio,
      agentMemRatio: agentMem,
    });
    console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
  } finally {
    killAllSync();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  killAllSync();
  process.exitCode = 1;
});

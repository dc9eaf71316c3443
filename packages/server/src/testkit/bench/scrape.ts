/**
 * `npm run bench` (scrape part): what a scrape costs Vigil and Prometheus 2.42, and whether Vigil
 * keeps up with 1,000 targets at a 15 s interval.
 *
 * Phase A: one target serving 10,000 series (exporter-like families, values changing every
 * scrape) is scraped every second by Vigil, then by Prometheus, for the same wall time; the
 * server's CPU over that window divided by its completed scrapes is the CPU per scrape.
 * Phase B: 1,000 targets on 1,000 loopback ports, 100 series each, 15 s interval, for 75 s; a
 * target that has fewer than 4 `up` samples in the last 60 s missed a scrape.
 *
 * `--rounds N` runs phase A N times, the servers interleaved (Vigil, Prometheus, Vigil, …) so a
 * shared machine's load falls on both alike, and reports each server's median. `--baseline
 * PATH/bin/vigil.js` adds another Vigil build (say, a build of main) to every round, for a
 * before/after in the same run. `--skip-many` leaves out phase B.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { VIGIL_BIN, httpCall, killAllSync, startServer, stopServer, type PeerDef, type ServerHandle } from './peers.js';
import { cpuSeconds, memStat } from './procstat.js';
import { REPO_ROOT, writeJson } from './report.js';
import { exposition, serveBodies } from './scrape_body.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A target server that rotates through pre-rendered bodies, so serving costs the bench little. */
async function serveTargets(count: number, series: number): Promise<{ ports: number[]; close: () => Promise<void> }> {
  const bodies = Array.from({ length: 8 }, (_, r) => Buffer.from(exposition(series, r)));
  return serveBodies(count, bodies);
}

function scrapeYaml(ports: number[], intervalS: number): string {
  const targets = ports.map((p) => `'127.0.0.1:${p}'`).join(', ');
  return `scrape_configs:\n  - job_name: bench\n    scrape_interval: ${intervalS}s\n    scrape_timeout: ${Math.min(intervalS, 10)}s\n    static_configs:\n      - targets: [${targets}]\n`;
}

type ScraperId = 'vigil' | 'prometheus' | 'baseline';

function scrapingPeer(id: ScraperId, yaml: string, baselineBin = ''): PeerDef {
  const unused = (): never => {
    throw new Error('not used by the scrape benchmark');
  };
  return {
    // Both Vigil builds are launched as the peer `vigil`; the report tells them apart by ScraperId.
    id: id === 'prometheus' ? 'prometheus' : 'vigil',
    title: id === 'vigil' ? 'Vigil' : id === 'baseline' ? 'Vigil (baseline)' : 'Prometheus',
    readyPath: '/-/ready',
    writePath: '/api/v1/write',
    flush: unused,
    command: (dataDir, port, workDir) => {
      const file = path.join(workDir, `${id}.yml`);
      if (id !== 'prometheus') {
        writeFileSync(file, `self_scrape: false\n${yaml}`);
        return {
          cmd: process.execPath,
          args: [id === 'baseline' ? baselineBin : VIGIL_BIN, 'start', '--config', file, '--data', dataDir, '--listen', `127.0.0.1:${port}`],
        };
      }
      writeFileSync(file, yaml);
      return { cmd: 'prometheus', args: [`--config.file=${file}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`] };
    },
  };
}

async function promql(h: ServerHandle, q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await httpCall('GET', `${h.baseUrl}/api/v1/query?query=${encodeURIComponent(q)}`, 30_000);
  if (r.status !== 200) throw new Error(`${h.id}: ${q}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  return (JSON.parse(r.body) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
}

interface PhaseA {
  server: string;
  scrapes: number;
  cpuSeconds: number;
  cpuMsPerScrape: number;
  samplesPerScrape: number;
  peakRssMiB: number;
}

async function phaseA(id: ScraperId, port: number, seconds: number, workDir: string, baselineBin: string): Promise<PhaseA> {
  const h = await startServer(scrapingPeer(id, scrapeYaml([port], 1), baselineBin), workDir, 30_000);
  try {
    await sleep(3000); // first scrapes, caches warm
    const cpu0 = cpuSeconds(h.pid);
    const t0 = Date.now();
    await sleep(seconds * 1000);
    const cpu = cpuSeconds(h.pid) - cpu0;
    const windowS = Math.floor((Date.now() - t0) / 1000);
    const [count] = await promql(h, `count_over_time(up{job="bench"}[${windowS}s])`);
    const [samples] = await promql(h, 'scrape_samples_scraped{job="bench"}');
    const scrapes = Number(count?.value[1] ?? 0);
    return {
      server: id,
      scrapes,
      cpuSeconds: cpu,
      cpuMsPerScrape: scrapes > 0 ? (cpu * 1000) / scrapes : NaN,
      samplesPerScrape: Number(samples?.value[1] ?? 0),
      peakRssMiB: (memStat(h.pid)?.peakRssBytes ?? 0) / 1024 / 1024,
    };
  } finally {
    await stopServer(h);
  }
}

/** The run with the median CPU per scrape (the lower middle one of an even count); peak RSS is the median of its own. */
function medianRun(rs: readonly PhaseA[]): PhaseA {
  const mid = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
  const cpu = mid(rs.map((r) => r.cpuMsPerScrape));
  const run = rs.find((r) => r.cpuMsPerScrape === cpu)!;
  return { ...run, peakRssMiB: mid(rs.map((r) => r.peakRssMiB)) };
}

async function phaseB(
  ports: number[],
  workDir: string,
): Promise<{ targets: number; missed: number; cpuPercent: number; p99ScrapeMs: number; peakRssMiB: number }> {
  const h = await startServer(scrapingPeer('vigil', scrapeYaml(ports, 15)), workDir, 60_000);
  try {
    const cpu0 = cpuSeconds(h.pid);
    const t0 = Date.now();
    await sleep(78_000);
    const cpu = cpuSeconds(h.pid) - cpu0;
    const counts = await promql(h, 'count_over_time(up{job="bench"}[60s])');
    const missed = ports.length - counts.filter((c) => Number(c.value[1]) >= 4).length;
    const [p99] = await promql(h, 'quantile(0.99, scrape_duration_seconds{job="bench"})');
    return {
      targets: ports.length,
      missed,
      cpuPercent: (100 * cpu) / ((Date.now() - t0) / 1000),
      p99ScrapeMs: Number(p99?.value[1] ?? NaN) * 1000,
      peakRssMiB: (memStat(h.pid)?.peakRssBytes ?? 0) / 1024 / 1024,
    };
  } finally {
    await stopServer(h);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      seconds: { type: 'string' },
      targets: { type: 'string' },
      rounds: { type: 'string' },
      baseline: { type: 'string' },
      'skip-many': { type: 'boolean' },
    },
  });
  const rounds = Math.max(1, Number(values.rounds ?? 1));
  const baselineBin = values.baseline ? path.resolve(values.baseline) : '';
  const ids: ScraperId[] = baselineBin ? ['vigil', 'baseline', 'prometheus'] : ['vigil', 'prometheus'];
  const seconds = Number(values.seconds ?? (values.quick ? 10 : 30));
  const nTargets = Number(values.targets ?? (values.quick ? 100 : 1000));
  const workDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-scrape-'));
  const startedAt = new Date();
  try {
    const big = await serveTargets(1, 10_000);
    const runs: Array<PhaseA & { round: number }> = [];
    try {
      for (let round = 1; round <= rounds; round++) {
        // Alternate who goes first, so neither always meets the machine right after the other.
        const order = round % 2 === 1 ? ids : [...ids].reverse();
        for (const id of order) {
          console.log(`== phase A${rounds > 1 ? ` round ${round}/${rounds}` : ''}: ${id} scraping 10,000 series every second for ${seconds} s`);
          runs.push({ ...(await phaseA(id, big.ports[0]!, seconds, workDir, baselineBin)), round });
        }
      }
    } finally {
      await big.close();
    }
    console.log('\nserver       round  scrapes  samples/scrape  CPU (s)  CPU ms/scrape  peak RSS (MiB)');
    for (const r of runs) {
      console.log(
        `${r.server.padEnd(11)}  ${String(r.round).padStart(5)}  ${String(r.scrapes).padStart(7)}  ${String(r.samplesPerScrape).padStart(14)}  ${r.cpuSeconds.toFixed(2).padStart(7)}  ${r.cpuMsPerScrape.toFixed(1).padStart(13)}  ${r.peakRssMiB.toFixed(0).padStart(14)}`,
      );
    }
    const a = ids.map((id) => medianRun(runs.filter((r) => r.server === id)));
    const byId = (id: ScraperId): PhaseA => a[ids.indexOf(id)]!;
    const ratio = byId('vigil').cpuMsPerScrape / byId('prometheus').cpuMsPerScrape;
    if (rounds > 1)
      console.log(
        `medians over ${rounds} rounds: ${a.map((r) => `${r.server} ${r.cpuMsPerScrape.toFixed(1)} ms/scrape, ${r.peakRssMiB.toFixed(0)} MiB`).join('; ')}`,
      );
    console.log(`Vigil vs Prometheus: CPU per 10,000-series scrape ${ratio.toFixed(2)}× (<1 better)`);
    const baseline = baselineBin ? byId('baseline') : undefined;
    if (baseline) console.log(`Vigil vs the baseline build: CPU per scrape ${(byId('vigil').cpuMsPerScrape / baseline.cpuMsPerScrape).toFixed(2)}×`);
    console.log('');
    const phaseAOut = a.filter((r) => r.server !== 'baseline');
    if (values['skip-many']) {
      const file = writeJson(REPO_ROOT, 'scrape', startedAt, {
        phaseA: phaseAOut,
        cpuRatioVsPrometheus: ratio,
        rounds: runs,
        ...(baseline ? { baseline } : {}),
      });
      console.log(`results written to ${path.relative(process.cwd(), file)}`);
      return;
    }

    console.log(`== phase B: Vigil scraping ${nTargets} targets × 100 series at 15 s for 78 s`);
    const many = await serveTargets(nTargets, 100);
    let b;
    try {
      b = await phaseB(many.ports, workDir);
    } finally {
      await many.close();
    }
    console.log(
      `targets ${b.targets}, missed scrapes ${b.missed}, Vigil CPU ${b.cpuPercent.toFixed(1)}% of a core, p99 scrape ${b.p99ScrapeMs.toFixed(1)} ms, peak RSS ${b.peakRssMiB.toFixed(0)} MiB`,
    );
    const file = writeJson(REPO_ROOT, 'scrape', startedAt, {
      phaseA: phaseAOut,
      cpuRatioVsPrometheus: ratio,
      phaseB: b,
      ...(rounds > 1 ? { rounds: runs } : {}),
      ...(baseline ? { baseline } : {}),
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

/**
 * In-process micro-benchmark of one scrape loop: a 10,000-series target (the body of the scrape
 * benchmark, values moving every round) scraped back to back into a real TSDB with its WAL, so
 * the CPU per scrape is the loop's own (fetch, parse, cache, append, WAL, staleness, report series)
 * without the rest of the server. Run it with `--cpu-prof` to see where the time goes:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof packages/server/dist-test/testkit/bench/scrape_loop.js
 *
 * `--pause MS` waits between scrapes (the CPU figure then includes what idling costs).
 * `--memory` replaces the HTTP target with an in-memory transport (no socket, no body read).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compileRelabel } from '../../metrics/relabel/relabel.js';
import { ScrapeLoop } from '../../metrics/scrape/loop.js';
import { settingsOf } from '../../metrics/scrape/manager.js';
import { populateTarget, type Target } from '../../metrics/scrape/target.js';
import { httpTransport, type ScrapeTransport } from '../../metrics/scrape/transport.js';
import { DB } from '../../metrics/tsdb/db.js';
import { scrapeConfig, serve } from '../scrape.js';
import { exposition } from './scrape_body.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { series: { type: 'string' }, scrapes: { type: 'string' }, memory: { type: 'boolean' }, pause: { type: 'string' } },
  });
  // A pause between scrapes lets caches go cold as they do at a real scrape interval.
  const pauseMs = Number(values.pause ?? 0);
  const series = Number(values.series ?? 10_000);
  const scrapes = Number(values.scrapes ?? 300);
  const bodies = Array.from({ length: 8 }, (_, r) => Buffer.from(exposition(series, r)));
  let n = 0;
  const srv = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(bodies[n++ % bodies.length]);
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-scrape-loop-'));
  const db = new DB({ dir, maintenanceIntervalMs: 0 });
  await db.start();
  const cfg = scrapeConfig({ scrape_interval: '1s', static_configs: [{ targets: [srv.host] }] });
  const r = populateTarget(cfg.staticConfigs[0]!.labels, cfg.staticConfigs[0]!.targets[0]!, { ...cfg, relabel: compileRelabel(cfg.relabelConfigs) });
  if (!('target' in r)) throw new Error('no target');
  const transport: ScrapeTransport = values.memory
    ? {
        fetch: () => Promise.resolve({ status: 200, statusText: 'OK', contentType: 'text/plain; version=0.0.4', body: bodies[n++ % bodies.length]! }),
        close: () => undefined,
      }
    : httpTransport(cfg);
  // One simulated second per scrape, ending before the head's future bound. Real scrape timestamps
  // jitter by a millisecond or two, so the steps do too: a steady 1000 would make every timestamp's
  // delta-of-delta zero, the one case a chunk encodes for free.
  let t = Date.now() - (scrapes + 20) * 1000;
  let k0 = 0;
  const step = (): number => 998 + (k0++ % 5);
  const loop = new ScrapeLoop({ target: r.target as Target, settings: settingsOf(cfg), appendable: db, transport, now: () => t });
  try {
    for (let k = 0; k < 10; k++, t += step()) await loop.scrapeOnce(); // warm caches and the JIT
    if (loop.health !== 'up') throw new Error(`scrape failed: ${loop.lastError}`);
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    for (let k = 0; k < scrapes; k++, t += step()) {
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      await loop.scrapeOnce();
    }
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - w0;
    if (loop.health !== 'up') throw new Error(`scrape failed: ${loop.lastError}`);
    const mem = process.memoryUsage();
    console.log(
      `${series} series, ${scrapes} scrapes (${values.memory ? 'in-memory transport' : 'HTTP'}): ` +
        `CPU ${((cpu.user + cpu.system) / 1000 / scrapes).toFixed(2)} ms/scrape (user ${(cpu.user / 1000 / scrapes).toFixed(2)}), ` +
        `wall ${(wall / scrapes).toFixed(2)} ms/scrape, heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB, RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB`,
    );
  } finally {
    await loop.stop(false);
    transport.close();
    await db.stop();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

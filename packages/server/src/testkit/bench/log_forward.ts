/**
 * Log forwarding throughput and cost (issue 17, logs beyond one machine): a `vigil start` with
 * `logs.forward_to` pointed at a second `vigil start` (the Loki-compatible receiver). Lines are
 * pushed into the first as fast as it takes them (Loki JSON, `batch` lines a request over 10
 * streams); the forwarder's catch-up is timed until the receiver's sent counter reaches them all,
 * and the forwarding Vigil's CPU is read from /proc over the same span, against a run with no
 * forward_to (the ingest alone), so the difference is the forwarder's cost. Run: `node
 * packages/server/dist-test/testkit/bench/log_forward.js [lines] [batch]` (default 200000 and 1000);
 * `npm run bench` runs it too, keeping its record in `.bench/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exited, freePort, spawnVigil, tempDir, waitFor, type VigilProcess } from '../helpers.js';
import { cpuSeconds } from './procstat.js';
import { REPO_ROOT, writeJson } from './report.js';

const startedAt = new Date();

const lines = Number(process.argv[2] ?? 200_000);
const batch = Number(process.argv[3] ?? 1000);
const STREAMS = 10;

async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const l of text.split('\n')) if (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) sum += Number(l.slice(l.lastIndexOf(' ') + 1));
  return sum;
}

/** Pushes every line; returns the wall time it took, seconds. */
async function pushAll(url: string): Promise<number> {
  const base = BigInt(Date.now() - 600_000) * 1_000_000n;
  const t0 = performance.now();
  for (let k = 0; k < lines; k += batch) {
    const n = Math.min(batch, lines - k);
    const streams = Array.from({ length: STREAMS }, (_, s) => ({
      stream: { job: 'bench', stream: String(s) },
      values: Array.from({ length: Math.ceil(n / STREAMS) }, (_, i) => {
        const j = k + i * STREAMS + s;
        return [String(base + BigInt(j) * 1000n), `level=info msg="request served" path=/api/items/${j % 997} status=200 took_ms=${j % 250} request_id=${j}`];
      }),
    }));
    const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streams }) });
    if (res.status !== 204) throw new Error(`push: ${res.status} ${await res.text()}`);
  }
  return (performance.now() - t0) / 1000;
}

async function run(forward: boolean): Promise<{ pushSec: number; doneSec: number; cpu: number; sent: number }> {
  const { dir, cleanup } = tempDir('vigil-logfwd-bench-');
  const procs: VigilProcess[] = [];
  try {
    const receiver = await spawnVigil(path.join(dir, 'r'), await freePort());
    procs.push(receiver);
    const cfg = path.join(dir, 'f.yml');
    fs.writeFileSync(cfg, `self_scrape: false\n${forward ? `logs:\n  forward_to:\n    - url: ${receiver.url}/loki/api/v1/push\n      name: bench\n` : ''}`);
    const fwd = await spawnVigil(path.join(dir, 'f'), await freePort(), ['--config', cfg]);
    procs.push(fwd);
    const cpu0 = cpuSeconds(fwd.proc.pid!);
    const t0 = performance.now();
    const pushSec = await pushAll(fwd.url);
    const total = Math.ceil(lines / batch) * batch;
    if (forward)
      await waitFor('every line forwarded', async () => ((await counter(fwd.url, 'promtail_sent_entries_total')) >= total ? true : undefined), 600_000, 100);
    const doneSec = (performance.now() - t0) / 1000;
    return { pushSec, doneSec, cpu: cpuSeconds(fwd.proc.pid!) - cpu0, sent: forward ? await counter(fwd.url, 'promtail_sent_entries_total') : 0 };
  } finally {
    for (const p of procs) {
      p.proc.kill('SIGTERM');
      await exited(p.proc);
    }
    cleanup();
  }
}

async function main(): Promise<void> {
  const without = await run(false);
  const withFwd = await run(true);
  const perMillion = ((withFwd.cpu - without.cpu) / lines) * 1e6;
  const record = {
    lines,
    batch,
    ingestOnly: { pushSec: +without.pushSec.toFixed(2), cpuSec: +without.cpu.toFixed(2) },
    withForwarding: {
      pushSec: +withFwd.pushSec.toFixed(2),
      allForwardedSec: +withFwd.doneSec.toFixed(2),
      cpuSec: +withFwd.cpu.toFixed(2),
      sent: withFwd.sent,
    },
    forwardedLinesPerSec: Math.round(lines / withFwd.doneSec),
    forwarderCpuSecPerMillionLines: +perMillion.toFixed(2),
  };
  console.log(JSON.stringify(record, null, 2));
  console.log(`record: ${writeJson(REPO_ROOT, 'log_forward', startedAt, record)}`);
}

await main();

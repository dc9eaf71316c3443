/**
 * Hostile-regex benchmark: `node packages/server/dist-test/testkit/bench/regex.js [--reps N]`.
 *
 * Starts Vigil as a child process and sends each pathological pattern of issue 19 (`(.*.*)*x` as a
 * PromQL selector over a long metric name; a silence `(a+)+$` checked against an alert named
 * `aaa…a!`; LogQL `|~ "(a+)+$"` over a 28-byte line). On a backtracking engine each request held
 * the event loop for minutes, so `/-/ready` went dead too. For each case it reports the request's
 * median and worst latency, and the worst `/-/ready` latency seen by a probe polling every 5 ms
 * while the requests ran. The target is 100 ms or less for both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeBody } from '../helpers.js';
import { PEERS, killAllSync, startServer, stopServer, type ServerHandle } from './peers.js';
import { REPO_ROOT, writeJson } from './report.js';

/** A regression must not hang the bench for the minutes the issue measured: cut a request off here. */
const REQUEST_TIMEOUT_MS = 60_000;
const TARGET_MS = 100;
const READY_PROBE_EVERY_MS = 5;

const { values: args } = parseArgs({ options: { reps: { type: 'string' } } });
const REPS = Number(args.reps ?? 20);

interface CaseResult {
  readonly name: string;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly readyMaxMs: number;
  readonly withinTarget: boolean;
}

async function call(method: 'GET' | 'POST', url: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; text: string }> {
  const init: RequestInit = { method, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
  if (body !== undefined) {
    init.headers = {
      'content-type': contentType,
      ...(Buffer.isBuffer(body) ? { 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' } : {}),
    };
    init.body = Buffer.isBuffer(body) ? body : JSON.stringify(body);
  }
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text() };
}

async function expectOk(what: string, p: Promise<{ status: number; text: string }>): Promise<void> {
  const r = await p;
  if (r.status < 200 || r.status >= 300) throw new Error(`${what}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
}

/** Polls /-/ready until stopped; resolves to the slowest answer seen. */
function probeReady(baseUrl: string): { stop: () => Promise<number> } {
  let running = true;
  let worst = 0;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await expectOk('/-/ready', call('GET', `${baseUrl}/-/ready`));
      worst = Math.max(worst, performance.now() - t);
      await new Promise((r) => setTimeout(r, READY_PROBE_EVERY_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return worst;
    },
  };
}

async function measure(h: ServerHandle, name: string, request: () => Promise<void>): Promise<CaseResult> {
  await request(); // warm-up: the first call also compiles the pattern
  const probe = probeReady(h.baseUrl);
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    await request();
    times.push(performance.now() - t);
  }
  const readyMaxMs = await probe.stop();
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)]!;
  const maxMs = times[times.length - 1]!;
  return { name, medianMs, maxMs, readyMaxMs, withinTarget: maxMs <= TARGET_MS && readyMaxMs <= TARGET_MS };
}

async function run(h: ServerHandle): Promise<CaseResult[]> {
  const base = h.baseUrl;
  const nowMs = Date.now();
  const nowNs = BigInt(nowMs) * 1_000_000n;
  const longName = 'http_server_requests_for_a_rather_long_service_name_total';
  await expectOk(
    'remote write',
    call('POST', `${base}/api/v1/write`, writeBody([{ labels: [{ name: '__name__', value: longName }], samples: [[nowMs, 1]] }]), 'application/x-protobuf'),
  );
  await expectOk(
    'loki push',
    call('POST', `${base}/loki/api/v1/push`, { streams: [{ stream: { app: 'redos' }, values: [[String(nowNs), 'a'.repeat(27) + '!']] }] }),
  );
  await expectOk(
    'silence',
    call('POST', `${base}/api/v2/silences`, {
      matchers: [{ name: 'alertname', value: '(a+)+$', isRegex: true, isEqual: true }],
      startsAt: new Date(nowMs - 1000).toISOString(),
      endsAt: new Date(nowMs + 3_600_000).toISOString(),
      createdBy: 'bench',
      comment: 'issue 19 hostile silence',
    }),
  );
  const promql = `${base}/api/v1/query?query=${encodeURIComponent('{__name__=~"(.*.*)*x"}')}`;
  const logql = `${base}/loki/api/v1/query_range?limit=100&start=${nowNs - 3_600_000_000_000n}&end=${nowNs + 60_000_000_000n}&query=${encodeURIComponent('{app="redos"} |~ "(a+)+$"')}`;
  const alert = [{ labels: { alertname: 'a'.repeat(64) + '!' } }];
  return [
    await measure(h, 'PromQL {__name__=~"(.*.*)*x"}', () => expectOk('promql', call('GET', promql))),
    await measure(h, 'silence (a+)+$ vs alert aaa…a! (post + list)', async () => {
      await expectOk('post alert', call('POST', `${base}/api/v2/alerts`, alert));
      await expectOk('list alerts', call('GET', `${base}/api/v2/alerts`));
    }),
    await measure(h, 'LogQL |~ "(a+)+$" (28-byte line)', () => expectOk('logql', call('GET', logql))),
  ];
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-rebench-'));
  process.on('exit', () => {
    killAllSync();
    rmSync(workDir, { recursive: true, force: true });
  });
  const h = await startServer(PEERS.vigil, workDir, 60_000);
  let results: CaseResult[];
  try {
    results = await run(h);
  } finally {
    await stopServer(h);
  }
  console.log(`Hostile regexes (issue 19): ${REPS} runs each, /-/ready polled every ${READY_PROBE_EVERY_MS} ms; target ≤ ${TARGET_MS} ms`);
  for (const r of results)
    console.log(
      `  ${r.name.padEnd(48)} median ${r.medianMs.toFixed(1).padStart(6)} ms  max ${r.maxMs.toFixed(1).padStart(6)} ms  /-/ready max ${r.readyMaxMs.toFixed(1).padStart(6)} ms  ${r.withinTarget ? 'ok' : 'OVER TARGET'}`,
    );
  const file = writeJson(REPO_ROOT, 'regex', startedAt, { reps: REPS, targetMs: TARGET_MS, results });
  console.log(`report: ${file}`);
  // A missed target is a figure (kept in the record, compared by the guard), not a failed run: on a
  // busy machine one slow repetition must not stop `npm run bench` or its test.
  const over = results.filter((r) => !r.withinTarget).length;
  if (over > 0) console.log(`${over} of ${results.length} cases over the ${TARGET_MS} ms target`);
  return 0;
}

process.exitCode = await main();

/**
 * Rule evaluation benchmark: 1,000 alerting rules over 100,000 series. Vigil evaluates the rule
 * groups in-process (Head + PromQL engine behind the queryFn seam); Prometheus is started with the
 * same rule file, fed the same data over remote_write, and its
 * `prometheus_rule_group_last_duration_seconds` is read once every group has evaluated after the
 * data arrived. Reports the time one evaluation interval costs, against the target of 10% of a 1m
 * interval.
 *
 * Usage: node packages/server/dist-test/testkit/bench/rules.js [--series 100000] [--rules 1000] [--groups 10] [--firing 0.1] [--no-prometheus] [--no-vigil]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeWriteRequest } from '../../metrics/remotewrite/proto.js';
import { type Labels } from '../../core/model/labels.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { parseRuleFile } from '../../alerting/rules/file.js';
import { RuleManager } from '../../alerting/rules/manager.js';
import { Head } from '../../metrics/tsdb/head.js';
import { decodeSnappyInto } from '../../core/util/snappy.js';
import { generateDataset, type Dataset } from './datagen.js';
import { httpCall, PEERS, startServer, stopServer, type PeerDef } from './peers.js';
import { sendDataset } from './sender.js';

const INTERVAL_MS = 60_000;

/**
 * Alerting rules of four common shapes over the data set's metric names. A `firing` fraction of
 * them has thresholds most series cross (an alert storm); the rest select as much data but rarely
 * fire, as in a healthy system.
 */
export function makeRules(metrics: readonly string[], nRules: number, nGroups: number, firing: number): string {
  const perGroup = Math.ceil(nRules / nGroups);
  let y = 'groups:\n';
  for (let g = 0; g < nGroups; g++) {
    y += `  - name: bench-${g}\n    rules:\n`;
    for (let i = g * perGroup; i < Math.min(nRules, (g + 1) * perGroup); i++) {
      const m = metrics[i % metrics.length]!;
      const storm = (i * 7919) % 1000 < firing * 1000;
      const thr = storm ? (i % 7) * 1000 + 0.5 : 1e15;
      let expr: string;
      switch (i % 4) {
        case 0:
          expr = `${m} > ${thr}`;
          break;
        case 1:
          expr = `rate(${m}[5m]) > ${thr / 1000}`;
          break;
        case 2:
          expr = `sum by (instance) (${m}) > ${thr}`;
          break;
        default:
          expr = `avg by (job, region) (${m}) < ${storm ? thr : -thr}`;
      }
      y += `      - alert: Bench${i}\n        expr: ${JSON.stringify(expr)}\n        for: 5m\n        labels: { severity: warning }\n        annotations: { summary: "{{ $labels.instance }} is {{ $value | humanize }}" }\n`;
    }
  }
  return y;
}

function loadIntoHead(data: Dataset, head: Head): void {
  const app = head.appender();
  const labelsByHandle: Labels[] = [];
  let scratch: ArrayBuffer | undefined;
  for (const g of data.groups) {
    for (const body of g.requests) {
      const raw = decodeSnappyInto(body, scratch);
      scratch = raw.buffer as ArrayBuffer;
      labelsByHandle.length = 0;
      decodeWriteRequest(raw, {
        series: (_b, _s, _e, labels) => labelsByHandle.push(labels ?? data.labels[g.firstSeries + labelsByHandle.length]!) - 1,
        sample: (h, t, v) => void app.append(0, labelsByHandle[h]!, t, v),
      });
    }
  }
  app.commit();
}

async function benchVigil(data: Dataset, rulesYaml: string): Promise<{ totalMs: number; maxGroupMs: number; alerts: number }> {
  const head = new Head({ maxFutureMs: Infinity });
  const t0 = performance.now();
  loadIntoHead(data, head);
  process.stdout.write(`vigil: loaded ${data.totalSamples} samples in ${Math.round(performance.now() - t0)} ms\n`);
  const engine = new Engine();
  const m = new RuleManager({
    queryFn: (e, t) => engine.instantQuery(head, e, t).result,
    notifyFn: () => {},
    appendable: head,
    evaluationIntervalMs: INTERVAL_MS,
  });
  await m.applyGroups(parseRuleFile(rulesYaml, 'bench.rules.yml').groups);
  const runs: { total: number; max: number }[] = [];
  // A few intervals, as the server would run them; the first warms up the JIT.
  for (let k = 0; k < 4; k++) {
    const ts = data.maxTimeMs + k * 1000;
    let total = 0;
    let max = 0;
    for (const g of m.groups()) {
      await g.eval(ts);
      total += g.evaluationMs;
      max = Math.max(max, g.evaluationMs);
    }
    runs.push({ total, max });
  }
  const best = runs.slice(1).sort((a, b) => a.total - b.total)[Math.floor((runs.length - 1) / 2)]!;
  const alerts = m.alertingRules().reduce((n, r) => n + r.active.size, 0);
  return { totalMs: best.total, maxGroupMs: best.max, alerts };
}

function prometheusWithRules(rulesFile: string): PeerDef {
  const base = PEERS.prometheus;
  return {
    ...base,
    command: (dataDir, port, workDir) => {
      const c = base.command(dataDir, port, workDir);
      const config = path.join(workDir, 'prometheus.yml');
      writeFileSync(config, `global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\nrule_files: [${JSON.stringify(rulesFile)}]\nscrape_configs: []\n`);
      return c;
    },
  };
}

function metricValues(text: string, name: string): { labels: string; v: number }[] {
  const out: { labels: string; v: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\S+?)(\{.*\})?\s+(\S+)$/.exec(line);
    if (m && m[1] === name) out.push({ labels: m[2] ?? '', v: Number(m[3]) });
  }
  return out;
}

async function benchPrometheus(data: Dataset, rulesYaml: string): Promise<{ totalMs: number; maxGroupMs: number; cpuMsPerRound: number } | string> {
  const work = mkdtempSync(path.join(tmpdir(), 'vigil-bench-rules-'));
  const rulesFile = path.join(work, 'bench.rules.yml');
  writeFileSync(rulesFile, rulesYaml);
  let h;
  try {
    h = await startServer(prometheusWithRules(rulesFile), work, 60_000);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    return `prometheus did not start: ${(err as Error).message.split('\n')[0]}`;
  }
  try {
    const sent = await sendDataset(data, { url: h.baseUrl + '/api/v1/write', senders: 8, deadlineMs: 300_000 });
    const sentAt = Date.now() / 1000;
    process.stdout.write(`prometheus: sent ${sent.okSamples} samples in ${Math.round(sent.wallMs)} ms\n`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await httpCall('GET', h.baseUrl + '/metrics', 10_000);
      const last = metricValues(r.body, 'prometheus_rule_group_last_evaluation_timestamp_seconds');
      // Every group must have started an evaluation after all data arrived.
      if (last.length > 0 && last.every((x) => x.v > sentAt + 1)) {
        const d = metricValues(r.body, 'prometheus_rule_group_last_duration_seconds');
        // Groups run concurrently on few cores, so their durations include waiting for a CPU; the
        // CPU the process spends per round of evaluations is measured over a quiet minute too.
        const sample = (text: string): { cpu: number; iters: number } => ({
          cpu: metricValues(text, 'process_cpu_seconds_total')[0]?.v ?? NaN,
          iters: metricValues(text, 'prometheus_rule_group_iterations_total').reduce((n, x) => n + x.v, 0),
        });
        const a = sample(r.body);
        await new Promise((res) => setTimeout(res, 60_000));
        const b = sample((await httpCall('GET', h.baseUrl + '/metrics', 10_000)).body);
        const rounds = (b.iters - a.iters) / last.length;
        return {
          totalMs: d.reduce((s, x) => s + x.v, 0) * 1000,
          maxGroupMs: Math.max(...d.map((x) => x.v)) * 1000,
          cpuMsPerRound: rounds > 0 ? ((b.cpu - a.cpu) * 1000) / rounds : NaN,
        };
      }
      if (Date.now() > deadline) return 'prometheus: rule groups did not evaluate after the data arrived within 120 s';
      await new Promise((res) => setTimeout(res, 1000));
    }
  } finally {
    await stopServer(h);
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      series: { type: 'string', default: '100000' },
      rules: { type: 'string', default: '1000' },
      groups: { type: 'string', default: '10' },
      firing: { type: 'string', default: '0.1' },
      'no-prometheus': { type: 'boolean', default: false },
      'no-vigil': { type: 'boolean', default: false },
    },
  });
  const series = Number(values.series);
  const stepMs = 15_000;
  const endMs = Math.floor(Date.now() / stepMs) * stepMs - stepMs;
  const data = generateDataset({ series, samples: 21, seriesPerRequest: 500, stepMs, endMs, seed: 42 });
  const metrics = [...new Set(data.labels.map((ls) => ls.find((l) => l.name === '__name__')?.value ?? ''))].filter((m) => m !== '').sort();
  const rulesYaml = makeRules(metrics, Number(values.rules), Number(values.groups), Number(values.firing));
  process.stdout.write(
    `${series} series (${metrics.length} metrics), ${data.totalSamples} samples, ${values.rules} alerting rules in ${values.groups} groups, ${Number(values.firing) * 100}% of rules with low thresholds\n`,
  );
  const pct = (ms: number): string => `${((ms / INTERVAL_MS) * 100).toFixed(1)}% of a 1m interval`;
  if (!values['no-vigil']) {
    const v = await benchVigil(data, rulesYaml);
    process.stdout.write(
      `vigil:      ${v.totalMs.toFixed(0)} ms per interval (all groups, sequential; slowest group ${v.maxGroupMs.toFixed(0)} ms) = ${pct(v.totalMs)}; ${v.alerts} active alerts\n`,
    );
  }
  if (!values['no-prometheus']) {
    const p = await benchPrometheus(data, rulesYaml);
    if (typeof p === 'string') process.stdout.write(p + '\n');
    else
      process.stdout.write(
        `prometheus: ${p.totalMs.toFixed(0)} ms per interval (sum of prometheus_rule_group_last_duration_seconds; slowest group ${p.maxGroupMs.toFixed(0)} ms) = ${pct(p.totalMs)}; CPU ${p.cpuMsPerRound.toFixed(0)} ms per round of all groups = ${pct(p.cpuMsPerRound)}\n`,
      );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/rules: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});

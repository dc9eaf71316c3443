// The demo shop's SLO rules (examples/shop/slos/shop.slo.yml) evaluated by the rule manager on driven
// time (ManualClock, no sleeping): 30 minutes of fault-free checkout traffic fire nothing; an error
// ramp then pages (severity page, sloth_severity page) within the fast-burn window, the latency SLO
// too, and its ticket. Detection times are compared with what the windows predict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { labelsFrom } from '../../core/model/labels.js';
import { ManualClock } from '../../core/time/manual_clock.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { Head } from '../../metrics/tsdb/head.js';
import { repoRoot } from '../../testkit/shared_data.js';
import { RuleManager } from '../rules/manager.js';
import type { NotifiedAlert, RuleQueryResult } from '../rules/types.js';
import { loadSLOFile, sloRuleGroups } from './index.js';

const S = 1000;
const M = 60 * S;
const T0 = 1_700_000_000_000;
const SCRAPE = 15 * S;
/** The shop's traffic in the demo: about 10 checkouts a second. */
const CHECKOUTS_PER_S = 10;

/**
 * Writes the SDK's checkout histogram (count and the 500 ms bucket, by status code) from `from` to
 * `to`: `errorRatio(t)` of checkouts answer 502 and are slow; of the rest 2% are declined (402) and
 * 1% are slower than 500 ms, as the shop's gateway behaves without the fault.
 */
function writeTraffic(head: Head, from: number, to: number, errorRatio: (t: number) => number, totals: Map<string, number>): void {
  const app = head.appender();
  const add = (status: string, le: string | undefined, t: number, inc: number): void => {
    const name = le === undefined ? 'http_server_request_duration_seconds_count' : 'http_server_request_duration_seconds_bucket';
    const key = `${name}/${status}/${le ?? ''}`;
    const v = (totals.get(key) ?? 0) + inc;
    totals.set(key, v);
    const labels: Record<string, string> = { __name__: name, service: 'shop', route: '/checkout', method: 'POST', status_code: status };
    if (le !== undefined) labels['le'] = le;
    app.append(0, labelsFrom(labels), t, v);
  };
  for (let t = from; t <= to; t += SCRAPE) {
    const n = (CHECKOUTS_PER_S * SCRAPE) / S;
    const bad = n * errorRatio(t);
    const declined = (n - bad) * 0.02;
    const ok = n - bad - declined;
    add('201', undefined, t, ok);
    add('201', '0.5', t, ok * 0.99);
    add('402', undefined, t, declined);
    add('402', '0.5', t, declined);
    add('502', undefined, t, bad);
    add('502', '0.5', t, 0);
  }
  app.commit();
}

function sloManager(head: Head, clock: ManualClock, sent: NotifiedAlert[]): RuleManager {
  const engine = new Engine({ now: () => clock.now() });
  return new RuleManager({
    queryFn: (e, t): RuleQueryResult => engine.instantQuery(head, e, t).result,
    notifyFn: (a) => void sent.push(...a),
    appendable: head,
    clock,
    // The shop's evaluation interval (examples/shop/vigil.yml).
    evaluationIntervalMs: 15 * S,
    resendDelayMs: 60 * M,
  });
}

test('shop SLOs: 30 minutes of clean traffic fire nothing; an error ramp pages within the fast-burn window', async () => {
  const parsed = loadSLOFile(join(repoRoot(), 'examples', 'shop', 'slos', 'shop.slo.yml'));
  assert.deepEqual(parsed.errors, []);
  const { groups, errors } = sloRuleGroups(parsed.slos, parsed.windows);
  assert.deepEqual(errors, []);

  const head = new Head({ maxFutureMs: Infinity });
  const totals = new Map<string, number>();
  const clean = (): number => 0;
  writeTraffic(head, T0 - 5 * M, T0 + 30 * M, clean, totals);
  const clock = new ManualClock(T0);
  const sent: NotifiedAlert[] = [];
  const m = sloManager(head, clock, sent);
  await m.applyGroups(groups);
  m.start();
  try {
    await clock.advanceTo(T0 + 30 * M);
    assert.equal(sent.length, 0, `no SLO alert on 30 minutes of fault-free traffic: ${JSON.stringify(sent)}`);
    const states = m.alertingRules().flatMap((r) => r.activeAlerts());
    assert.deepEqual(states, [], 'not even pending');
    const engine = new Engine({ now: () => clock.now() });
    const burn = engine.instantQuery(head, 'slo:current_burn_rate:ratio{sloth_slo="checkout-latency"}', clock.now()).result;
    assert.equal(burn.type, 'vector');
    // 1% slow against a 5% budget: a burn rate of 0.2.
    assert.ok(burn.type === 'vector' && Math.abs(burn.samples[0]!.v - 0.2) < 0.01, JSON.stringify(burn));

    // The fault: failures ramp up by 10 points a minute to 60% of checkouts, all slow.
    const faultAt = T0 + 30 * M;
    writeTraffic(head, faultAt + SCRAPE, faultAt + 90 * M, (t) => Math.min(0.6, ((t - faultAt) / M) * 0.1), totals);
    const firstOf = (alertname: string, severity: string): number | undefined => {
      const a = sent.find((x) => x.labels['alertname'] === alertname && x.labels['sloth_severity'] === severity);
      return a && Date.parse(a.startsAt);
    };
    for (let t = faultAt; t < faultAt + 60 * M && firstOf('CheckoutErrorBudgetBurn', 'page') === undefined; t += 15 * S) await clock.advanceTo(t);
    const pageAt = firstOf('CheckoutErrorBudgetBurn', 'page');
    assert.ok(pageAt !== undefined, 'the availability page fired');
    const page = sent.find((x) => x.labels['alertname'] === 'CheckoutErrorBudgetBurn' && x.labels['sloth_severity'] === 'page')!;
    assert.deepEqual(page.labels, {
      alertname: 'CheckoutErrorBudgetBurn',
      severity: 'page',
      sloth_id: 'shop-checkout-availability',
      sloth_service: 'shop',
      sloth_severity: 'page',
      sloth_slo: 'checkout-availability',
      team: 'payments',
    });
    assert.equal(page.annotations['summary'], 'Checkouts are failing fast enough to spend the error budget of checkout-availability');
    assert.equal(page.annotations['title'], '(page) shop checkout-availability SLO error budget burn rate is too fast.');
    const detectS = (pageAt - faultAt) / S;
    // What the windows predict: 35 clean minutes before the fault sit in every long window. The slow
    // page pair (6h and 30m over 6 x 0.5% = 3%) crosses first: failures 1.8 + 0.6(t - 6) checkout-minutes
    // (the ramp reaches 60% at t = 6 min) over 35 + t minutes of traffic exceed 3% at t = 5.0 min. The
    // quick pair's 1h window (7.2%) would need 8.2 min. Evaluations every 15 s add at most one interval.
    assert.ok(detectS >= 4.9 * 60 && detectS <= 5.5 * 60, `availability page ${detectS} s after the fault`);
    // The latency budget is 5%, so only the slow pair can page (6 x 5% = 30% slow over 6h and 30m): later, within the hour.
    for (let t = clock.now(); t < faultAt + 60 * M && firstOf('CheckoutLatencyBudgetBurn', 'page') === undefined; t += 15 * S) await clock.advanceTo(t);
    const latencyAt = firstOf('CheckoutLatencyBudgetBurn', 'page');
    assert.ok(latencyAt !== undefined && latencyAt - faultAt < 60 * M, 'the latency SLO pages within the hour');
    // The ticket's 6h and 3d windows hold only the 35 minutes there are, so at 1x they cross early here;
    // with days of history they would need hours. Reported, not asserted.
    const ticketAt = firstOf('CheckoutErrorBudgetBurn', 'ticket');
    console.log(
      `# availability page ${detectS} s, latency page ${(latencyAt - faultAt) / S} s after the fault ramp began; ticket ${ticketAt === undefined ? 'not yet' : `${(ticketAt - faultAt) / S} s`}`,
    );
  } finally {
    await m.stop();
  }
});

test('an SLO with no history before the fault pages at the first evaluations of a 100% error burst', async () => {
  const parsed = loadSLOFile(join(repoRoot(), 'examples', 'shop', 'slos', 'shop.slo.yml'));
  const { groups } = sloRuleGroups(parsed.slos, parsed.windows);
  const head = new Head({ maxFutureMs: Infinity });
  // Vigil freshly started (as the demo runs): a minute of clean traffic, then every checkout fails.
  writeTraffic(head, T0 - M, T0 + 10 * M, (t) => (t > T0 ? 1 : 0), new Map());
  const clock = new ManualClock(T0);
  const sent: NotifiedAlert[] = [];
  const m = sloManager(head, clock, sent);
  await m.applyGroups(groups);
  m.start();
  try {
    for (let t = T0; t < T0 + 10 * M && !sent.some((a) => a.labels['sloth_severity'] === 'page'); t += 15 * S) await clock.advanceTo(t);
    const first = sent.find((a) => a.labels['sloth_severity'] === 'page');
    assert.ok(first, 'paged');
    const s = (Date.parse(first.startsAt) - T0) / S;
    assert.ok(s <= 60, `paged ${s} s after the burst`);
    console.log(`# with a minute of history, a 100% failure burst paged ${s} s in`);
  } finally {
    await m.stop();
  }
});

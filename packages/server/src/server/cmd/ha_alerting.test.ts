/**
 * HA alerting against the real thing: two `vigil start` replicas evaluate the same rules and send
 * to a three-node gossip cluster of Debian's `prometheus-alertmanager`; each alert reaches the
 * receiver once, also after one Alertmanager of the three is killed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import { exited, freePort, peerBinary, spawnVigil, tempDir, waitFor, type VigilProcess } from '../../testkit/helpers.js';

interface Am {
  proc: ChildProcess;
  web: string;
  log: () => string;
}

/** Alerts of `name` in every notification the receiver got. */
function notificationsOf(c: Catcher, name: string): number {
  return c.requests.filter((r) => (r.body['alerts'] as Array<{ labels: Record<string, string> }>).some((a) => a.labels['alertname'] === name)).length;
}

/** Waits until the Alertmanager's status counts cluster members that `enough` accepts; its log is in the error otherwise. */
async function clusterPeers(am: Am, enough: (members: number) => boolean): Promise<void> {
  let members = 0;
  try {
    await waitFor(
      `alertmanager ${am.web} cluster members`,
      async () => {
        if (am.proc.exitCode !== null) throw new Error(`alertmanager exited with ${am.proc.exitCode}`);
        const res = await fetch(`${am.web}/api/v2/status`).catch(() => undefined);
        const status = (await res?.json().catch(() => undefined)) as { cluster?: { peers?: unknown[] } } | undefined;
        members = status?.cluster?.peers?.length ?? 0;
        return enough(members) ? true : undefined;
      },
      60_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message} (members seen: ${members}); its log:\n${am.log()}`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('two Vigil replicas and a three-node Alertmanager cluster', { timeout: 180_000 }, () => {
  const tmp = tempDir('vigil-ha-');
  const ams: Am[] = [];
  const vigils: VigilProcess[] = [];
  let hook: Catcher;
  // The second alert starts firing this long after the replicas start, once one Alertmanager is gone.
  const secondAfterMs = 25_000;
  let secondAt = 0;

  before(async () => {
    const bin = peerBinary('prometheus-alertmanager', 'prometheus-alertmanager');
    hook = await startCatcher();
    const amYml = path.join(tmp.dir, 'am.yml');
    writeFileSync(
      amYml,
      [
        'route:',
        '  receiver: hook',
        "  group_by: ['alertname']",
        '  group_wait: 1s',
        '  group_interval: 5m',
        '  repeat_interval: 4h',
        'receivers:',
        '  - name: hook',
        '    webhook_configs:',
        `      - url: ${hook.url}/hook`,
        '',
      ].join('\n'),
    );
    const clusterPorts = [await freePort(), await freePort(), await freePort()];
    for (let i = 0; i < 3; i++) {
      const webPort = await freePort();
      const args = [
        `--config.file=${amYml}`,
        `--storage.path=${path.join(tmp.dir, `am${i}`)}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
        `--cluster.listen-address=127.0.0.1:${clusterPorts[i]}`,
        `--cluster.advertise-address=127.0.0.1:${clusterPorts[i]}`,
        ...clusterPorts.filter((_, j) => j !== i).map((p) => `--cluster.peer=127.0.0.1:${p}`),
        // Each member waits its position × peer-timeout before sending, to see its peers' log first.
        '--cluster.peer-timeout=2s',
        '--cluster.gossip-interval=50ms',
        '--cluster.pushpull-interval=2s',
        // A member whose first join found no peer listening yet retries this often (10 s by default).
        '--cluster.reconnect-interval=1s',
      ];
      const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const am: Am = { proc, web: `http://127.0.0.1:${webPort}`, log: () => log };
      ams.push(am);
      // One member at a time, so each later one finds the earlier ones listening when it joins.
      await clusterPeers(am, (n) => n >= 1);
    }
    for (const am of ams) await clusterPeers(am, (n) => n === 3);
    secondAt = Date.now() + secondAfterMs;
    const rules = path.join(tmp.dir, 'rules.yml');
    writeFileSync(
      rules,
      [
        'groups:',
        '  - name: ha',
        '    interval: 1s',
        '    rules:',
        '      - alert: AlwaysFiring',
        '        expr: vector(1)',
        '      - alert: FiresLater',
        `        expr: vector(time()) > ${secondAt / 1000}`,
        '',
      ].join('\n'),
    );
    for (const replica of ['a', 'b']) {
      const cfg = path.join(tmp.dir, `vigil-${replica}.yml`);
      writeFileSync(
        cfg,
        [
          'self_scrape: false',
          'global:',
          '  evaluation_interval: 1s',
          `  external_labels: { cluster: demo, replica: ${replica} }`,
          `rule_files: [${JSON.stringify(rules)}]`,
          'alerting:',
          '  builtin_router: false',
          '  alert_relabel_configs:',
          '    - { action: labeldrop, regex: replica }',
          '  alertmanagers:',
          `    - static_configs: [{ targets: [${ams.map((a) => JSON.stringify(new URL(a.web).host)).join(', ')}] }]`,
          '',
        ].join('\n'),
      );
      vigils.push(await spawnVigil(path.join(tmp.dir, `data-${replica}`), await freePort(), ['--config', cfg]));
    }
  });

  after(async () => {
    for (const p of [...vigils.map((v) => v.proc), ...ams.map((a) => a.proc)]) {
      p.kill('SIGKILL');
      await exited(p);
    }
    await hook?.close();
    tmp.cleanup();
  });

  it('delivers a firing alert once although both replicas send it to all three members', async () => {
    await waitFor('the first notification', async () => (notificationsOf(hook, 'AlwaysFiring') > 0 ? true : undefined), 30_000);
    // Longer than the last member's wait (position 2 × 2 s) plus the replicas' resends.
    await sleep(8_000);
    assert.equal(notificationsOf(hook, 'AlwaysFiring'), 1, JSON.stringify(hook.requests.map((r) => r.body['alerts'])));
    const sent = hook.requests[0]!.body['alerts'] as Array<{ labels: Record<string, string> }>;
    assert.deepEqual(sent[0]!.labels, { alertname: 'AlwaysFiring', cluster: 'demo' }, 'the replica label was dropped, so both replicas send one alert');
    for (const v of vigils) {
      const metrics = await (await fetch(`${v.url}/metrics`)).text();
      assert.match(metrics, /prometheus_notifications_alertmanagers_discovered 3/);
      assert.doesNotMatch(metrics, /prometheus_notifications_errors_total\{[^}]*\} [1-9]/);
      const builtin = (await (await fetch(`${v.url}/api/v2/alerts`)).json()) as unknown[];
      assert.deepEqual(builtin, [], 'builtin_router: false keeps the built-in Alertmanager out of it');
    }
  });

  it('still delivers once with one Alertmanager of three killed', async () => {
    ams[0]!.proc.kill('SIGKILL');
    await exited(ams[0]!.proc);
    await waitFor('the alert that fires later', async () => (notificationsOf(hook, 'FiresLater') > 0 ? true : undefined), secondAt - Date.now() + 40_000);
    await sleep(8_000);
    assert.equal(notificationsOf(hook, 'FiresLater'), 1);
    assert.equal(notificationsOf(hook, 'AlwaysFiring'), 1);
  });
});

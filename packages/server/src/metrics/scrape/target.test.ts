import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsToRecord } from '../../core/model/labels.js';
import { compileRelabel } from '../relabel/relabel.js';
import { buildTargets, populateTarget, type TargetConfig } from './target.js';
import { scrapeConfig } from '../../testkit/scrape.js';

function cfgOf(raw: Record<string, unknown>): TargetConfig {
  const c = scrapeConfig({ scrape_interval: '15s', ...raw });
  return { ...c, relabel: compileRelabel(c.relabelConfigs) };
}

test('target labels are built as Prometheus builds them', () => {
  const r = populateTarget({ env: 'prod', __meta_x: 'm' }, { __address__: 'db' }, cfgOf({ params: { module: ['a', 'b'] } }));
  assert.ok('target' in r);
  const t = r.target;
  assert.deepEqual(labelsToRecord(t.discoveredLabels), {
    __address__: 'db',
    __meta_x: 'm',
    __metrics_path__: '/metrics',
    __param_module: 'a',
    __scheme__: 'http',
    __scrape_interval__: '15s',
    __scrape_timeout__: '10s',
    env: 'prod',
    job: 'test',
  });
  // The default port is added (Prometheus 2), __meta_ dropped, instance from the address.
  assert.deepEqual(labelsToRecord(t.labels), { env: 'prod', instance: 'db:80', job: 'test' });
  assert.equal(t.url, 'http://db:80/metrics?module=a&module=b');
  assert.equal(t.intervalMs, 15_000);
  assert.equal(t.timeoutMs, 10_000);
});

test('relabel_configs rewrite, drop and keep targets; dropped ones are kept for the API', () => {
  const cfg = cfgOf({
    relabel_configs: [
      { source_labels: ['__meta_role'], regex: 'db', action: 'drop' },
      { source_labels: ['__address__'], regex: '(.*):\\d+', target_label: 'host', replacement: '$1' },
      { source_labels: ['__address__'], target_label: '__param_target' },
      { target_label: '__address__', replacement: 'prober:9115' },
      { target_label: '__scheme__', replacement: 'https' },
      { target_label: '__metrics_path__', replacement: '/probe' },
      { source_labels: ['__param_target'], target_label: 'instance' },
    ],
  });
  const { active, dropped } = buildTargets(
    [
      {
        source: '0',
        labels: {},
        targets: [
          { __address__: 'web:8080', __meta_role: 'web' },
          { __address__: 'db:5432', __meta_role: 'db' },
        ],
      },
      { source: '1', labels: {}, targets: [{ __address__: 'web:8080', __meta_role: 'web' }] },
    ],
    cfg,
  );
  assert.equal(active.length, 1, 'the duplicate target is scraped once');
  assert.deepEqual(labelsToRecord(active[0]!.labels), { host: 'web', instance: 'web:8080', job: 'test' });
  assert.equal(active[0]!.url, 'https://prober:9115/probe?target=web%3A8080');
  assert.equal(dropped.length, 1);
  assert.equal(labelsToRecord(dropped[0]!.discoveredLabels)['__address__'], 'db:5432');
});

test('an invalid address or timeout from relabeling drops the target with a reason', () => {
  const r = populateTarget({}, { __address__: 'a/b:1' }, cfgOf({}));
  assert.ok('dropped' in r && /not a valid hostname/.test(r.dropped.error ?? ''));
  const r2 = populateTarget({}, { __address__: 'h:1', __scrape_timeout__: '1m' }, cfgOf({}));
  assert.ok('dropped' in r2 && /greater than scrape interval/.test(r2.dropped.error ?? ''));
});

test('per-target interval from __scrape_interval__ and stable keys', () => {
  const a = populateTarget({}, { __address__: 'h:1', __scrape_interval__: '30s' }, cfgOf({}));
  const b = populateTarget({}, { __address__: 'h:1', __scrape_interval__: '30s' }, cfgOf({}));
  assert.ok('target' in a && 'target' in b);
  assert.equal(a.target.intervalMs, 30_000);
  assert.equal(a.target.key, b.target.key);
  assert.equal(a.target.hash, b.target.hash);
});

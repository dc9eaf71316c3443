import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../core/time/manual_clock.js';
import { Inhibitor } from './inhibit.js';
import { AlertStore } from './store.js';
import { fingerprint, parseMatchers, type Alert, type LabelSet } from './types.js';

function alert(labels: LabelSet, startsAt: number, endsAt: number): Alert {
  return { labels, annotations: {}, startsAt, endsAt, generatorURL: '', updatedAt: startsAt, timeout: false, fingerprint: fingerprint(labels) };
}

test('the inhibitor follows the alert set: new sources, sources that time out, sources garbage-collected', async () => {
  const clock = new ManualClock(1_000_000);
  const store = new AlertStore(clock, undefined);
  const rules = [
    { sourceMatchers: parseMatchers('{alertname="PoolExhausted"}'), targetMatchers: parseMatchers('{alertname="HighErrorRate"}'), equal: ['service'] },
  ];
  let reads = 0;
  const inhibitor = new Inhibitor(
    rules,
    () => {
      reads++;
      return store.list();
    },
    () => clock.now(),
    () => store.version,
  );
  const target = { alertname: 'HighErrorRate', service: 'shop' };
  const other = { alertname: 'HighErrorRate', service: 'catalog' };
  const now = clock.now();
  store.put([alert(target, now, now + 300_000), alert(other, now, now + 300_000)]);
  assert.deepEqual(inhibitor.inhibitedBy(target, fingerprint(target)), []);

  const pool = alert({ alertname: 'PoolExhausted', service: 'shop' }, now, now + 60_000);
  store.put([pool]);
  for (let i = 0; i < 100; i++) {
    assert.deepEqual(inhibitor.inhibitedBy(target, fingerprint(target)), [pool.fingerprint]);
    assert.deepEqual(inhibitor.inhibitedBy(other, fingerprint(other)), [], 'another service is not inhibited');
  }
  assert.equal(reads, 2, 'the alert set is read again only after it changed');

  // The source's end passes without any change to the store: the target is released all the same.
  await clock.advance(61_000);
  assert.deepEqual(inhibitor.inhibitedBy(target, fingerprint(target)), []);
  store.gc();
  assert.deepEqual(inhibitor.inhibitedBy(target, fingerprint(target)), []);
  assert.equal(reads, 3);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History } from './history.js';
import { notificationVolume } from './volume.js';

test('volume: first attempts per receiver per hour; retries, template warnings and older events left out; held back counted apart', () => {
  const h = new History(undefined);
  const hour = 3_600_000;
  const now = Date.parse('2026-01-02T10:30:00Z');
  const n = (time: number, receiver: string, attempt: number, alertnames: string[], extra: object = {}): void =>
    h.add({ time, type: 'notification', receiver, integration: 'webhook', attempt, ok: true, alertnames, ...extra });
  n(now - 25 * hour, 'ops', 1, ['Old']); // before the 24 h span
  n(now - 23 * hour, 'ops', 1, ['A']); // 11:30 yesterday: the first hour slot (11:00)
  n(now - 2 * hour, 'ops', 1, ['A', 'B']);
  n(now - 2 * hour + 1000, 'ops', 2, ['A', 'B']); // a retry
  n(now - 2 * hour, 'ops', 0, ['A'], { ok: false }); // a template warning
  n(now - 60_000, 'chat', 1, ['A']);
  n(now - 30_000, 'chat', 0, ['B'], { ok: false, rateLimited: true });
  h.add({ time: now - 1000, type: 'firing', fingerprint: 'x' });
  const v = notificationVolume(h, now, 24, 10);
  assert.equal(v.from, Date.parse('2026-01-01T11:00:00Z'));
  assert.equal(v.total, 3);
  assert.equal(v.suppressed, 1);
  const ops = v.receivers.find((r) => r.receiver === 'ops')!;
  assert.equal(ops.hourly[0], 1);
  assert.equal(ops.hourly[21], 1);
  assert.equal(ops.total, 2);
  const chat = v.receivers.find((r) => r.receiver === 'chat')!;
  assert.equal(chat.hourly[23], 1);
  assert.equal(chat.suppressedHourly[23], 1);
  assert.deepEqual(v.topRules, [
    { alertname: 'A', notifications: 3, suppressed: 0 },
    { alertname: 'B', notifications: 1, suppressed: 1 },
  ]);
  assert.deepEqual(
    notificationVolume(h, now, 24, 1).topRules.map((r) => r.alertname),
    ['A'],
  );
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { intervalContains, parseTimeInterval } from './timeinterval.js';

test('a time interval names its zone by IANA name; an unknown one is refused', () => {
  assert.throws(() => parseTimeInterval({ location: 'Mars/Olympus' }), /unknown time zone "Mars\/Olympus"/);
  // 09:00-17:00 in Berlin is 08:00-16:00 UTC in winter.
  const office = parseTimeInterval({ times: [{ start_time: '09:00', end_time: '17:00' }], location: 'Europe/Berlin' });
  assert.equal(intervalContains(office, Date.parse('2024-01-15T08:30:00Z')), true);
  assert.equal(intervalContains(office, Date.parse('2024-01-15T16:30:00Z')), false);
});

test("location: Local is the process's zone (TZ)", () => {
  // The zone is read when the interval is parsed, so the check runs in a child with its own TZ.
  const self = fileURLToPath(import.meta.url).replace(/timeinterval\.test\.js$/, 'timeinterval.js');
  const script = `const { parseTimeInterval } = await import(${JSON.stringify(self)}); console.log(parseTimeInterval({ location: 'Local' }).location);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TZ: 'Asia/Tokyo' }, encoding: 'utf8' });
  assert.equal(run.stdout.trim(), 'Asia/Tokyo', run.stderr);
});

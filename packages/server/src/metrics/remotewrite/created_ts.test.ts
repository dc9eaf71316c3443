/**
 * remote_write 2.0 created timestamps against a head with an out-of-order window: the zero sample
 * is appended in order only, as Prometheus appends it, so a created timestamp older than the
 * series' newest sample adds nothing even where a late sample would be taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { encodeV2Request } from '../../testkit/rw2.js';
import { Head } from '../tsdb/head.js';
import { RemoteWriteReceiver } from './receiver.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

function samples(head: Head): Array<[number, number]> {
  const q = head.querier(0, T0 + 3600_000);
  const set = q.select({ start: 0, end: T0 + 3600_000 }, [new Matcher('=', '__name__', 'orders_total')]);
  const out: Array<[number, number]> = [];
  while (set.next()) for (const it = set.at().iterator(); it.next();) out.push([it.t() - T0, it.v()]);
  q.close();
  return out;
}

test('a created timestamp older than the series` newest sample adds no zero, even inside the out-of-order window; a newer one does', async () => {
  const head = new Head({ outOfOrderWindowMs: 30 * MIN, now: () => T0 + 20 * MIN });
  const receiver = new RemoteWriteReceiver(head);
  receiver.start();
  try {
    const labels = labelsFrom({ __name__: 'orders_total', job: 'shop' });
    const send = (ts: number[], vs: number[], createdTs: number): Promise<unknown> =>
      receiver.writeV2(snappyEncode(encodeV2Request([{ labels, ts: ts.map((t) => T0 + t), vs, createdTs: T0 + createdTs }])), 'snappy');
    await send([10 * MIN], [7], 9 * MIN);
    assert.deepEqual(samples(head), [
      [9 * MIN, 0],
      [10 * MIN, 7],
    ]);
    // The counter's start moved back (a clock fix upstream): a zero at 5 min would sit among the
    // series' samples and read as a reset. A late sample in the same request is still taken.
    await send([6 * MIN, 12 * MIN], [3, 9], 5 * MIN);
    assert.deepEqual(samples(head), [
      [6 * MIN, 3],
      [9 * MIN, 0],
      [10 * MIN, 7],
      [12 * MIN, 9],
    ]);
    // A restart of the counter after the newest sample: its zero is added.
    await send([15 * MIN], [1], 14 * MIN);
    assert.deepEqual(samples(head).slice(-2), [
      [14 * MIN, 0],
      [15 * MIN, 1],
    ]);
  } finally {
    await receiver.stop();
  }
});

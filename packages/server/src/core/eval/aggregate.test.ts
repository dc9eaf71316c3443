import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelsFrom, labelsKey } from '../model/labels.js';
import { NEVER_PAUSE, runSync } from '../util/pace.js';
import { assignGroups, Grouper } from './aggregate.js';

const series = [
  { __name__: 'up', job: 'node', instance: 'a:9100' },
  { __name__: 'up', job: 'node', instance: 'b:9100' },
  { __name__: 'up', job: 'api', instance: 'a:9100' },
  { __name__: 'down', job: 'node', instance: 'a:9100', zone: 'z1' },
  { __name__: 'up', instance: 'c:9100' },
  { __name__: 'up' },
].map((r) => ({ metric: labelsFrom(r) }));

const specs = [
  { op: 'sum', grouping: ['job'], without: false },
  { op: 'sum', grouping: ['job', 'zone'], without: false },
  { op: 'sum', grouping: [], without: false },
  { op: 'sum', grouping: ['instance'], without: true },
  { op: 'sum', grouping: [], without: true },
  { op: 'sum', grouping: ['__name__'], without: false },
];

describe('Grouper', () => {
  it('keys a series as labelsKey of its group labels, for by and without', () => {
    for (const spec of specs) {
      const g = new Grouper(spec);
      for (const s of series) assert.equal(g.key(s.metric), labelsKey(g.labels(s.metric)), `${JSON.stringify(spec)} ${labelsKey(s.metric)}`);
    }
  });

  it('assigns series with equal group labels to one group, in order of first appearance', () => {
    const by = runSync(assignGroups(new Grouper(specs[0]!), series, NEVER_PAUSE));
    assert.deepEqual([...by.gOf], [0, 0, 1, 0, 2, 2]);
    assert.deepEqual(
      by.groupLabels.map((l) => labelsKey(l)),
      [labelsKey(labelsFrom({ job: 'node' })), labelsKey(labelsFrom({ job: 'api' })), ''],
    );
    const without = runSync(assignGroups(new Grouper(specs[3]!), series, NEVER_PAUSE));
    // `without` drops the metric name too: up and down of one job and no zone share a group.
    assert.deepEqual([...without.gOf], [0, 0, 1, 2, 3, 3]);
    assert.deepEqual(without.groupLabels[2], labelsFrom({ job: 'node', zone: 'z1' }));
  });
});

// Rules generated from every Sloth example spec (../shared/sloth/spec) are equivalent to what Sloth
// itself generated (../shared/sloth/generated), as that directory's README defines it: the same
// groups, record and alert names, labels and annotations, and expressions equal once parsed and
// printed. Only Sloth's build label `cmd` is dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../../testkit/shared_data.js';
import { parseRuleFile, type RuleGroupDef } from '../rules/file.js';
import { parseSLOFile } from './parse.js';
import { sloRuleGroups } from './load.js';
import { ruleFileText, generateSLOGroups } from './generate.js';
import { defaultWindows } from './model.js';

const sloth = sharedData('sloth');

/** What the README says is compared: names, kinds, labels (without `cmd`), annotations, canonical expressions. */
function comparable(groups: readonly RuleGroupDef[]): unknown {
  return groups.map((g) => ({
    name: g.name,
    rules: g.rules.map((r) => {
      const labels = Object.fromEntries(Object.entries(r.labels).filter(([k]) => k !== 'cmd'));
      return { kind: r.kind, name: r.name, query: r.query, labels, annotations: r.annotations };
    }),
  }));
}

const specs = sloth.skip ? [] : readdirSync(join(sloth.dir, 'generated')).filter((f) => f.endsWith('.yml'));

test('the Sloth examples are all here', { skip: sloth.skip }, () => {
  // A shrunken copy would silently test less.
  assert.ok(specs.length >= 6, `only ${specs.length} generated files`);
});

for (const name of specs) {
  test(`Sloth spec ${name} generates rules equivalent to Sloth's`, { skip: sloth.skip }, () => {
    const spec = parseSLOFile(readFileSync(join(sloth.dir, 'spec', name), 'utf8'), `spec/${name}`);
    assert.deepEqual(spec.errors, []);
    assert.ok(spec.slos.length > 0);
    const ours = sloRuleGroups(spec.slos, spec.windows, { version: 'dev' });
    assert.deepEqual(ours.errors, []);
    // Sloth writes one rule file document per spec document (multifile.yml has two).
    const docs = readFileSync(join(sloth.dir, 'generated', name), 'utf8').split(/^---$/m);
    const parsed = docs.filter((d) => /^groups:/m.test(d)).map((d) => parseRuleFile(d, `generated/${name}`));
    assert.deepEqual(
      parsed.flatMap((p) => p.errors),
      [],
    );
    const theirs = { groups: parsed.flatMap((p) => p.groups) };
    assert.deepEqual(comparable(ours.groups), comparable(theirs.groups));
    // The printed rule file (`vigil slo generate`) reads back to the same rules.
    const printed = parseRuleFile(ruleFileText(spec.slos.flatMap((s) => generateSLOGroups(s, defaultWindows(s.periodMs), { version: 'dev' }))), 'printed');
    assert.deepEqual(printed.errors, []);
    assert.deepEqual(comparable(printed.groups), comparable(theirs.groups));
  });
}

test("Sloth's custom AlertWindows change the windows and burn rates of SLOs of that period", { skip: sloth.skip }, () => {
  const windows = parseSLOFile(readFileSync(join(sloth.dir, 'spec', 'windows-custom-30d.yaml'), 'utf8'), 'windows-custom-30d.yaml');
  assert.deepEqual(windows.errors, []);
  assert.equal(windows.windows.length, 1);
  const spec = parseSLOFile(readFileSync(join(sloth.dir, 'spec', 'getting-started.yml'), 'utf8'), 'getting-started.yml');
  const { groups } = sloRuleGroups(spec.slos, windows.windows, { version: 'dev' });
  const records = groups[0]!.rules.map((r) => r.name);
  // page: 2m/30m and 15m/3h, ticket: 1h/12h and 3h/36h, then the period.
  assert.deepEqual(
    records.map((r) => r.replace('slo:sli_error:ratio_rate', '')),
    ['2m', '15m', '30m', '1h', '3h', '12h', '1d12h', '30d'],
  );
  const page = groups[2]!.rules[0]!;
  // 1% of 30 days in 30 minutes is a burn rate of 14.4; 2% in 3 hours, 4.8.
  assert.match(page.query, /slo:sli_error:ratio_rate2m\{[^}]*\} > \(14\.4 \* /);
  assert.match(page.query, /slo:sli_error:ratio_rate3h\{[^}]*\} > \(4\.8 \* /);
  // The current burn rate uses the quickest page window.
  assert.match(groups[1]!.rules.find((r) => r.name === 'slo:current_burn_rate:ratio')!.query, /^slo:sli_error:ratio_rate2m\{/);
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CORE_FILES, expandValues, NATIVE_HISTOGRAM_FILES, runConformanceFile } from './conformance.js';
import { CONFORMANCE_EXCEPTIONS } from './conformance-exceptions.js';
import { sharedData } from '../../../testkit/shared_data.js';

const promqltest = sharedData('promqltest');

describe('PromQL conformance (core and native-histogram files of ../shared/promqltest)', { skip: promqltest.skip }, () => {
  const seen = new Set<string>();
  for (const file of [...CORE_FILES, ...NATIVE_HISTOGRAM_FILES]) {
    it(file, () => {
      const results = runConformanceFile(file, promqltest.dir);
      const unexpected: string[] = [];
      const nowPassing: string[] = [];
      let pass = 0;
      let fail = 0;
      let skip = 0;
      for (const r of results) {
        const excepted = Object.hasOwn(CONFORMANCE_EXCEPTIONS, r.id);
        if (excepted) seen.add(r.id);
        if (r.status === 'skip') skip++;
        else if (r.status === 'pass') {
          pass++;
          if (excepted) nowPassing.push(r.id);
        } else {
          fail++;
          if (!excepted) unexpected.push(`${r.id}: ${r.detail ?? ''}`);
        }
      }
      console.log(`${file}.test: ${pass} passed, ${fail} failed (listed exceptions), ${skip} skipped`);
      assert.deepEqual(unexpected, [], 'evals failed that are not listed in conformance-exceptions.ts');
      assert.deepEqual(nowPassing, [], 'listed exceptions now pass: remove them from conformance-exceptions.ts');
    });
  }

  it('lists only evals that exist', () => {
    const stale = Object.keys(CONFORMANCE_EXCEPTIONS).filter((id) => !seen.has(id));
    assert.deepEqual(stale, [], 'exception entries that match no eval');
  });
});

describe('expandValues', () => {
  it('expands the promqltest notation', () => {
    assert.deepEqual(expandValues('1+2x2 _ 5x1 -1-1x1 _x2').values, [1, 3, 5, undefined, 5, 5, -1, -2, undefined, undefined]);
    assert.equal(expandValues('{{schema:0 sum:1}}').histogram, true);
    assert.equal(expandValues('{{schema:0 sum:1 count:1}}+{{sum:2 count:1}}x2').values.length, 3);
  });
});

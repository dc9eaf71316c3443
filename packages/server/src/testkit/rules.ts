/** Helpers for the rule tests: where the shared fixtures are, and an output that captures text. */
import { join } from 'node:path';
import { repoRoot, sharedData, type SharedData } from './shared_data.js';
import type { CliOutput } from '../alerting/rules/unittest.js';

export { repoRoot };

/** `../shared/promtool-testdata`, read in place; `skip` says why suites needing it do not run. */
export function promtoolTestdata(): SharedData {
  return sharedData('promtool-testdata');
}

/** This package's own rule test data (source tree, so it works from dist/ too). */
export function ownTestdata(): string {
  return join(repoRoot(), 'packages', 'server', 'src', 'alerting', 'rules', 'testdata');
}

/** An output that keeps what is written. */
export function captureOutput(): CliOutput & { stdout: string; stderr: string } {
  const o = {
    stdout: '',
    stderr: '',
    out(t: string): void {
      o.stdout += t;
    },
    err(t: string): void {
      o.stderr += t;
    },
  };
  return o;
}

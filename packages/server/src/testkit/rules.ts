/** Helpers for the rule tests: where the shared fixtures are, and an output that captures text. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliOutput } from '../alerting/rules/unittest.js';

/** The repository root: the nearest ancestor of this file that holds `packages/`. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'packages'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (a directory containing packages/) not found');
    dir = up;
  }
}

/** `../shared/promtool-testdata`, read in place. */
export function promtoolTestdata(): string {
  return join(repoRoot(), '..', 'shared', 'promtool-testdata');
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

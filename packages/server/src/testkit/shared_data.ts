/**
 * The one place tests find the shared test data (`../shared/` next to the repository root: PromQL
 * conformance scripts, promtool fixtures), read in place and never copied into the repository.
 *
 * A fresh clone has no `../shared/`, and `npm test` must still pass there: suites that need it skip
 * with one line naming what is missing. CI sets `VIGIL_REQUIRE_SHARED=1` so that a missing
 * directory fails instead of silently skipping the conformance suites.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set to `1` to make missing shared test data a failure (CI does, in `.ci/run`). */
export const REQUIRE_SHARED_ENV = 'VIGIL_REQUIRE_SHARED';
/** Overrides where the shared test data lives (default: `../shared` next to the repository root). */
export const SHARED_DIR_ENV = 'VIGIL_SHARED_DIR';

/** Where one shared data set is, and the skip reason for suites that need it (false when present). */
export interface SharedData {
  readonly dir: string;
  readonly skip: string | false;
}

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

/** The shared test data directory, whether or not it exists. */
export function sharedRoot(): string {
  return process.env[SHARED_DIR_ENV] || join(repoRoot(), '..', 'shared');
}

/**
 * Finds `name` (e.g. `promqltest`) in the shared test data. Missing, it returns a skip reason such
 * as `../shared/promqltest not found`, or throws when {@link REQUIRE_SHARED_ENV} is `1` (a thrown
 * error at a test file's top level fails that file).
 */
export function sharedData(name: string): SharedData {
  const dir = join(sharedRoot(), name);
  if (existsSync(dir)) return { dir, skip: false };
  const shown = relative(repoRoot(), dir) || dir;
  const reason = `${shown} not found`;
  if (process.env[REQUIRE_SHARED_ENV] === '1') throw new Error(`${reason}, and ${REQUIRE_SHARED_ENV}=1 requires the shared test data`);
  return { dir, skip: reason };
}

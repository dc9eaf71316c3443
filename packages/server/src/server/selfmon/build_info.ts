/**
 * What build is running, as every Prometheus component exposes it (`prometheus_build_info` and
 * friends): version, git revision and branch, and the runtime (Node's version where Go's would be).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SelfRegistry } from '../../core/selfmon/registry.js';

/** The labels of `vigil_build_info`. */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly nodeVersion: string;
}

let gitCache: { revision: string; branch: string } | undefined;

/** Asks git once per process; an installed package has no checkout, and says `unknown`. */
function gitInfo(): { revision: string; branch: string } {
  if (gitCache) return gitCache;
  const git = (...args: string[]): string => {
    try {
      const cwd = fileURLToPath(new URL('.', import.meta.url));
      return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim() || 'unknown';
    } catch {
      return 'unknown';
    }
  };
  gitCache = { revision: git('rev-parse', 'HEAD'), branch: git('rev-parse', '--abbrev-ref', 'HEAD') };
  return gitCache;
}

/** The running build's information. */
export function buildInfo(version: string): BuildInfo {
  return { version, ...gitInfo(), nodeVersion: process.version };
}

/** Registers `vigil_build_info`: constant 1, the information in its labels. */
export function registerBuildInfo(reg: SelfRegistry, info: BuildInfo): void {
  reg.register(
    'vigil_build_info',
    'gauge',
    'A metric with a constant 1 value labeled by version, revision, branch and nodeversion from which Vigil was built.',
    () => [{ labels: { version: info.version, revision: info.revision, branch: info.branch, nodeversion: info.nodeVersion }, value: 1 }],
  );
}

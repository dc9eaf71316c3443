/** Helpers for the rule tests: where the shared fixtures are, and an output that captures text. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliOutput } from '../alerting/rules/unittest.js';
import type { Scheduler } from '../alerting/rules/types.js';

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

/** A scheduler whose time moves only when told; timers fire in time order. */
export class FakeScheduler implements Scheduler {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  /** Moves the clock without running timers (an evaluation that takes long). */
  jump(ms: number): void {
    this.t += ms;
  }

  /** Advances to `target`, running due timers (and letting their promises settle) in order. */
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (next === undefined || next.at > target) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
      for (let i = 0; i < 20; i++) await Promise.resolve();
      await new Promise((r) => setImmediate(r));
    }
    this.t = target;
  }
}

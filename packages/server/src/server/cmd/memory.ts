/**
 * The V8 heap limit of `vigil start`, from the memory budget: `--memory.budget`, else the
 * configuration's `memory_budget:`, else three quarters of the machine's memory. bin/vigil.js runs
 * the server under this limit. A quarter of the budget is left outside the heap for what V8 does
 * not count there (chunk buffers, the RE2 engine, Node itself).
 */
import { defaultMemoryBudget, memoryBudgetInFile, parseMemoryBudget } from '../config/memory_budget.js';

/** The share of the memory budget given to the V8 heap. */
export const HEAP_SHARE = 0.75;

/**
 * The worker's young generation, MiB: V8 makes it three semi-spaces, so 12 gives 4 MiB semi-spaces
 * instead of the default 16. A scavenge stops the thread for as long as it takes to copy what
 * survives, and while a big query builds its series nearly everything survives: with 16 MiB
 * semi-spaces scavenges took 20–100 ms at 300k series, with 4 MiB about a quarter of that, in more
 * but shorter pauses (ingest throughput unchanged within noise). Node's `--max-semi-space-size`
 * overrides it (bin/vigil.js then leaves the young generation alone).
 */
export const YOUNG_GENERATION_MB = 12;

/** The value of `--name VALUE` or `--name=VALUE` in `argv`, if given. */
function flag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** The memory budget `vigil start` would use, in bytes; a bad value falls back (start reports it). */
export function memoryBudgetOf(argv: readonly string[]): number {
  const given = flag(argv, 'memory.budget');
  if (given !== undefined) {
    try {
      return parseMemoryBudget(given);
    } catch {
      return defaultMemoryBudget();
    }
  }
  const file = flag(argv, 'config') ?? flag(argv, 'config.file');
  if (file !== undefined) return memoryBudgetInFile(file) ?? defaultMemoryBudget();
  return defaultMemoryBudget();
}

/** The heap limit in MiB for `argv` when it starts the server or an agent, else undefined. */
export function heapLimitMb(argv: readonly string[]): number | undefined {
  if ((argv[0] !== 'start' && argv[0] !== 'agent') || argv.includes('--help') || argv.includes('-h')) return undefined;
  return Math.max(192, Math.floor((memoryBudgetOf(argv) * HEAP_SHARE) / 1024 / 1024));
}

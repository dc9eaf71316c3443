/**
 * The memory budget and byte sizes, apart from the configuration parser: bin/vigil.js reads the
 * budget in its main thread before it starts the server's worker, and what that thread imports
 * stays in its memory for the life of the process.
 */
import * as os from 'node:os';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The default memory budget: three quarters of the machine's memory. */
export function defaultMemoryBudget(): number {
  return Math.floor(os.totalmem() * 0.75);
}

const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4, PB: 1024 ** 5 };

/** Parses a byte size such as `512MB` or `10GB` (binary multiples, as Prometheus does). */
export function parseByteSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|PB)$/i.exec(s.trim());
  if (!m) throw new Error(`invalid size ${JSON.stringify(s)}: expected a number with a unit B, KB, MB, GB, TB or PB`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!);
}

/** Parses `memory_budget` / `--memory.budget`: a size such as `4GB`; at least 256MB. */
export function parseMemoryBudget(s: string): number {
  const n = parseByteSize(s);
  if (n < 256 * 1024 ** 2) throw new Error(`memory budget ${s} is too small: at least 256MB`);
  return n;
}

/**
 * `memory_budget:` of a configuration file, or undefined when it has none or cannot be read (the
 * start itself then reports the file's problem). Reads that one field, not the whole configuration.
 */
export function memoryBudgetInFile(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    // Most files have no budget: then the YAML parser (about 8 MiB once loaded) is not loaded at all.
    if (!/^["']?memory_budget["']?\s*:/m.test(text)) return undefined;
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    const doc = parse(text) as Record<string, unknown> | null;
    const v = doc?.['memory_budget'];
    if (typeof v === 'string' || typeof v === 'number') return parseMemoryBudget(String(v));
  } catch {
    // Reported by the start, which reads the file in full.
  }
  return undefined;
}

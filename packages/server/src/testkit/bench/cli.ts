/** Command-line helpers shared by the benchmarks. */

/** A positive integer option; `fallback` when absent or empty, an error naming the option otherwise. */
export function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** The exposition the scrape benchmarks serve: exporter-like counter families whose values move every round. */

/** Exposition text of `series` series in families of 100; `round` changes the values, never the series. */
export function exposition(series: number, round: number): string {
  const families = Math.max(1, Math.floor(series / 100));
  const lines: string[] = [];
  for (let f = 0; f < families; f++) {
    const name = `bench_family_${f}_total`;
    lines.push(`# HELP ${name} A counter family of the scrape benchmark.`, `# TYPE ${name} counter`);
    for (let i = 0; i < series / families; i++) {
      lines.push(`${name}{device="dev${i % 10}",mode="m${Math.floor(i / 10)}",instance_id="${f}-${i}"} ${(f + 1) * 1000 + i * 7 + round * (i % 13)}`);
    }
  }
  return lines.join('\n') + '\n';
}

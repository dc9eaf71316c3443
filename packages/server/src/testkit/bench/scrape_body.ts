/** The exposition the scrape benchmarks serve: exporter-like counter families whose values move every round. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

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

/**
 * `count` target servers on loopback that rotate through pre-rendered `bodies` (one per scrape, in
 * turn), so serving costs the benchmark little and values move between scrapes.
 */
export async function serveBodies(count: number, bodies: readonly Buffer[]): Promise<{ ports: number[]; close: () => Promise<void> }> {
  let n = 0;
  const servers: http.Server[] = [];
  for (let i = 0; i < count; i++) {
    const srv = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(bodies[n++ % bodies.length]);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    servers.push(srv);
  }
  return {
    ports: servers.map((s) => (s.address() as AddressInfo).port),
    close: () => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined),
  };
}

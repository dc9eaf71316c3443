/**
 * `vigil traces verify DIR`: checks a trace store directory without changing it. Every WAL record
 * is checked against its frame checksum and decoded; every block's footer and index against the
 * index CRC-32C; every page against its CRC-32C, decoded in full, and compared with what the index
 * says of it (span counts, the traces it holds). Each problem is printed with its file (and byte
 * offset or page), then a summary line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Block } from './block.js';
import { listSegments, readSegment, segmentName } from './wal.js';

/** Verifies the trace store in `dir`; returns the exit code (0 clean, 1 problems found). */
export function verifyTraces(dir: string, print: (line: string) => void): number {
  let problems = 0;
  let spans = 0;
  let pages = 0;
  const report = (file: string, where: string, reason: string): void => {
    problems++;
    print(`${path.relative(dir, file) || file}: ${where}: ${reason}`);
  };
  const walDir = path.join(dir, 'wal');
  const segs = listSegments(walDir);
  for (const seg of segs) {
    const file = path.join(walDir, segmentName(seg));
    for (const p of readSegment(file, (batch) => void (spans += batch.length)))
      report(file, `byte ${p.offset}`, `${p.reason}${p.tail ? ' (to the end of the file)' : ` (${p.end - p.offset} bytes skipped)`}`);
  }
  const blockDir = path.join(dir, 'blocks');
  const files = fs.existsSync(blockDir) ? fs.readdirSync(blockDir).sort() : [];
  let blocks = 0;
  for (const f of files) {
    const file = path.join(blockDir, f);
    if (f.endsWith('.corrupt')) {
      print(`${path.relative(dir, file)}: quarantined earlier (not read)`);
      continue;
    }
    if (!/^\d{8}\.vtb$/.test(f)) continue;
    blocks++;
    let b: Block;
    try {
      b = Block.open(file);
    } catch (err) {
      report(file, 'index', (err as Error).message);
      continue;
    }
    try {
      const idx = b.index;
      const perPage = idx.pages.map(() => new Map<string, number>());
      idx.pageOf.forEach((p, i) => perPage[p]!.set(idx.ids.toString('hex', i * 16, i * 16 + 16), idx.counts[i]!));
      let total = 0;
      let unreadable = 0;
      idx.pages.forEach((meta, pi) => {
        pages++;
        try {
          const got = new Map<string, number>();
          for (const s of b.readPage(pi)) got.set(s.traceId, (got.get(s.traceId) ?? 0) + 1);
          let n = 0;
          for (const c of got.values()) n += c;
          total += n;
          if (n !== meta.spans) report(file, `page ${pi}`, `holds ${n} spans, the index says ${meta.spans}`);
          for (const [id, c] of perPage[pi]!) if (got.get(id) !== c) report(file, `page ${pi}`, `trace ${id}: ${got.get(id) ?? 0} spans, the index says ${c}`);
        } catch (err) {
          unreadable++;
          report(file, `page ${pi} (byte ${meta.offset})`, (err as Error).message);
        }
      });
      spans += total;
      if (unreadable === 0 && total !== idx.spans) report(file, 'index', `pages hold ${total} spans, the index says ${idx.spans}`);
    } finally {
      b.close();
    }
  }
  print(
    `${problems === 0 ? 'ok' : `${problems} problem${problems === 1 ? '' : 's'}`}: ${segs.length} WAL segments, ${blocks} blocks, ${pages} pages, ${spans} spans`,
  );
  return problems === 0 ? 0 : 1;
}

/**
 * `vigil logs verify DIR`: checks a log store directory without changing it. Every record of the
 * streams file, the WAL segments and the chunk indexes is checked against its frame checksum and
 * decoded; every chunk against its CRC-32C (chunks from before checksums: decoded only) and
 * decoded in full; the checkpoint marker against its checksum. Each problem is printed with its
 * file and byte offset, then a summary line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ByteReader } from '../../core/util/bytes.js';
import { openChunk } from '../../logs/store/chunk.js';
import { checkChunk, decodeChunkRecord, isChunkRecord } from '../../logs/store/chunkindex.js';
import { readFrames, type FrameFn } from '../../logs/store/framing.js';
import { parseCheckpoint, REC_ENTRIES, REC_STREAM, REC_STREAM_MARK } from '../../logs/store/store.js';

/** Verifies the log store in `dir`; returns the exit code (0 clean, 1 problems found). */
export function verifyLogs(dir: string, print: (line: string) => void): number {
  let problems = 0;
  let files = 0;
  let records = 0;
  let chunks = 0;
  const report = (file: string, offset: number, reason: string): void => {
    problems++;
    print(`${path.relative(dir, file) || file}: byte ${offset}: ${reason}`);
  };
  const scan = (file: string, fn: FrameFn): void => {
    files++;
    for (const p of readFrames(file, (type, buf, start, end, off) => {
      records++;
      fn(type, buf, start, end, off);
    }))
      report(file, p.offset, `${p.reason}${p.tail ? ' (to the end of the file)' : ` (${p.end - p.offset} bytes skipped)`}`);
  };
  if (!fs.existsSync(dir)) {
    print(`${dir}: no such directory`);
    return 1;
  }

  scan(path.join(dir, 'streams'), (type, buf, start, end) => {
    if (type !== REC_STREAM && type !== REC_STREAM_MARK) throw new Error(`unknown record type ${type}`);
    const r = new ByteReader(buf, start, end);
    r.uvarint();
    if (type === REC_STREAM) skipPairs(r);
    else for (let i = 0; i < 3; i++) r.uvarint();
    if (r.pos !== end) throw new Error('trailing bytes in record');
  });

  const walDir = path.join(dir, 'wal');
  const walFiles = fs.existsSync(walDir) ? fs.readdirSync(walDir).sort() : [];
  for (const f of walFiles) {
    const file = path.join(walDir, f);
    if (f === 'checkpoint') {
      files++;
      if (parseCheckpoint(fs.readFileSync(file, 'utf8')) === undefined) report(file, 0, 'damaged checkpoint marker');
    } else if (/^\d{8}$/.test(f)) scan(file, walRecord);
  }

  const chunkDir = path.join(dir, 'chunks');
  const idxFiles = fs.existsSync(chunkDir)
    ? fs
        .readdirSync(chunkDir)
        .filter((f) => /^\d{8}\.idx$/.test(f))
        .sort()
    : [];
  for (const f of idxFiles) {
    const datFile = path.join(chunkDir, f.slice(0, 8) + '.dat');
    const dat = fs.existsSync(datFile) ? fs.readFileSync(datFile) : Buffer.alloc(0);
    scan(path.join(chunkDir, f), (type, buf, start, end) => {
      if (!isChunkRecord(type)) throw new Error(`unknown record type ${type}`);
      const rec = decodeChunkRecord(type, buf, start, end);
      chunks++;
      if (rec.offset + rec.length > dat.length) {
        report(datFile, rec.offset, `chunk of ${rec.length} bytes runs past the end of the file (${dat.length} bytes)`);
        return;
      }
      const body = checkChunk(rec, dat.subarray(rec.offset, rec.offset + rec.length));
      if (typeof body === 'string') return report(datFile, rec.offset, body);
      try {
        const d = openChunk(Buffer.from(body));
        if (d.length !== rec.count) throw new Error(`holds ${d.length} lines, index says ${rec.count}`);
        for (let i = 0; i < d.length; i++) d.entry(i);
      } catch (err) {
        report(datFile, rec.offset, `chunk does not decode: ${(err as Error).message}`);
      }
    });
  }
  print(`${dir}: ${files} files, ${records} records, ${chunks} chunks checked: ${problems ? `${problems} problem${problems > 1 ? 's' : ''}` : 'no problems'}`);
  return problems ? 1 : 0;
}

/** Decodes a WAL record's entries (as replay does) so a well-framed but malformed record is caught. */
function walRecord(type: number, buf: Buffer, start: number, end: number): void {
  if (type !== REC_ENTRIES) throw new Error(`unknown record type ${type}`);
  const r = new ByteReader(buf, start, end);
  while (r.pos < end) {
    r.uvarint();
    r.pos += 8;
    r.bytes(r.uvarint());
    skipPairs(r);
  }
  if (r.pos !== end) throw new Error('unexpected end of record');
}

/** Reads a count and that many name/value string pairs (labels, structured metadata). */
function skipPairs(r: ByteReader): void {
  for (let n = r.uvarint(), i = 0; i < n; i++) {
    r.str();
    r.str();
  }
}

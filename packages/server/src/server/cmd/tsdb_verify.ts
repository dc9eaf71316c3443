/**
 * `vigil tsdb verify DIR`: checks a data directory without changing it. Every block's meta.json
 * and index (their checksums and structure), every chunk's CRC-32C and that it decodes, and the
 * CRC of every record in the WAL segments and checkpoints. Each problem is printed with its file,
 * offset and series; the exit code is 0 when all is clean and 1 otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FRAME_HEADER, scanFrames } from '../../core/encoding/framing.js';
import { Block } from '../../metrics/tsdb/block.js';
import { isBlockName } from '../../metrics/tsdb/block_format.js';
import { isWalRecordType } from '../../metrics/tsdb/wal.js';
const SEGMENT = /^\d{8}$/;
const CHECKPOINT = /^checkpoint\.\d{8}$/;
/** Records hold one commit (or 1 MiB of a checkpoint); a longer claimed length is a damaged header. */
const MAX_SANE_RECORD = 64 << 20;

interface Tally {
  problems: number;
  blocks: number;
  chunks: number;
  walFiles: number;
  records: number;
}

/** Verifies the data directory `dir`; prints findings through `print`; returns the exit code. */
export function verifyTsdb(dir: string, print: (line: string) => void): number {
  const tally: Tally = { problems: 0, blocks: 0, chunks: 0, walFiles: 0, records: 0 };
  const problem = (line: string): void => {
    tally.problems++;
    print(`PROBLEM ${line}`);
  };
  if (!fs.existsSync(dir)) {
    problem(`${dir}: no such directory`);
    return 1;
  }
  verifyBlocks(path.join(dir, 'blocks'), tally, problem, print);
  verifyWal(path.join(dir, 'wal'), tally, problem, print);
  print(
    `checked ${tally.blocks} block(s) with ${tally.chunks} chunk(s) and ${tally.walFiles} WAL file(s) with ${tally.records} record(s): ` +
      (tally.problems === 0 ? 'no problems' : `${tally.problems} problem(s)`),
  );
  return tally.problems === 0 ? 0 : 1;
}

function verifyBlocks(blocksDir: string, tally: Tally, problem: (l: string) => void, print: (l: string) => void): void {
  if (!fs.existsSync(blocksDir)) return;
  for (const name of fs.readdirSync(blocksDir).sort()) {
    const full = path.join(blocksDir, name);
    if (name.includes('.corrupt')) {
      problem(`blocks/${name}: quarantined block (moved aside at start for failing its checks)`);
      continue;
    }
    if (name.endsWith('.tmp') || name.endsWith('.deleting')) {
      // What a kill leaves behind; the next start removes it and no data depends on it.
      print(`note blocks/${name}: leftover of an interrupted write or delete; removed at the next start`);
      continue;
    }
    if (!isBlockName(name)) continue;
    tally.blocks++;
    let block: Block;
    try {
      block = new Block(full);
    } catch (err) {
      problem(`blocks/${name}: ${(err as Error).message}`);
      continue;
    }
    try {
      tally.chunks += block.verifyChunks((msg) => problem(`blocks/${name}/chunks: ${msg}`));
      if (block.version === 3) print(`note blocks/${name}: index layout 3 has no chunk checksums; chunks were checked by decoding only`);
    } finally {
      block.close();
    }
  }
}

function verifyWal(walDir: string, tally: Tally, problem: (l: string) => void, print: (l: string) => void): void {
  if (!fs.existsSync(walDir)) return;
  const files = fs.readdirSync(walDir).filter((f) => SEGMENT.test(f) || CHECKPOINT.test(f));
  const lastSegment = files
    .filter((f) => SEGMENT.test(f))
    .sort()
    .at(-1);
  for (const f of files.sort()) {
    tally.walFiles++;
    const buf = fs.readFileSync(path.join(walDir, f));
    // The same scan replay does: each damaged span is reported, and replay goes on after it.
    const damaged = scanFrames(
      buf,
      (type) => {
        if (!isWalRecordType(type)) throw new Error(`unknown record type ${type}`);
        tally.records++;
      },
      (type) => isWalRecordType(type),
    );
    for (const d of damaged) {
      const at = `at byte ${d.offset}`;
      const after = d.tail ? 'replay cuts the file there' : `replay skips ${d.end - d.offset} bytes to the next intact record`;
      if (d.reason.startsWith('torn')) {
        const claimed = d.offset + FRAME_HEADER <= buf.length ? buf.readUInt32LE(d.offset + 1) : 0;
        // A kill mid-write tears the last record of the newest segment. A length far beyond any
        // record the log writes is a damaged header instead; so is a torn record anywhere else.
        if (d.tail && f === lastSegment && claimed <= MAX_SANE_RECORD)
          print(`note wal/${f}: torn record ${at} (an interrupted write); cut off at the next start`);
        else problem(`wal/${f}: torn or damaged record ${at} (length ${claimed}, ${buf.length - d.offset} bytes left); ${after}`);
      } else if (d.reason.startsWith('undecodable record: ')) problem(`wal/${f}: ${d.reason.slice('undecodable record: '.length)} ${at}; ${after}`);
      else problem(`wal/${f}: ${d.reason} in the record ${at}; ${after}`);
    }
  }
}

/**
 * The structured-metadata section shared by both chunk layouts: how many lines carry metadata,
 * then per such line its index and its label pairs.
 */
import type { Labels } from '../../core/model/labels.js';
import type { ByteReader, ByteWriter } from '../../core/util/bytes.js';

/** Writes the metadata of the lines that have any. */
export function writeMetas(w: ByteWriter, metas: ArrayLike<Labels | undefined>): void {
  let count = 0;
  for (let i = 0; i < metas.length; i++) if (metas[i]?.length) count++;
  w.uvarint(count);
  for (let i = 0; i < metas.length; i++) {
    const m = metas[i];
    if (!m || !m.length) continue;
    w.uvarint(i);
    w.uvarint(m.length);
    for (const l of m) {
      w.str(l.name);
      w.str(l.value);
    }
  }
}

/** Reads what {@link writeMetas} wrote: line index → labels. */
export function readMetas(r: ByteReader): Map<number, Labels> {
  const metas = new Map<number, Labels>();
  const count = r.uvarint();
  for (let j = 0; j < count; j++) {
    const idx = r.uvarint();
    const pairs = r.uvarint();
    const m: { name: string; value: string }[] = [];
    for (let k = 0; k < pairs; k++) m.push({ name: r.str(), value: r.str() });
    metas.set(idx, m);
  }
  return metas;
}

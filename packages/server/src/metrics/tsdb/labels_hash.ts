/** A map from label sets to items, keyed by a hash of the labels rather than a key string per item. */
import { labelsEqual, type Labels } from '../../core/model/labels.js';

/** FNV-1a over the names and values, with a separator after each; equal hashes are told apart by comparing labels. */
function labelsHash(labels: Labels): number {
  let h = 0x811c9dc5;
  for (const l of labels) {
    for (let i = 0; i < l.name.length; i++) h = Math.imul(h ^ l.name.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
    for (let i = 0; i < l.value.length; i++) h = Math.imul(h ^ l.value.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0xfe, 0x01000193);
  }
  return h >>> 0;
}

/** Items with labels, found by their labels; items whose hashes collide share a list. */
export class LabelsHashMap<T extends { readonly labels: Labels }> {
  private readonly map = new Map<number, T | T[]>();

  get(labels: Labels): T | undefined {
    const e = this.map.get(labelsHash(labels));
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return labelsEqual(e.labels, labels) ? e : undefined;
    return e.find((x) => labelsEqual(x.labels, labels));
  }

  add(item: T): void {
    const h = labelsHash(item.labels);
    const e = this.map.get(h);
    if (e === undefined) this.map.set(h, item);
    else if (Array.isArray(e)) e.push(item);
    else this.map.set(h, [e, item]);
  }

  delete(item: T): void {
    const h = labelsHash(item.labels);
    const e = this.map.get(h);
    if (e === item) this.map.delete(h);
    else if (Array.isArray(e)) {
      const rest = e.filter((x) => x !== item);
      this.map.set(h, rest.length === 1 ? rest[0]! : rest);
    }
  }
}

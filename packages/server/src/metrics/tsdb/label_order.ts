/**
 * The head's series ranked by labels, so a selection comes out in label order by sorting numbers
 * instead of comparing label sets: that comparison was most of the cost of selecting a few thousand
 * series. Series created since the last build are sorted by labels and merged in. Sorting them
 * runs up a debt; once it reaches a quarter of the head, the next selection with a few hundred
 * unranked series ranks the whole head again, so the build costs a few times what the sorts it
 * replaces cost and a small selection never pays for it.
 */
import { compareLabels, type Labels } from '../../core/model/labels.js';
import { pacedSort, type Pacer, type Work } from '../../core/util/pace.js';

/** A series the order can rank: its labels, and a slot for its rank that only {@link LabelOrder} writes. */
export interface Rankable {
  readonly labels: Labels;
  /** The rank from the ranking current when it was written; below the order's base it is stale. */
  labelRank: number;
}

/** A new series is unranked until the next build. */
export const UNRANKED = -1;

/** A selection with fewer unranked series than this sorts them by labels and never builds. */
const REBUILD_MIN = 256;
/** The ranking is built once the unranked series sorted since the last build reach 1/REBUILD_SHARE of the head. */
const REBUILD_SHARE = 4;

const byLabels = (a: Rankable, b: Rankable): number => compareLabels(a.labels, b.labels);

export class LabelOrder<S extends Rankable> {
  /** Series by labels, at the last build; index i holds rank base + i. */
  private ranked: S[] = [];
  /**
   * Ranks of the current build start here. Every build and every reset moves it past all ranks
   * given so far, so a series keeps a stale rank without anyone visiting it.
   */
  private base = 0;
  /** Unranked series sorted by labels since the last build. */
  private debt = 0;

  /** `all` lists every series of the head (for a build); `size` counts them. */
  constructor(
    private readonly all: () => Iterable<S>,
    private readonly size: () => number,
  ) {}

  /**
   * Forgets the ranking (all series become unranked), so it holds no removed series: for the head
   * to call after it dropped many series.
   */
  reset(): void {
    this.base += this.ranked.length + 1;
    this.ranked = [];
    this.debt = 0;
  }

  /** Whether `s` has a place in the current ranking. */
  isRanked(s: S): boolean {
    return s.labelRank >= this.base;
  }

  /** Sorts `list` (series of the head, each once) by labels, in place, pausing when the pacer is due. */
  *sortPaced(list: S[], pace: Pacer): Work<S[]> {
    let fresh = 0;
    for (const s of list) if (!this.isRanked(s)) fresh++;
    this.debt += fresh;
    if (fresh >= REBUILD_MIN && this.debt * REBUILD_SHARE >= this.size()) {
      yield* this.build(pace);
      fresh = 0;
    }
    if (fresh === list.length) return yield* pacedSort(list, byLabels, pace);
    // Ranked series by their rank (a native numeric sort), the others by labels, then merged. The
    // ranking is held here: a reset may replace it while the sort below pauses.
    const ranked = this.ranked;
    const base = this.base;
    const all = new Uint32Array(list.length);
    const unranked: S[] = [];
    let k = 0;
    for (const s of list) {
      if (s.labelRank >= base) all[k++] = s.labelRank - base;
      else unranked.push(s);
    }
    const ranks = all.subarray(0, k).sort();
    yield* pacedSort(unranked, byLabels, pace);
    let i = 0;
    let j = 0;
    for (let o = 0; o < list.length; o++) {
      if ((o & 4095) === 4095 && pace.due()) {
        pace.check();
        yield;
      }
      const a = i < ranks.length ? ranked[ranks[i]!]! : undefined;
      const b = unranked[j];
      if (b === undefined || (a !== undefined && compareLabels(a.labels, b.labels) <= 0)) {
        list[o] = a!;
        i++;
      } else {
        list[o] = b;
        j++;
      }
    }
    return list;
  }

  /** Ranks every series of the head by labels. */
  private *build(pace: Pacer): Work<void> {
    const all = [...this.all()];
    yield* pacedSort(all, byLabels, pace);
    this.base += this.ranked.length + 1;
    for (let i = 0; i < all.length; i++) all[i]!.labelRank = this.base + i;
    this.ranked = all;
    this.debt = 0;
  }
}

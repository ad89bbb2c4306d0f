/**
 * The ordered key view behind the memory adapters' scans and listings. Keys live in the owner's Map;
 * this keeps a lazily merged sorted array so bulk inserts cost O(k log k) once at the next scan,
 * not an O(n) splice each.
 */
import { compareUtf8 } from '../key-rules.ts';

/** Sorted snapshot of a Map's keys, rebuilt on demand after inserts and deletes. */
export class SortedKeys {
  private sorted: string[] = [];
  private added: string[] = [];
  private removed = 0;

  /** Records a key that was not present before. */
  add(key: string): void {
    this.added.push(key);
  }

  /** Records that `count` keys were deleted (the sorted array is compacted lazily). */
  remove(count = 1): void {
    this.removed += count;
  }

  /** Forgets every key. */
  clear(): void {
    this.sorted = [];
    this.added = [];
    this.removed = 0;
  }

  /**
   * All live keys in UTF-8 byte order. The returned array is never mutated afterwards, so an
   * iterator may keep using it while writes go on (it then sees a snapshot of the key set).
   */
  snapshot(isLive: (key: string) => boolean): string[] {
    if (this.added.length === 0 && this.removed === 0) return this.sorted;
    const added = this.added.filter(isLive).sort(compareUtf8);
    const old = this.removed > 0 ? this.sorted.filter(isLive) : this.sorted;
    const merged = new Array<string>(old.length + added.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < added.length) merged[k++] = compareUtf8(old[i], added[j]) <= 0 ? old[i++] : added[j++];
    while (i < old.length) merged[k++] = old[i++];
    while (j < added.length) merged[k++] = added[j++];
    // A key deleted and re-added between snapshots appears in both lists; drop the duplicate.
    let w = 0;
    for (let r = 0; r < merged.length; r++) if (w === 0 || merged[r] !== merged[w - 1]) merged[w++] = merged[r];
    merged.length = w;
    this.sorted = merged;
    this.added = [];
    this.removed = 0;
    return merged;
  }
}

/** Index of the first element of sorted `keys` that is >= `key` in UTF-8 byte order. */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUtf8(keys[mid], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

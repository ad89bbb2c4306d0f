/**
 * Vectors handed out before they are fully read. A sealed segment's vector column is read from its
 * local chunk file in the background after the segment opens (reading half a gigabyte into fresh
 * memory took most of a 1M-row reopen), so the Float32Array a vector index is opened with may
 * still be filling. Code that reads such an array's contents calls `ensureVectors` first; it
 * returns at once for arrays that were never lazy or are complete.
 */

const pending = new WeakMap<ArrayBufferLike, () => void>();

/** Marks `data` (and every view of its buffer) as loading; `complete` finishes the load synchronously. */
export function registerLazyVectors(data: Float32Array, complete: () => void): void {
  pending.set(data.buffer, complete);
}

/** Marks `data`'s buffer as complete. */
export function unregisterLazyVectors(data: Float32Array): void {
  pending.delete(data.buffer);
}

/** Makes sure `data`'s contents are all there (finishing a background load synchronously if needed). */
export function ensureVectors(data: Float32Array): void {
  pending.get(data.buffer)?.();
}

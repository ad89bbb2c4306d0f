/**
 * Port: the engine's local disk. The engine keeps downloaded objects (index files, chunks of
 * segments it does not hold in memory) and index files being built in a local area, and reads
 * vector chunks in place from local files; it does all of that through this port, never through
 * node:fs, so the layering rules (.dependency-cruiser.cjs) hold and a deployment picks where the
 * area lives (lib/adapters/local/local-files.ts).
 *
 * Names are object keys or other relative, '/'-separated names inside the area; `path` turns one
 * into the absolute path that path-based libraries (the vector index) take. `open` takes an
 * absolute path: a name's `path`, or an object store's `localPath`.
 */

/** A local file opened for positional reads; the file must not change while it is open. */
export interface LocalFileHandle {
  /** The file's path, for error messages. */
  readonly path: string;
  /** Its size in bytes when it was opened. */
  readonly size: number;
  /** Reads up to `into.length` bytes from byte `position` now; returns how many were read (0 at the end). */
  readSync(into: Uint8Array, position: number): number;
  /** Reads up to `into.length` bytes from byte `position` in the background; `done` gets the count (0 at the end) or the error. */
  read(into: Uint8Array, position: number, done: (err: Error | null, bytesRead: number) => void): void;
  /** Closes the file (idempotent); no read may be in flight. */
  close(): void;
}

/** The engine's local area for cached objects and build scratch files. */
export interface LocalFiles {
  /** The absolute path of `name` in the area (nothing is created). */
  path(name: string): string;
  /** Whether `name` exists. */
  exists(name: string): boolean;
  /** The contents of `name`. */
  readFile(name: string): Uint8Array;
  /** Stores `bytes` as `name` atomically (a reader sees the old state or all of it), creating its parents. */
  writeFile(name: string, bytes: Uint8Array): void;
  /** Removes `name`, a file or a whole folder of names; nothing happens when it is missing. */
  remove(name: string): void;
  /** A fresh name for a scratch file (unique to this process and `hint`) whose parent exists; remove it when done. */
  scratchName(hint: string): string;
  /** Opens the local file at absolute path `file` for positional reads (see LocalFileHandle). */
  open(file: string): LocalFileHandle;
}

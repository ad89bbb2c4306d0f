/**
 * ObjectStore on the local filesystem: object `a/b/c` is the file `<root>/a/b/c`. Puts are atomic and
 * durable (write a temp file, fsync, rename over the target, fsync the directory), so a reader or a
 * crash sees the old bytes or the new, never a mix. Limitation of mapping keys to paths: a key cannot
 * also be a directory of other keys ('a' and 'a/b' cannot both exist); such a put fails clearly.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NotFoundError, StorageError } from '../../engine/errors.ts';
import type { ObjectStore } from '../../engine/ports/object-store.ts';
import { checkBytes, checkObjectDeletePrefix, checkObjectKey, checkObjectPrefix, checkRange, compareUtf8 } from '../key-rules.ts';
import { errCode, errMessage, syncDir } from './fs-helpers.ts';

/** Directory under the root for in-flight puts; its name is reserved and never listed. */
const TMP_DIR = '.migrans-tmp';

/** Temp files older than this at startup are leftovers of a crashed put and get removed. */
const STALE_TMP_MS = 60 * 60 * 1000;

/** How many unlinks deletePrefix keeps in flight. */
const DELETE_CONCURRENCY = 64;

/** Errors meaning "no object here" for a path lookup. */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/** Objects as files under a root directory (created on first put). */
export class FileObjectStore implements ObjectStore {
  /** Absolute root directory. */
  readonly root: string;
  private ready: Promise<void> | undefined;
  private seq = 0;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    checkBytes(data, `data for object ${JSON.stringify(key)}`);
    await this.init();
    const tmp = path.join(this.root, TMP_DIR, `${process.pid}-${++this.seq}-${randomBytes(6).toString('hex')}`);
    try {
      const fh = await fs.open(tmp, 'w', 0o644);
      try {
        let done = 0;
        while (done < data.length) done += (await fh.write(data, done, data.length - done, done)).bytesWritten;
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await this.renameInto(tmp, target);
      await syncDir(path.dirname(target));
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw this.putError(key, target, err);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const file = this.pathOf(key);
    try {
      const buf = await fs.readFile(file);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      throw this.readError(key, file, err);
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const file = this.pathOf(key);
    checkRange(key, offset, length);
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, 'r');
    } catch (err) {
      throw this.readError(key, file, err);
    }
    try {
      const stat = await fh.stat();
      if (!stat.isFile()) throw new NotFoundError(key);
      const n = Math.max(0, Math.min(length, stat.size - offset));
      const buf = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
        if (bytesRead === 0) break; // the file shrank under us: return what exists
        got += bytesRead;
      }
      return got < n ? buf.subarray(0, got) : buf;
    } catch (err) {
      throw this.readError(key, file, err);
    } finally {
      await fh.close();
    }
  }

  async exists(key: string): Promise<boolean> {
    const file = this.pathOf(key);
    try {
      return (await fs.stat(file)).isFile();
    } catch (err) {
      if (MISSING.has(errCode(err))) return false;
      throw new StorageError(`cannot check object ${JSON.stringify(key)} at ${file}: ${errMessage(err)}`, { cause: err });
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkObjectPrefix(prefix);
    if (prefix === TMP_DIR || prefix.startsWith(`${TMP_DIR}/`)) return []; // in-flight puts are not objects
    // Walk only the deepest directory the prefix pins down; its last, partial segment filters names there.
    const slash = prefix.lastIndexOf('/');
    const out: string[] = [];
    await this.walk(slash < 0 ? '' : prefix.slice(0, slash), prefix.slice(slash + 1), out);
    return out.sort(compareUtf8);
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    if (await this.unlink(key, file)) await this.pruneDirs(path.dirname(key));
  }

  async deletePrefix(prefix: string): Promise<number> {
    checkObjectDeletePrefix(prefix);
    const keys = await this.list(prefix);
    let removed = 0;
    for (let i = 0; i < keys.length; i += DELETE_CONCURRENCY) {
      const done = await Promise.all(keys.slice(i, i + DELETE_CONCURRENCY).map((k) => this.unlink(k, path.join(this.root, k))));
      for (const d of done) if (d) removed++;
    }
    // Deepest first, so a parent is tried only after its children had their chance to go.
    const dirs = [...new Set(keys.map((k) => path.dirname(k)))].sort((a, b) => b.length - a.length);
    for (const d of dirs) await this.pruneDirs(d);
    // Folders a crash left empty (files unlinked, folders not yet removed) go too, so a retried drop leaves nothing.
    const slash = prefix.lastIndexOf('/');
    const parent = slash < 0 ? '' : prefix.slice(0, slash);
    if ((await this.removeEmptyDirs(parent, prefix.slice(slash + 1))) && parent !== '') await this.pruneDirs(parent);
    return removed;
  }

  localPath(key: string): string {
    return this.pathOf(key);
  }

  /** The file path for a validated key. */
  private pathOf(key: string): string {
    checkObjectKey(key);
    if (key === TMP_DIR || key.startsWith(`${TMP_DIR}/`)) {
      throw new RangeError(`invalid object key ${JSON.stringify(key)}: '${TMP_DIR}' is reserved by the local object store for in-flight writes; pick another name`);
    }
    return path.join(this.root, key);
  }

  /** Creates the root and temp directory once, clearing temp files a crashed process left behind. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      const tmpDir = path.join(this.root, TMP_DIR);
      await fs.mkdir(tmpDir, { recursive: true });
      const cutoff = Date.now() - STALE_TMP_MS;
      for (const name of await fs.readdir(tmpDir)) {
        const file = path.join(tmpDir, name);
        const stat = await fs.stat(file).catch(() => undefined);
        if (stat && stat.mtimeMs < cutoff) await fs.rm(file, { force: true });
      }
    })().catch((err) => {
      this.ready = undefined; // let a later put retry (e.g. after the disk was remounted)
      throw new StorageError(`cannot create the object store directory ${this.root}: ${errMessage(err)}`, { cause: err });
    });
    return this.ready;
  }

  /** Renames the temp file onto the target, recreating the parent if a concurrent delete pruned it. */
  private async renameInto(tmp: string, target: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await fs.mkdir(path.dirname(target), { recursive: true });
      try {
        await fs.rename(tmp, target);
        return;
      } catch (err) {
        if (errCode(err) !== 'ENOENT' || attempt >= 4) throw err;
      }
    }
  }

  /** Removes one file; true when it existed. A directory is not an object, so it counts as missing. */
  private async unlink(key: string, file: string): Promise<boolean> {
    try {
      await fs.unlink(file);
      return true;
    } catch (err) {
      if (MISSING.has(errCode(err)) || errCode(err) === 'EPERM') return false;
      throw new StorageError(`cannot delete object ${JSON.stringify(key)} at ${file}: ${errMessage(err)}`, { cause: err });
    }
  }

  /** Removes now-empty directories from `relDir` up towards the root, so listings do not wander dead trees. */
  private async pruneDirs(relDir: string): Promise<void> {
    for (let d = relDir; d !== '.' && d !== '' && d !== '/'; d = path.dirname(d)) {
      try {
        await fs.rmdir(path.join(this.root, d));
      } catch {
        return; // not empty (or already gone): ancestors are not empty either
      }
    }
  }

  /**
   * Removes the empty folders under `relDir` whose name starts with `namePrefix` (every folder
   * below them), deepest first; returns whether `relDir` was left with no entries.
   */
  private async removeEmptyDirs(relDir: string, namePrefix: string): Promise<boolean> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(path.join(this.root, relDir), { withFileTypes: true });
    } catch {
      return false; // gone already, or unreadable: nothing to prune
    }
    let left = entries.length;
    for (const e of entries) {
      if (!e.isDirectory() || !e.name.startsWith(namePrefix) || (relDir === '' && e.name === TMP_DIR)) continue;
      const child = relDir === '' ? e.name : `${relDir}/${e.name}`;
      if (!(await this.removeEmptyDirs(child, ''))) continue;
      try {
        await fs.rmdir(path.join(this.root, child));
        left--;
      } catch {
        // a file appeared meanwhile: keep it
      }
    }
    return left === 0;
  }

  /** Collects keys of files under `relDir` whose name starts with `namePrefix` (every name below matches). */
  private async walk(relDir: string, namePrefix: string, out: string[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(path.join(this.root, relDir), { withFileTypes: true });
    } catch (err) {
      if (MISSING.has(errCode(err))) return;
      throw new StorageError(`cannot list objects under ${JSON.stringify(relDir)} in ${this.root}: ${errMessage(err)}`, { cause: err });
    }
    const subdirs: Promise<void>[] = [];
    for (const e of entries) {
      if (!e.name.startsWith(namePrefix) || (relDir === '' && e.name === TMP_DIR)) continue;
      const rel = relDir === '' ? e.name : `${relDir}/${e.name}`;
      if (e.isFile()) out.push(rel);
      else if (e.isDirectory()) subdirs.push(this.walk(rel, '', out));
    }
    await Promise.all(subdirs);
  }

  private readError(key: string, file: string, err: unknown): Error {
    if (err instanceof NotFoundError) return err;
    if (MISSING.has(errCode(err))) return new NotFoundError(key);
    return new StorageError(`cannot read object ${JSON.stringify(key)} at ${file}: ${errMessage(err)}`, { cause: err });
  }

  private putError(key: string, file: string, err: unknown): Error {
    if (err instanceof StorageError) return err;
    const code = errCode(err);
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      return new StorageError(
        `cannot store object ${JSON.stringify(key)}: a leading part of the key is already an object, and the local object store keeps objects as files, so a key cannot also be a prefix directory of other keys; rename one of them`,
        { cause: err },
      );
    }
    if (code === 'EISDIR') {
      return new StorageError(
        `cannot store object ${JSON.stringify(key)}: other objects live under ${JSON.stringify(`${key}/`)}, and the local object store keeps objects as files, so a key cannot also be their directory; rename one of them`,
        { cause: err },
      );
    }
    return new StorageError(`cannot store object ${JSON.stringify(key)} at ${file}: ${errMessage(err)}`, { cause: err });
  }
}

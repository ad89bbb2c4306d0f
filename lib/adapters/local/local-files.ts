/**
 * The LocalFiles port (lib/engine/ports/local-files.ts) over a folder of the local file system:
 * the embedded server's `<data>/cache`, a querynode's cache folder, a Lambda's /tmp. Atomic writes
 * go through a `.tmp` sibling and a rename; scratch names live under `build/` and carry the
 * process id so processes sharing the folder never collide.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StorageError } from '../../engine/errors.ts';
import type { LocalFileHandle, LocalFiles } from '../../engine/ports/local-files.ts';

/** LocalFiles rooted at the folder `root` (created on first write). */
export class FolderLocalFiles implements LocalFiles {
  /** The absolute folder every name lives under. */
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  path(name: string): string {
    const file = path.resolve(this.root, name);
    if (file !== this.root && !file.startsWith(this.root + path.sep)) {
      throw new StorageError(`local file name ${JSON.stringify(name)} leaves the folder ${this.root}: use a relative name without '..'`);
    }
    return file;
  }

  exists(name: string): boolean {
    return fs.existsSync(this.path(name));
  }

  readFile(name: string): Uint8Array {
    return fs.readFileSync(this.path(name));
  }

  writeFile(name: string, bytes: Uint8Array): void {
    const file = this.path(name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file + '.tmp', bytes);
    fs.renameSync(file + '.tmp', file);
  }

  remove(name: string): void {
    fs.rmSync(this.path(name), { recursive: true, force: true });
  }

  scratchName(hint: string): string {
    const name = `build/${process.pid}-${hint}`;
    fs.mkdirSync(path.dirname(this.path(name)), { recursive: true });
    return name;
  }

  open(file: string): LocalFileHandle {
    return FileHandle.open(file);
  }
}

/** A LocalFileHandle over a file descriptor. */
class FileHandle implements LocalFileHandle {
  private fd: number;

  private constructor(
    readonly path: string,
    fd: number,
    readonly size: number,
  ) {
    this.fd = fd;
  }

  /** Opens `file` read-only. */
  static open(file: string): FileHandle {
    const fd = fs.openSync(file, 'r');
    try {
      return new FileHandle(file, fd, fs.fstatSync(fd).size);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  readSync(into: Uint8Array, position: number): number {
    return fs.readSync(this.fd, into, 0, into.length, position);
  }

  read(into: Uint8Array, position: number, done: (err: Error | null, bytesRead: number) => void): void {
    fs.read(this.fd, into, 0, into.length, position, (err, n) => done(err, n));
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    fs.close(fd, () => undefined);
  }
}

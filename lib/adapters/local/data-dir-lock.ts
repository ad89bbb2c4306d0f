/**
 * The exclusive lock on an embedded data directory: one data directory has one owning process
 * (ARCHITECTURE.md §2.6). Two processes writing one LMDB environment and one WAL would both
 * acknowledge writes that the other then overwrites, so the second one must refuse to start.
 *
 * The lock is the file `<dataDir>/LOCK` holding the owner's pid, hostname and process start time.
 * It is created atomically: the content is written to a private temp file first and then hard-linked
 * to `LOCK`, which fails if `LOCK` exists, so a reader never sees a half-written lock. A lock whose
 * process is gone (same host, pid not running, or running but started at another time: a reused
 * pid) is stale and taken over; it is released on close and when the process exits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataDirInUseError, StorageError } from '../../engine/errors.ts';
import { errCode, errMessage } from './fs-helpers.ts';

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'LOCK';

/** What a lock file records about its owner. */
interface LockOwner {
  pid: number;
  hostname: string;
  /** The owner's start time from /proc (Linux), to tell a reused pid from the owner; '' elsewhere. */
  started: string;
}

/** A held data-directory lock. */
export interface DataDirLock {
  /** Absolute path of the lock file. */
  readonly file: string;
  /** Removes the lock file if it is still this process's (idempotent). */
  release(): void;
}

/**
 * Takes the exclusive lock on `dataDir` (which must exist) before anything in it is opened, or
 * throws DataDirInUseError naming the owner's pid.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const file = path.join(path.resolve(dataDir), LOCK_FILE);
  const me: LockOwner = { pid: process.pid, hostname: os.hostname(), started: startTime(process.pid) };
  const text = JSON.stringify(me) + '\n';
  // A few rounds: each one either takes the lock, finds a live owner, or clears a stale lock.
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file, text)) {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener('exit', release);
        try {
          if (fs.readFileSync(file, 'utf8') === text) fs.unlinkSync(file);
        } catch {
          // already gone: nothing to release
        }
      };
      process.once('exit', release);
      return { file, release };
    }
    const held = readOwner(file);
    if (held === 'missing') continue; // released meanwhile: try again
    if (held !== 'unreadable' && isAlive(held)) throw new DataDirInUseError(path.dirname(file), held.pid, held.hostname, file);
    clearStale(file, held);
  }
  throw new StorageError(`cannot take the lock ${file}: it keeps changing hands; check that no other Migrans process uses ${path.dirname(file)} and retry`);
}

/** Creates the lock file with `text`; false when a lock file exists already. */
function tryCreate(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.writeFileSync(tmp, text, { flag: 'wx', mode: 0o644 });
    try {
      fs.linkSync(tmp, file);
      return true;
    } catch (err) {
      if (errCode(err) === 'EEXIST') return false;
      throw err;
    }
  } catch (err) {
    throw new StorageError(`cannot create the data directory lock ${file}: ${errMessage(err)}; check the directory's permissions and free space`, { cause: err });
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The owner recorded in a lock file ('unreadable' for a garbled file, which is treated as stale). */
function readOwner(file: string): LockOwner | 'missing' | 'unreadable' {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return 'missing';
    throw new StorageError(`cannot read the data directory lock ${file}: ${errMessage(err)}`, { cause: err });
  }
  try {
    const v = JSON.parse(raw) as Partial<LockOwner>;
    if (Number.isSafeInteger(v.pid) && typeof v.hostname === 'string') return { pid: v.pid!, hostname: v.hostname, started: typeof v.started === 'string' ? v.started : '' };
  } catch {
    // fall through
  }
  return 'unreadable';
}

/** Whether the lock's owner may still be running (another host's process always may: it cannot be checked). */
function isAlive(owner: LockOwner): boolean {
  if (owner.hostname !== os.hostname()) return true;
  if (owner.pid === process.pid) return true; // this process opened the directory already and has not closed it
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if (errCode(err) === 'ESRCH') return false;
    // EPERM: a process of another user runs with that pid; fall through to the start-time check.
  }
  const started = startTime(owner.pid);
  return !(owner.started && started && started !== owner.started);
}

/**
 * Removes a stale lock. It is renamed away first and checked again: if another process replaced it
 * with its own live lock between our read and the rename, that lock is put back.
 */
function clearStale(file: string, stale: LockOwner | 'unreadable'): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return;
    throw new StorageError(`cannot remove the stale data directory lock ${file}: ${errMessage(err)}`, { cause: err });
  }
  const moved = readOwner(aside);
  const same =
    moved === 'unreadable' || moved === 'missing' || (stale !== 'unreadable' && moved.pid === stale.pid && moved.hostname === stale.hostname && moved.started === stale.started);
  if (!same) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // a third process took the lock meanwhile; its lock stands
    }
  }
  fs.rmSync(aside, { force: true });
}

/** A process's start time (field 22 of /proc/<pid>/stat, Linux), or '' where unknown. */
function startTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

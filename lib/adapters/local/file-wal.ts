/**
 * Wal on local files. Each channel is a directory of segment files `<20-digit first position>.wal`
 * (format in wal-segment-format.ts). Appends are group-committed: appends that arrive while a write +
 * fsync is in flight are written together with ONE writev + fdatasync, and each resolves only after
 * its bytes are on disk. A segment rolls over once it passes `segmentBytes`.
 *
 * Crash safety: on first use of a channel the last segment is scanned and a torn tail is cut off: a
 * bad frame (partial, impossible length or checksum mismatch) with nothing valid after it, i.e. the
 * unacknowledged bytes of a crash mid-write (an append resolves after its fdatasync). A bad frame
 * followed by any intact frame is damage to acknowledged records, not a torn tail: the channel then
 * refuses to load (WalCorruptError naming the file and offset) until `migrans repair` cuts it
 * explicitly. (A power loss that wrote the pages of the last, unacknowledged group commit out of
 * order looks the same and is refused too: refusing is safe, cutting acknowledged records is not.)
 * Earlier segments were fsync'd before the next one was created, so they are verified lazily on
 * first read; damage found there stops appends to the channel (they could never be applied).
 *
 * Reads stay cheap for tailing consumers: an index of segment start positions finds the file, a
 * sparse per-segment offset index (every SPARSE_STRIDE records) finds the spot, and the end of each
 * read is remembered so the next sequential read starts at the exact byte.
 *
 * truncate(before) deletes whole segments that end at or before `before`; within this process reads
 * below `before` fail, after a reopen the channel starts at its first remaining segment.
 *
 * A failed write (a full disk, an I/O error) is undone: the segment is cut back to its acknowledged
 * size, or a half-created segment removed. When that succeeds the appends fail saying nothing was
 * written (DiskFullError for ENOSPC/EDQUOT); when it does not, the channel is repaired before its
 * next write. Either way the channel accepts appends again once the disk does, without a reopen.
 */
import type { FileHandle } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { CorruptDataError, DiskFullError, NotFoundError, StorageError, WalCorruptError } from '../../engine/errors.ts';
import type { Wal, WalPosition, WalRecord } from '../../engine/ports/wal.ts';
import { beyondTailError, checkChannel, checkLimit, checkPosition, checkRecords, truncateBeyondTailError, truncatedError } from '../wal-rules.ts';
import { errCode, errMessage } from './fs-helpers.ts';
import { RecentRecords } from './recent-records.ts';
import {
  allocBytes,
  checkSegmentHeader,
  encodeFrames,
  findFrame,
  FRAME_HEADER_BYTES,
  frameProblem,
  parseSegmentFileName,
  readAt,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
  walkFrames,
  type WalkStop,
  writeSegmentHeader,
} from './wal-segment-format.ts';

/** Walks a segment's frames from its header to `size`, verifying each checksum; collects the sparse offset index on the way. */
async function scanFrames(fh: FileHandle, size: number): Promise<{ end: number; stop: WalkStop; sparse: number[]; count: number }> {
  const sparse: number[] = [];
  let count = 0;
  const walk = await walkFrames(
    fh,
    SEGMENT_HEADER_BYTES,
    size,
    SCAN_CHUNK,
    (_buf, _payload, _len, offset) => {
      if (count % SPARSE_STRIDE === 0) sparse.push(offset);
      count++;
      return true;
    },
    allocBytes(Math.min(SCAN_CHUNK, size)),
  );
  return { ...walk, sparse, count };
}

/** Options of FileWal. */
export interface FileWalOptions {
  /** Roll to a new segment file once the current one holds this many bytes (default 64 MiB). */
  segmentBytes?: number;
  /** Bytes of the newest records each channel keeps in memory for tailing readers (default 4 MiB; 0 disables). */
  cacheBytes?: number;
}

/** Default roll-over size of a segment file. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** Default per-channel cache of the newest records. */
export const DEFAULT_CACHE_BYTES = 4 * 1024 * 1024;

/** One sparse-index entry per this many records. */
const SPARSE_STRIDE = 64;

/** Most bytes one group commit writes; the rest waits for the next round. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** Read chunk bounds: small enough to not over-read a short tail, large enough to amortize syscalls. */
const MIN_READ_CHUNK = 64 * 1024;
const MAX_READ_CHUNK = 8 * 1024 * 1024;

/** Chunk size for scanning a whole segment (recovery, sparse-index build). */
const SCAN_CHUNK = 4 * 1024 * 1024;

/** Remembered read end positions per channel (one per concurrent sequential reader, roughly). */
const MAX_HINTS = 64;

/** One segment file of a channel. */
interface Segment {
  readonly first: bigint;
  readonly path: string;
  /** Acknowledged bytes (header included); -1 for a sealed segment found at open and not yet stat'ed. */
  size: number;
  /** Records in the segment; for sealed segments found at open, -1 until the sparse index is built. */
  count: number;
  /** Byte offset of record `first + i * SPARSE_STRIDE` at index i; undefined until built. */
  sparse: number[] | undefined;
  sparseBuild: Promise<void> | undefined;
  /** Header verified (segments written by this process are). */
  verified: boolean;
  /** No more appends go here. */
  sealed: boolean;
  /** Removed by truncate or dropChannel. */
  deleted: boolean;
  /** Open handle shared by the writer and readers, closed when `refs` drops to 0. */
  handle: Promise<FileHandle> | undefined;
  refs: number;
}

/** An append waiting for its group commit. */
interface PendingAppend {
  frames: Uint8Array;
  count: number;
  resolve(position: WalPosition): void;
  reject(err: Error): void;
}

/** A read end position: where the next sequential read starts. */
interface ReadHint {
  seg: Segment;
  offset: number;
}

/** State of one channel. */
interface Channel {
  readonly name: string;
  readonly dir: string;
  segments: Segment[];
  /** Next position to assign; every position below it is acknowledged. */
  tail: bigint;
  /** First readable position. */
  low: bigint;
  pending: PendingAppend[];
  /** The running group-commit loop, if any. */
  flushing: Promise<void> | undefined;
  /** Set after a write failure that could not be undone: the next write first cuts the files back to `tail`. */
  dirty: boolean;
  /** Damage a read found in a segment: the channel refuses appends (they could never be read in order) until the WAL is reopened. */
  damage: WalCorruptError | undefined;
  /** Dropped or closed: callers holding this object must look the channel up again. */
  retired: boolean;
  dirExists: boolean;
  hints: Map<bigint, ReadHint>;
  /** Running average framed record size, for sizing read chunks. */
  avgFrameBytes: number;
  /** The newest acknowledged records, served without file reads. */
  recent: RecentRecords;
  /** A sealed segment whose handle stays open between reads (sequential catch-up reads it again next). */
  keptOpen: Segment | undefined;
}

/** A Wal of fsync'd segment files under a root directory. */
export class FileWal implements Wal {
  /** Absolute root directory; each channel is a subdirectory. */
  readonly root: string;
  /** fsync/fdatasync calls issued so far (data and directories): shows group commit at work. */
  fsyncCount = 0;
  private readonly segmentBytes: number;
  private readonly cacheBytes: number;
  private readonly loaded = new Map<string, Channel>();
  private readonly loading = new Map<string, Promise<Channel>>();
  private closed = false;

  constructor(root: string, options: FileWalOptions = {}) {
    this.root = path.resolve(root);
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
      throw new RangeError(`FileWal segmentBytes must be a positive integer, got ${segmentBytes}`);
    }
    this.segmentBytes = segmentBytes;
    const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new RangeError(`FileWal cacheBytes must be a non-negative integer, got ${cacheBytes}`);
    }
    this.cacheBytes = cacheBytes;
  }

  /** Opens (creating if needed) a WAL rooted at `root`; channels are recovered on first use. */
  static async open(root: string, options: FileWalOptions = {}): Promise<FileWal> {
    const wal = new FileWal(root, options);
    try {
      await fs.mkdir(wal.root, { recursive: true });
    } catch (err) {
      throw new StorageError(`cannot create the WAL directory ${wal.root}: ${errMessage(err)}`, { cause: err });
    }
    return wal;
  }

  async append(channel: string, records: Uint8Array[]): Promise<WalPosition> {
    this.checkOpen();
    checkChannel(channel);
    checkRecords(channel, records);
    // Framed (and checksummed) now, on the caller's turn: later mutation of `records` cannot leak in.
    const frames = records.length > 0 ? encodeFrames(records) : undefined;
    for (;;) {
      const ch = await this.channel(channel);
      // Checked in the same turn as the push below: a drop or close that starts later waits for this append.
      if (ch.retired) continue;
      if (ch.damage) throw ch.damage;
      if (!frames) return ch.tail;
      return new Promise<WalPosition>((resolve, reject) => {
        ch.pending.push({ frames, count: records.length, resolve, reject });
        ch.flushing ??= this.flushLoop(ch);
      });
    }
  }

  async read(channel: string, from: WalPosition, limit: number): Promise<WalRecord[]> {
    this.checkOpen();
    checkChannel(channel);
    checkPosition(channel, from, 'read position');
    checkLimit(channel, limit);
    const ch = await this.channel(channel);
    if (from < ch.low) throw truncatedError(channel, from, ch.low);
    const tail = ch.tail; // only acknowledged records are visible
    if (from > tail) throw beyondTailError(channel, from, tail);
    const end = from + BigInt(limit) < tail ? from + BigInt(limit) : tail;
    const out: WalRecord[] = [];
    if (ch.recent.read(from, end, out)) return out;
    let pos = from;
    try {
      while (pos < end) pos = await this.readSegment(ch, pos, end, tail, out);
    } catch (err) {
      if (err instanceof WalCorruptError) ch.damage ??= err;
      throw this.readError(ch, pos, err);
    }
    return out;
  }

  async tail(channel: string): Promise<WalPosition> {
    this.checkOpen();
    checkChannel(channel);
    return (await this.channel(channel)).tail;
  }

  async truncate(channel: string, before: WalPosition): Promise<void> {
    this.checkOpen();
    checkChannel(channel);
    checkPosition(channel, before, 'truncate position');
    const ch = await this.channel(channel);
    if (before > ch.tail) throw truncateBeyondTailError(channel, before, ch.tail);
    if (before <= ch.low) return;
    ch.low = before;
    ch.recent.dropBefore(before);
    // Whole segments only, never the last (appends go there): segment i goes when segment i+1 starts at or before `before`.
    let n = 0;
    while (n < ch.segments.length - 1 && ch.segments[n + 1].first <= before) n++;
    if (n === 0) return;
    const gone = ch.segments.splice(0, n);
    for (const seg of gone) seg.deleted = true;
    if (ch.keptOpen?.deleted) {
      this.release(ch.keptOpen);
      ch.keptOpen = undefined;
    }
    for (const [pos, hint] of ch.hints) if (hint.seg.deleted) ch.hints.delete(pos);
    try {
      await Promise.all(gone.map((seg) => fs.rm(seg.path, { force: true })));
      await this.syncDir(ch.dir);
    } catch (err) {
      throw new StorageError(`cannot delete truncated segments of WAL channel ${channel} in ${ch.dir}: ${errMessage(err)}`, { cause: err });
    }
  }

  async dropChannel(channel: string): Promise<void> {
    this.checkOpen();
    checkChannel(channel);
    // A channel that fails to load (say, corrupt) can still be dropped.
    const old = await this.channel(channel).catch(() => undefined);
    const dir = path.join(this.root, channel);
    const drop = (async () => {
      if (old) {
        old.retired = true; // later appends re-resolve the channel and wait for the drop
        while (old.flushing) await old.flushing; // appends already queued land before the drop
        await this.closeSegments(old);
      }
      try {
        await fs.rm(dir, { recursive: true, force: true });
        await this.syncDir(this.root);
      } catch (err) {
        throw new StorageError(`cannot remove WAL channel directory ${dir}: ${errMessage(err)}`, { cause: err });
      }
    })();
    this.loaded.delete(channel);
    const fresh = drop.then(() => this.loadChannel(channel));
    this.track(channel, fresh);
    fresh.catch(() => {}); // the drop's own failure is reported below
    await drop;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const channels = [...this.loaded.values()];
    const stillLoading = await Promise.allSettled(this.loading.values());
    for (const r of stillLoading) if (r.status === 'fulfilled') channels.push(r.value);
    for (const ch of channels) {
      ch.retired = true;
      while (ch.flushing) await ch.flushing; // queued appends still complete
    }
    await Promise.all(channels.map((ch) => this.closeSegments(ch)));
    this.loaded.clear();
    this.loading.clear();
  }

  /** The live state of a channel, loading (and recovering) it on first use. */
  private async channel(name: string): Promise<Channel> {
    for (;;) {
      this.checkOpen();
      const ch = this.loaded.get(name);
      if (ch && !ch.retired) return ch;
      let p = this.loading.get(name);
      if (!p) {
        p = this.loadChannel(name);
        this.track(name, p);
      }
      const loaded = await p;
      if (!loaded.retired) return loaded;
    }
  }

  /** Registers a loading promise; once it settles the channel moves to `loaded` (unless superseded). */
  private track(name: string, p: Promise<Channel>): void {
    this.loading.set(name, p);
    p.then(
      (ch) => {
        if (this.loading.get(name) !== p) return;
        this.loading.delete(name);
        if (this.closed) ch.retired = true;
        else this.loaded.set(name, ch);
      },
      () => {
        if (this.loading.get(name) === p) this.loading.delete(name); // a later call retries
      },
    );
  }

  /** Reads a channel directory and recovers its last segment. */
  private async loadChannel(name: string): Promise<Channel> {
    const dir = path.join(this.root, name);
    const ch: Channel = {
      name,
      dir,
      segments: [],
      tail: 0n,
      low: 0n,
      pending: [],
      flushing: undefined,
      dirty: false,
      damage: undefined,
      retired: false,
      dirExists: false,
      hints: new Map(),
      avgFrameBytes: 1024,
      recent: new RecentRecords(this.cacheBytes),
      keptOpen: undefined,
    };
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return ch;
      throw new StorageError(`cannot read WAL channel directory ${dir}: ${errMessage(err)}`, { cause: err });
    }
    ch.dirExists = true;
    const firsts = names
      .map(parseSegmentFileName)
      .filter((f): f is bigint => f !== undefined)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (firsts.length === 0) return ch;
    ch.segments = firsts.map((first) => newSegment(path.join(dir, segmentFileName(first)), first, true));
    const last = ch.segments[ch.segments.length - 1];
    await this.recover(ch, last);
    ch.tail = last.first + BigInt(last.count);
    ch.low = ch.segments[0].first;
    return ch;
  }

  /** Scans the last segment, cuts a torn tail, builds its sparse index and opens it for appending. */
  private async recover(ch: Channel, seg: Segment): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await fs.open(seg.path, 'r+');
    } catch (err) {
      throw new StorageError(`cannot open WAL segment ${seg.path}: ${errMessage(err)}`, { cause: err });
    }
    try {
      const size = (await fh.stat()).size;
      const header = allocBytes(Math.min(size, SEGMENT_HEADER_BYTES));
      await readAt(fh, header, 0);
      let end = SEGMENT_HEADER_BYTES;
      let sparse: number[] = [];
      let count = 0;
      if (checkSegmentHeader(header, seg.path, seg.first) === 'blank') {
        // A crash interrupted the segment's creation before any append to it was acknowledged.
        const fresh = allocBytes(SEGMENT_HEADER_BYTES);
        writeSegmentHeader(fresh, seg.first);
        await fh.truncate(0);
        await fh.write(fresh, 0, fresh.length, 0);
        await fh.datasync();
        this.fsyncCount++;
      } else {
        const walk = await scanFrames(fh, size);
        ({ sparse, count } = walk);
        end = walk.end;
        if (end < size) {
          const intact = await findFrame(fh, end + 1, size, SCAN_CHUNK);
          if (intact >= 0) {
            const problem = (await frameProblem(fh, end, size)) ?? 'a bad frame';
            throw this.damaged(ch, seg.path, end, `${problem} after ${count} intact records, yet an intact record follows at byte ${intact}, so this is not a torn tail`);
          }
          // Torn tail: bytes of an append that never got acknowledged. Cut them so new frames follow good ones.
          await fh.truncate(end);
          await fh.datasync();
          this.fsyncCount++;
        }
      }
      seg.size = end;
      seg.count = count;
      seg.sparse = sparse;
      seg.verified = true;
      seg.sealed = false;
      seg.handle = Promise.resolve(fh);
      seg.refs = 1; // the writer's reference
      if (count > 0) ch.avgFrameBytes = (end - SEGMENT_HEADER_BYTES) / count;
    } catch (err) {
      await fh.close().catch(() => {});
      if (err instanceof WalCorruptError) throw err;
      if (err instanceof CorruptDataError) throw new WalCorruptError(ch.name, seg.path, 0, err.message); // the header
      throw new StorageError(`cannot recover WAL segment ${seg.path}: ${errMessage(err)}`, { cause: err });
    }
  }

  /** The group-commit loop: writes everything pending in one go per round until nothing is pending. */
  private async flushLoop(ch: Channel): Promise<void> {
    await Promise.resolve(); // appends issued in this same turn join the first round
    while (ch.pending.length > 0) {
      const batch = takeBatch(ch);
      let failure: Error;
      try {
        if (ch.dirty) await this.repair(ch);
      } catch (err) {
        failure = new StorageError(
          `WAL channel ${ch.name} cannot append: an earlier failed write could not be undone yet (${errMessage(err)}); nothing of this append was written — free disk space or fix ${ch.dir}, then retry`,
          { cause: err },
        );
        for (const a of batch) a.reject(failure);
        continue;
      }
      try {
        await this.writeBatch(ch, batch);
        continue;
      } catch (err) {
        failure = err as Error;
      }
      // Cut the files back to the acknowledged tail: then nothing of this batch is on disk.
      let undone = true;
      try {
        await this.repair(ch);
      } catch {
        undone = false;
        ch.dirty = true;
      }
      const full = ['ENOSPC', 'EDQUOT'].includes(errCode(failure));
      const error =
        undone && full
          ? new DiskFullError(ch.dir, { cause: failure })
          : new StorageError(
              undone
                ? `WAL channel ${ch.name} failed to write (${errMessage(failure)}); nothing of this append was written — retry`
                : `WAL channel ${ch.name} failed to write (${errMessage(failure)}) and could not undo it yet; this append may or may not be on disk after a restart — retry once ${ch.dir} is writable (rows with the same primary keys overwrite)`,
              { cause: failure },
            );
      for (const a of batch) a.reject(error);
    }
    ch.flushing = undefined;
  }

  /** Writes one group of appends with one writev + fdatasync, then acknowledges them in order. */
  private async writeBatch(ch: Channel, batch: PendingAppend[]): Promise<void> {
    let seg = ch.segments.length > 0 ? ch.segments[ch.segments.length - 1] : undefined;
    const roll = !seg || (seg.size >= this.segmentBytes && seg.count > 0);
    const buffers = batch.map((a) => a.frames);
    let startOffset: number;
    if (roll) {
      const header = allocBytes(SEGMENT_HEADER_BYTES);
      writeSegmentHeader(header, ch.tail);
      buffers.unshift(header);
      const next = await this.createSegment(ch, buffers);
      if (seg) {
        seg.sealed = true;
        this.release(seg); // the writer's reference moves to the new segment
      }
      ch.segments.push(next);
      seg = next;
      startOffset = 0;
    } else {
      seg = seg!;
      startOffset = seg.size;
      const fh = await seg.handle!;
      await writeAllAt(fh, buffers, startOffset); // a failure is undone by flushLoop (repair)
      await fh.datasync();
      this.fsyncCount++;
    }
    // On disk: index the new frames, publish them, acknowledge.
    let offset = startOffset + (roll ? SEGMENT_HEADER_BYTES : 0);
    let index = seg.count;
    let count = 0;
    for (const a of batch) {
      const buf = a.frames;
      const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      for (let o = 0; o < buf.length;) {
        if (index % SPARSE_STRIDE === 0) seg.sparse!.push(offset + o);
        o += FRAME_HEADER_BYTES + dv.getUint32(o, true);
        index++;
      }
      offset += buf.length;
      count += a.count;
    }
    const bytes = offset - startOffset;
    seg.size = offset;
    seg.count = index;
    ch.avgFrameBytes = ch.avgFrameBytes * 0.75 + (bytes / count) * 0.25;
    let position = ch.tail;
    ch.tail += BigInt(count);
    for (const a of batch) {
      ch.recent.add(position, a.count, a.frames);
      a.resolve(position);
      position += BigInt(a.count);
    }
  }

  /**
   * Cuts the channel's files back to what is acknowledged: the writer's segment to its acknowledged
   * size and a segment file a failed roll left behind removed, both durably. Clears `dirty`.
   */
  private async repair(ch: Channel): Promise<void> {
    const last = ch.segments.length > 0 ? ch.segments[ch.segments.length - 1] : undefined;
    const next = path.join(ch.dir, segmentFileName(ch.tail));
    if (ch.dirExists && (!last || last.path !== next)) {
      await fs.rm(next, { force: true });
      await this.syncDir(ch.dir);
    }
    if (last && !last.sealed && last.handle) {
      const fh = await last.handle;
      await fh.truncate(last.size);
      await fh.datasync();
      this.fsyncCount++;
    }
    ch.dirty = false;
  }

  /** Creates the next segment holding `buffers` (header first), durably, including its directory entry. */
  private async createSegment(ch: Channel, buffers: Uint8Array[]): Promise<Segment> {
    if (!ch.dirExists) {
      await fs.mkdir(ch.dir, { recursive: true });
      await this.syncDir(this.root);
      ch.dirExists = true;
    }
    const file = path.join(ch.dir, segmentFileName(ch.tail));
    const fh = await fs.open(file, 'wx+');
    try {
      await writeAllAt(fh, buffers, 0);
      await fh.datasync();
      this.fsyncCount++;
      await this.syncDir(ch.dir);
    } catch (err) {
      await fh.close().catch(() => {});
      throw err; // flushLoop removes the file (repair)
    }
    const seg = newSegment(file, ch.tail, false);
    seg.size = 0;
    seg.count = 0;
    seg.sparse = [];
    seg.handle = Promise.resolve(fh);
    seg.refs = 1; // the writer's reference
    return seg;
  }

  /** Reads records [pos, min(end, segment end)) from the segment holding `pos` into `out`; returns the next position. */
  private async readSegment(ch: Channel, pos: bigint, end: bigint, tail: bigint, out: WalRecord[]): Promise<bigint> {
    const idx = findSegment(ch.segments, pos);
    if (idx < 0) throw truncatedError(ch.name, pos, ch.low);
    const seg = ch.segments[idx];
    const segEnd = idx + 1 < ch.segments.length ? ch.segments[idx + 1].first : tail;
    const stop = end < segEnd ? end : segEnd;
    const fh = await this.acquire(ch, seg, pos);
    if (seg.sealed && ch.keptOpen !== seg) {
      seg.refs++; // the channel's own reference keeps the handle open for the next read
      if (ch.keptOpen) this.release(ch.keptOpen);
      ch.keptOpen = seg;
    }
    try {
      const start = await this.locate(ch, seg, fh, pos);
      const dataEnd = await this.segmentSize(seg, fh);
      const wanted = Number(stop - start.at);
      const chunk = Math.min(MAX_READ_CHUNK, Math.max(MIN_READ_CHUNK, Math.ceil(wanted * ch.avgFrameBytes)));
      const skip = Number(pos - start.at);
      const first = pos;
      let i = 0;
      let next = start.offset;
      const walk = await walkFrames(fh, start.offset, dataEnd, chunk, (buf, payload, length, frameOffset) => {
        if (i >= skip) out.push({ position: first + BigInt(i - skip), data: buf.subarray(payload, payload + length) });
        i++;
        next = frameOffset + FRAME_HEADER_BYTES + length;
        return i < wanted;
      });
      if (i < wanted) {
        const problem = walk.stop === 'torn' ? ((await frameProblem(fh, walk.end, dataEnd)) ?? 'a bad frame') : 'the end of the segment';
        throw this.damaged(ch, seg.path, walk.end, `${problem} where acknowledged position ${start.at + BigInt(i)} should be`);
      }
      this.remember(ch, stop, seg, next);
      return stop;
    } finally {
      this.release(seg);
    }
  }

  /** Where to start reading for `pos` in `seg`: an exact hint, the segment start, or the sparse index. */
  private async locate(ch: Channel, seg: Segment, fh: FileHandle, pos: bigint): Promise<{ offset: number; at: bigint }> {
    if (pos === seg.first) return { offset: SEGMENT_HEADER_BYTES, at: pos };
    const hint = ch.hints.get(pos);
    if (hint && hint.seg === seg) return { offset: hint.offset, at: pos };
    if (!seg.sparse) await this.buildSparse(ch, seg, fh);
    const i = Math.floor(Number(pos - seg.first) / SPARSE_STRIDE);
    return { offset: seg.sparse![i], at: seg.first + BigInt(i * SPARSE_STRIDE) };
  }

  /** Scans a sealed segment once (verifying every checksum) to build its sparse offset index. */
  private async buildSparse(ch: Channel, seg: Segment, fh: FileHandle): Promise<void> {
    seg.sparseBuild ??= (async () => {
      const size = await this.segmentSize(seg, fh);
      const walk = await scanFrames(fh, size);
      const { sparse, count } = walk;
      const idx = ch.segments.indexOf(seg);
      const next = idx >= 0 && idx + 1 < ch.segments.length ? ch.segments[idx + 1].first : undefined;
      if (walk.stop !== 'end' || (next !== undefined && seg.first + BigInt(count) !== next)) {
        const problem = walk.stop === 'torn' ? ((await frameProblem(fh, walk.end, size)) ?? 'a bad frame') : 'the end of the segment';
        throw this.damaged(ch, seg.path, walk.end, `${problem} after ${count} intact records from position ${seg.first}, but the next segment starts at position ${next}`);
      }
      seg.sparse = sparse;
      seg.count = count;
    })();
    try {
      await seg.sparseBuild;
    } catch (err) {
      seg.sparseBuild = undefined;
      throw err;
    }
  }

  /** Bytes of a segment's data: tracked for segments this process wrote, stat'ed once otherwise. */
  private async segmentSize(seg: Segment, fh: FileHandle): Promise<number> {
    if (seg.size < 0) seg.size = (await fh.stat()).size;
    return seg.size;
  }

  /** Remembers that the next sequential read of `pos` starts at byte `offset` of `seg`. */
  private remember(ch: Channel, pos: bigint, seg: Segment, offset: number): void {
    ch.hints.delete(pos);
    ch.hints.set(pos, { seg, offset });
    if (ch.hints.size > MAX_HINTS) ch.hints.delete(ch.hints.keys().next().value!);
  }

  /** Opens (or shares) a segment's handle for reading; verifies a sealed segment's header on first use. */
  private async acquire(ch: Channel, seg: Segment, pos: bigint): Promise<FileHandle> {
    seg.refs++;
    try {
      if (!seg.handle) {
        const opening = fs.open(seg.path, 'r');
        seg.handle = opening;
        opening.catch(() => {
          if (seg.handle === opening) seg.handle = undefined;
        });
      }
      const fh = await seg.handle;
      if (!seg.verified) {
        const header = allocBytes(SEGMENT_HEADER_BYTES);
        const got = await readAt(fh, header, 0);
        let problem = 'a missing or blank segment header although later segments exist';
        try {
          if (got >= SEGMENT_HEADER_BYTES && checkSegmentHeader(header, seg.path, seg.first) === 'ok') problem = '';
        } catch (err) {
          if (!(err instanceof CorruptDataError)) throw err;
          problem = err.message;
        }
        if (problem) throw this.damaged(ch, seg.path, 0, problem);
        seg.verified = true;
      }
      return fh;
    } catch (err) {
      this.release(seg);
      if (err instanceof CorruptDataError) throw err;
      if (this.closed) throw closedError(this.root);
      if (ch.retired) throw new StorageError(`WAL channel ${ch.name} was dropped while reading position ${pos}; read again`, { cause: err });
      if (seg.deleted || errCode(err) === 'ENOENT') throw truncatedError(ch.name, pos, ch.low);
      throw new StorageError(`cannot open WAL segment ${seg.path}: ${errMessage(err)}`, { cause: err });
    }
  }

  /** Drops one reference to a segment's handle, closing it when none remain. */
  private release(seg: Segment): void {
    if (--seg.refs > 0 || !seg.handle) return;
    const handle = seg.handle;
    seg.handle = undefined;
    handle.then((fh) => fh.close()).catch(() => {});
  }

  /** Closes every handle of a retired channel (in-flight reads of it may fail). */
  private async closeSegments(ch: Channel): Promise<void> {
    await Promise.all(
      ch.segments.map(async (seg) => {
        const handle = seg.handle;
        seg.handle = undefined;
        seg.refs = 0;
        seg.deleted = true;
        if (handle) await handle.then((fh) => fh.close()).catch(() => {});
      }),
    );
  }

  /** fsyncs a directory (counted in fsyncCount). */
  private async syncDir(dir: string): Promise<void> {
    const fh = await fs.open(dir, 'r');
    try {
      await fh.sync();
      this.fsyncCount++;
    } finally {
      await fh.close();
    }
  }

  /** The error for damage at byte `offset` of `file`: what was found, and what the operator can do. */
  private damaged(ch: Channel, file: string, offset: number, found: string): WalCorruptError {
    return new WalCorruptError(
      ch.name,
      file,
      offset,
      `WAL channel ${ch.name} is damaged at byte ${offset} of ${file}: ${found}. The acknowledged records from there on cannot be read, so the channel takes no more writes; stop the server and run "migrans repair --data-dir ${path.dirname(this.root)}" to see what cutting the log there would lose, then run it again with --yes to cut it (or restore the data directory from a backup)`,
    );
  }

  /** Translates a failure while reading `ch` at `pos` into the engine's error types. */
  private readError(ch: Channel, pos: bigint, err: unknown): Error {
    if (err instanceof CorruptDataError || err instanceof NotFoundError || err instanceof StorageError) return err;
    if (this.closed) return closedError(this.root);
    if (ch.retired) return new StorageError(`WAL channel ${ch.name} was dropped while reading position ${pos}; read again`, { cause: err });
    return new StorageError(`cannot read WAL channel ${ch.name} at position ${pos}: ${errMessage(err)}`, { cause: err });
  }

  private checkOpen(): void {
    if (this.closed) throw closedError(this.root);
  }
}

/** A segment record with nothing known yet beyond its name. */
function newSegment(file: string, first: bigint, sealed: boolean): Segment {
  return {
    first,
    path: file,
    size: -1,
    count: -1,
    sparse: undefined,
    sparseBuild: undefined,
    verified: false,
    sealed,
    deleted: false,
    handle: undefined,
    refs: 0,
  };
}

/** Index of the last segment starting at or before `pos`, or -1. */
function findSegment(segments: readonly Segment[], pos: bigint): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].first <= pos) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Takes pending appends for one group commit, at most MAX_BATCH_BYTES (but always at least one). */
function takeBatch(ch: Channel): PendingAppend[] {
  let bytes = 0;
  let n = 0;
  while (n < ch.pending.length && (n === 0 || bytes + ch.pending[n].frames.length <= MAX_BATCH_BYTES)) {
    bytes += ch.pending[n].frames.length;
    n++;
  }
  return ch.pending.splice(0, n);
}

/** Writes all `buffers` contiguously at `position`, finishing any short writev. */
async function writeAllAt(fh: FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  let total = 0;
  for (const b of buffers) total += b.length;
  const { bytesWritten } = await fh.writev(buffers, position);
  if (bytesWritten === total) return;
  const rest = Buffer.concat(buffers).subarray(bytesWritten);
  for (let done = 0; done < rest.length;) {
    done += (await fh.write(rest, done, rest.length - done, position + bytesWritten + done)).bytesWritten;
  }
}

/** The error for using a closed FileWal. */
function closedError(root: string): StorageError {
  return new StorageError(`FileWal at ${root} is closed; open it again`);
}

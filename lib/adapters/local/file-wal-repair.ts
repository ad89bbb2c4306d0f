/**
 * Offline inspection and repair of FileWal channels, behind `migrans repair`. FileWal refuses a
 * channel whose log is damaged anywhere but a torn last frame (WalCorruptError); this module finds
 * that damage, says what cutting the log there would lose, and on the operator's explicit choice
 * changes the files so the channel loads again. It runs with the server stopped.
 *
 * What a repair does depends on the channel's checkpoint (every record below it is applied and its
 * effects are durable elsewhere):
 * - damage at or above the checkpoint: cut the segment at the damage and delete later segments. The
 *   records from there on are acknowledged writes not yet flushed: they are lost, and the report
 *   says how many intact ones that is. They may have been applied already (PK-index entries,
 *   segment metadata), so `migrans repair` also deletes the unflushed segments they opened and
 *   marks the collection for a PK-index rebuild at its next open (pkRebuildKey).
 * - damage below the checkpoint: nothing acknowledged needs the damaged bytes, but the records from
 *   the checkpoint on must keep their positions (segment metadata names positions). Whole segments
 *   before the one holding the checkpoint are deleted; when the checkpoint is inside the damaged
 *   segment, the intact frames after the damaged one are moved into a new segment file starting at
 *   the next position. That needs the damaged frame's length to be intact (so positions after it
 *   are known); otherwise the channel is left alone and the report says so.
 * Cutting below a position the catalog relies on (the checkpoint, or the records a flushed
 * segment of another partition was built from) is never done: new records would reuse positions
 * the replay skips, so the runtime refuses such a channel (WalBehindCheckpointError), and the
 * report says to restore from a backup or drop the collection instead.
 */
import type { FileHandle } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { CorruptDataError, StorageError } from '../../engine/errors.ts';
import { checkChannel, MAX_WAL_RECORD_BYTES } from '../wal-rules.ts';
import { errCode, errMessage, syncDir } from './fs-helpers.ts';
import {
  allocBytes,
  checkSegmentHeader,
  findFrame,
  FRAME_HEADER_BYTES,
  frameProblem,
  parseSegmentFileName,
  readAt,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
  walkFrames,
  writeSegmentHeader,
} from './wal-segment-format.ts';

const CHUNK = 4 * 1024 * 1024;

/** What a repair of one damaged channel would do. */
export type WalRepairAction = { kind: 'truncate' } | { kind: 'drop-segments' } | { kind: 'rebase'; nextOffset: number } | { kind: 'none'; reason: string };

/** The first damage found in a channel, and what repairing it means. */
export interface WalDamage {
  channel: string;
  /** Segment file holding the damage. */
  file: string;
  /** Byte offset of the damage in `file`. */
  offset: number;
  /** Position of the first record that cannot be read. */
  position: bigint;
  /** What is wrong there. */
  problem: string;
  /** Intact records after the damage, in this segment and later ones. */
  recordsAfter: number;
  /** The channel's checkpoint: records below it are applied. */
  checkpoint: bigint;
  /** The highest position the catalog relies on (at least the checkpoint): the log must not end before it. */
  reach: bigint;
  action: WalRepairAction;
  /** Index of the damaged segment among `segments`. */
  segment: number;
  /** Segment files of the channel, oldest first. */
  segments: string[];
}

/** Channel directories under a FileWal root (none when it does not exist). */
export async function listWalChannels(root: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(root, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if (errCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Scans every segment of `channel` and returns its first damage (a torn last frame is not damage),
 * or undefined. `checkpoint` and `reach` come from the catalog (see WalDamage).
 */
export async function inspectWalChannel(root: string, channel: string, checkpoint: bigint, reach = checkpoint): Promise<WalDamage | undefined> {
  checkChannel(channel);
  const dir = path.join(root, channel);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    throw new StorageError(`cannot read WAL channel ${channel} in ${root} (${errMessage(err)}); list the channels without --channel`, { cause: err });
  }
  const firsts = names
    .map(parseSegmentFileName)
    .filter((f): f is bigint => f !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const segments = firsts.map((f) => path.join(dir, segmentFileName(f)));
  for (let i = 0; i < segments.length; i++) {
    const last = i === segments.length - 1;
    const fh = await fs.open(segments[i], 'r');
    try {
      const size = (await fh.stat()).size;
      const found = await segmentDamage(fh, segments[i], firsts[i], size, last ? undefined : firsts[i + 1]);
      if (!found) continue;
      let recordsAfter = found.offset < size ? await countIntact(fh, found.offset + 1, size) : 0;
      for (const later of segments.slice(i + 1)) recordsAfter += await countFile(later);
      const nextOffset = found.offset < size ? await nextFrameOffset(fh, found.offset, size, last ? undefined : firsts[i + 1], found.position) : undefined;
      const damage: WalDamage = {
        channel,
        file: segments[i],
        offset: found.offset,
        position: found.position,
        problem: found.problem,
        recordsAfter,
        checkpoint,
        reach: reach > checkpoint ? reach : checkpoint,
        action: { kind: 'none', reason: '' },
        segment: i,
        segments,
      };
      damage.action = plan(damage, firsts, nextOffset);
      return damage;
    } finally {
      await fh.close();
    }
  }
  return undefined;
}

/** Carries out `damage.action`, durably. Throws for an action of kind 'none'. */
export async function repairWalChannel(damage: WalDamage): Promise<void> {
  const { action, segments, segment: i } = damage;
  const dir = path.dirname(damage.file);
  if (action.kind === 'none') throw new CorruptDataError(`WAL channel ${damage.channel} cannot be repaired here: ${action.reason}`);
  if (action.kind === 'truncate') {
    const fh = await fs.open(damage.file, 'r+');
    try {
      await fh.truncate(damage.offset);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    for (const later of segments.slice(i + 1).reverse()) await fs.rm(later, { force: true });
  } else {
    if (action.kind === 'rebase') {
      // The intact frames after the damaged one become a segment of their own, written aside and renamed into place.
      const src = await fs.open(damage.file, 'r');
      let rest: Uint8Array;
      try {
        rest = allocBytes((await src.stat()).size - action.nextOffset);
        await readAt(src, rest, action.nextOffset);
      } finally {
        await src.close();
      }
      const header = allocBytes(SEGMENT_HEADER_BYTES);
      writeSegmentHeader(header, damage.position + 1n);
      const target = path.join(dir, segmentFileName(damage.position + 1n));
      const tmp = `${target}.repair-tmp`;
      const out = await fs.open(tmp, 'w');
      try {
        await out.writev([header, rest]);
        await out.datasync();
      } finally {
        await out.close();
      }
      await fs.rename(tmp, target);
      await syncDir(dir);
    }
    for (const earlier of segments.slice(0, i + 1)) await fs.rm(earlier, { force: true });
  }
  await syncDir(dir);
}

/** One line saying what a repair of `damage` does and loses. */
export function describeRepair(damage: WalDamage): string {
  const { action } = damage;
  const below = damage.position < damage.checkpoint;
  switch (action.kind) {
    case 'truncate':
      return `cut ${damage.file} at byte ${damage.offset} (the log then ends at position ${damage.position}) and delete ${damage.segments.length - damage.segment - 1} later segment file(s): loses the damaged record and ${damage.recordsAfter} intact acknowledged record(s) after it that were never applied`;
    case 'drop-segments':
      return `delete ${damage.segment + 1} segment file(s) up to and including ${path.basename(damage.file)}: they hold only records below the checkpoint ${damage.checkpoint}, already applied; nothing acknowledged is lost`;
    case 'rebase':
      return `move the records after the damaged one (positions ${damage.position + 1n} on) into a new segment file and delete ${damage.segment + 1} segment file(s) up to ${path.basename(damage.file)}: the damage is below the checkpoint ${damage.checkpoint}, so nothing acknowledged is lost`;
    default:
      return `no automatic repair${below ? ' (the damage is below the checkpoint)' : ''}: ${action.reason}`;
  }
}

/** Where a segment is damaged, if it is: a bad header, a bad frame followed by intact ones (or any bad frame before `next`), or missing records. */
async function segmentDamage(
  fh: FileHandle,
  file: string,
  first: bigint,
  size: number,
  next: bigint | undefined,
): Promise<{ offset: number; position: bigint; problem: string } | undefined> {
  const header = allocBytes(Math.min(size, SEGMENT_HEADER_BYTES));
  await readAt(fh, header, 0);
  try {
    if (checkSegmentHeader(header, file, first) === 'blank') {
      // FileWal reinitializes a blank last segment (its creation was interrupted); anywhere else it is damage.
      return next === undefined ? undefined : { offset: 0, position: first, problem: 'a missing or blank segment header although later segments exist' };
    }
  } catch (err) {
    if (!(err instanceof CorruptDataError)) throw err;
    return { offset: 0, position: first, problem: err.message };
  }
  let count = 0;
  const walk = await walkFrames(fh, SEGMENT_HEADER_BYTES, size, CHUNK, () => (count++, true), allocBytes(Math.min(CHUNK, size)));
  const position = first + BigInt(count);
  if (walk.end < size) {
    if (next === undefined && (await findFrame(fh, walk.end + 1, size, CHUNK)) < 0) return undefined; // a torn tail: FileWal cuts it
    return { offset: walk.end, position, problem: (await frameProblem(fh, walk.end, size)) ?? 'a bad frame' };
  }
  if (next !== undefined && position !== next) {
    return { offset: walk.end, position, problem: `the segment ends at position ${position} but the next segment starts at position ${next}` };
  }
  return undefined;
}

/** Where the frame after a damaged one starts, when its length field is intact (its end is a valid frame, or exactly where the next segment starts). */
async function nextFrameOffset(fh: FileHandle, offset: number, size: number, next: bigint | undefined, position: bigint): Promise<number | undefined> {
  if (offset + FRAME_HEADER_BYTES > size) return undefined;
  const head = allocBytes(4);
  await readAt(fh, head, offset);
  const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
  const end = offset + FRAME_HEADER_BYTES + length;
  if (length > MAX_WAL_RECORD_BYTES || end > size) return undefined;
  if (end === size) return next === position + 1n ? end : undefined;
  return (await frameProblem(fh, end, size)) === undefined ? end : undefined;
}

/** The action for a damage given the checkpoint and the segments' first positions. */
function plan(damage: WalDamage, firsts: bigint[], nextOffset: number | undefined): WalRepairAction {
  const i = damage.segment;
  if (damage.position >= damage.reach) return { kind: 'truncate' };
  if (damage.position >= damage.checkpoint) {
    return {
      kind: 'none',
      reason: `cutting the log at position ${damage.position} would leave it short of position ${damage.reach}, which segments in the catalog were built from (records of another partition, already flushed); new writes would reuse positions the replay skips. Restore the data directory from a backup, or drop the collection`,
    };
  }
  if (i + 1 < firsts.length && firsts[i + 1] <= damage.checkpoint) return { kind: 'drop-segments' };
  if (nextOffset !== undefined) return { kind: 'rebase', nextOffset };
  return {
    kind: 'none',
    reason: `the damaged record at position ${damage.position} is below the checkpoint ${damage.checkpoint}, but its length field is damaged too, so the positions of the records after it (which the checkpoint needs) are unknown; restore the data directory from a backup, or drop the collection`,
  };
}

/** Intact frames in [from, size): walks valid runs, skipping to the next valid frame after each bad one. */
async function countIntact(fh: FileHandle, from: number, size: number): Promise<number> {
  let n = 0;
  for (let pos = await findFrame(fh, from, size, CHUNK); pos >= 0;) {
    const walk = await walkFrames(fh, pos, size, CHUNK, () => (n++, true), allocBytes(Math.min(CHUNK, size)));
    pos = walk.end < size ? await findFrame(fh, walk.end + 1, size, CHUNK) : -1;
  }
  return n;
}

/** Intact frames of a whole segment file. */
async function countFile(file: string): Promise<number> {
  const fh = await fs.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    return size > SEGMENT_HEADER_BYTES ? await countIntact(fh, SEGMENT_HEADER_BYTES, size) : 0;
  } finally {
    await fh.close();
  }
}

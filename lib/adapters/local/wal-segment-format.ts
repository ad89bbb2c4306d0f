/**
 * The on-disk format of FileWal segment files, little-endian throughout:
 *
 *   header  'MGWL' | format version u16 | first position u64          (14 bytes)
 *   frame   payload length u32 | checksum u32 | payload                (repeated)
 *
 * The checksum is CRC-32 (IEEE) over the 4 length bytes followed by the payload. Covering the length
 * matters: a zero-filled tail (what some filesystems leave after a crash that extended the file) would
 * otherwise parse as valid empty records, since the CRC of no bytes is 0.
 */
import type { FileHandle } from 'node:fs/promises';
import { CorruptDataError } from '../../engine/errors.ts';
import { crc32 } from '../../engine/codec/crc32.ts';
import { MAX_WAL_RECORD_BYTES } from '../wal-rules.ts';

/** File magic: "MiGrans Wal Log". */
const MAGIC = [0x4d, 0x47, 0x57, 0x4c];

/** The segment format this build writes and reads. */
export const SEGMENT_FORMAT_VERSION = 1;

/** Bytes of the segment header. */
export const SEGMENT_HEADER_BYTES = 14;

/** Bytes before each payload: length and checksum. */
export const FRAME_HEADER_BYTES = 8;

/** Segment file names: the first position, zero-padded so names sort like positions. */
const SEGMENT_NAME = /^(\d{20})\.wal$/;

/** The file name of the segment whose first record is at `first`. */
export function segmentFileName(first: bigint): string {
  return `${first.toString().padStart(20, '0')}.wal`;
}

/** The first position encoded in a segment file name, or undefined for other files. */
export function parseSegmentFileName(name: string): bigint | undefined {
  const m = SEGMENT_NAME.exec(name);
  return m ? BigInt(m[1]) : undefined;
}

/** Writes a segment header at `buf[0..14)`. */
export function writeSegmentHeader(buf: Uint8Array, first: bigint): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, SEGMENT_HEADER_BYTES);
  buf.set(MAGIC, 0);
  dv.setUint16(4, SEGMENT_FORMAT_VERSION, true);
  dv.setBigUint64(6, first, true);
}

/**
 * Checks a segment header read from `file`. Returns 'blank' for an all-zero header (a segment whose
 * creation a crash interrupted); throws CorruptDataError for anything else that is not our header.
 */
export function checkSegmentHeader(buf: Uint8Array, file: string, expectedFirst: bigint): 'ok' | 'blank' {
  if (buf.length < SEGMENT_HEADER_BYTES) return 'blank';
  if (buf.subarray(0, SEGMENT_HEADER_BYTES).every((b) => b === 0)) return 'blank';
  const dv = new DataView(buf.buffer, buf.byteOffset, SEGMENT_HEADER_BYTES);
  if (MAGIC.some((b, i) => buf[i] !== b)) {
    throw new CorruptDataError(`${file} is not a Migrans WAL segment (magic ${hex(buf.subarray(0, 4))}, expected 'MGWL'); move it out of the WAL directory`);
  }
  const version = dv.getUint16(4, true);
  if (version !== SEGMENT_FORMAT_VERSION) {
    throw new CorruptDataError(`${file} has WAL segment format version ${version}, but this build reads version ${SEGMENT_FORMAT_VERSION}; use a matching Migrans version`);
  }
  const first = dv.getBigUint64(6, true);
  if (first !== expectedFirst) {
    throw new CorruptDataError(`${file} says its first position is ${first}, but its name says ${expectedFirst}; the WAL directory was tampered with`);
  }
  return 'ok';
}

/** Bytes `records` take once framed. */
export function framedLength(records: readonly Uint8Array[]): number {
  let n = 0;
  for (const r of records) n += FRAME_HEADER_BYTES + r.length;
  return n;
}

/** Frames `records` into one new buffer (length, checksum, payload each). */
export function encodeFrames(records: readonly Uint8Array[]): Uint8Array {
  const buf = allocBytes(framedLength(records));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  for (const r of records) {
    dv.setUint32(o, r.length, true);
    buf.set(r, o + FRAME_HEADER_BYTES);
    dv.setUint32(o + 4, frameChecksum(buf, o, r.length), true);
    o += FRAME_HEADER_BYTES + r.length;
  }
  return buf;
}

/** The checksum of the frame at `offset` of `buf` with a payload of `length` bytes. */
export function frameChecksum(buf: Uint8Array, offset: number, length: number): number {
  const start = offset + FRAME_HEADER_BYTES;
  return crc32(buf.subarray(start, start + length), crc32(buf.subarray(offset, offset + 4)));
}

/** Why walkFrames stopped. */
export type WalkStop = 'visitor' | 'end' | 'torn';

/**
 * Calls `visit(buf, payloadStart, payloadLength, frameOffset)` for each valid frame of `fh` from byte
 * `offset` until `visit` returns false (after that frame), `dataEnd` is reached, or a frame is torn
 * or fails its checksum. Reads in chunks of about `chunkBytes` (one read per chunk, never per frame).
 * Returns the byte offset after the last frame visited and why it stopped. Payloads are views into
 * the chunk buffers, valid as long as the caller keeps them — unless `scratch` is given: then chunks
 * that fit are read into it (no fresh memory per chunk), and payloads are only valid during `visit`.
 */
export async function walkFrames(
  fh: FileHandle,
  offset: number,
  dataEnd: number,
  chunkBytes: number,
  visit: (buf: Uint8Array, payload: number, length: number, frameOffset: number) => boolean,
  scratch?: Uint8Array,
): Promise<{ end: number; stop: WalkStop }> {
  let pos = offset;
  let want = chunkBytes;
  while (pos < dataEnd) {
    const n = Math.min(want, dataEnd - pos);
    const buf = scratch && n <= scratch.length ? scratch.subarray(0, n) : allocBytes(n);
    const got = await readAt(fh, buf, pos);
    const dv = new DataView(buf.buffer, buf.byteOffset, got);
    let o = 0;
    for (;;) {
      if (o + FRAME_HEADER_BYTES > got) break;
      const length = dv.getUint32(o, true);
      if (length > MAX_WAL_RECORD_BYTES) return { end: pos + o, stop: 'torn' };
      if (o + FRAME_HEADER_BYTES + length > got) {
        want = Math.max(chunkBytes, FRAME_HEADER_BYTES + length);
        break;
      }
      if (dv.getUint32(o + 4, true) !== frameChecksum(buf, o, length)) return { end: pos + o, stop: 'torn' };
      const frameEnd = o + FRAME_HEADER_BYTES + length;
      if (!visit(buf, o + FRAME_HEADER_BYTES, length, pos + o)) return { end: pos + frameEnd, stop: 'visitor' };
      o = frameEnd;
    }
    // A partial frame at the very end of the data (or a file shorter than promised) is a torn tail.
    if (pos + got >= dataEnd || got < n) {
      return { end: pos + o, stop: o === got && got === n ? 'end' : 'torn' };
    }
    pos += o;
  }
  return { end: pos, stop: 'end' };
}

/**
 * Why the frame at `offset` of a file of `size` bytes is not valid, or undefined when it is: for
 * error messages and repair reports.
 */
export async function frameProblem(fh: FileHandle, offset: number, size: number): Promise<string | undefined> {
  if (offset + FRAME_HEADER_BYTES > size) return `a frame header cut short by the end of the file (${size - offset} of ${FRAME_HEADER_BYTES} bytes)`;
  const head = allocBytes(FRAME_HEADER_BYTES);
  await readAt(fh, head, offset);
  const dv = new DataView(head.buffer, head.byteOffset, FRAME_HEADER_BYTES);
  const length = dv.getUint32(0, true);
  if (length > MAX_WAL_RECORD_BYTES) return `an impossible record length ${length}`;
  if (offset + FRAME_HEADER_BYTES + length > size) return `a record length ${length} running past the end of the file`;
  const frame = allocBytes(FRAME_HEADER_BYTES + length);
  await readAt(fh, frame, offset);
  return dv.getUint32(4, true) === frameChecksum(frame, 0, length) ? undefined : 'a checksum mismatch';
}

/**
 * The offset of the first valid frame starting at or after `from` and ending by `size`, or -1:
 * tells damage (intact records follow the bad bytes) from a torn tail (nothing valid follows).
 * Every byte offset is tried, since a damaged length field hides where the next frame starts.
 * All-zero frame headers are skipped cheaply: the checksum covers the length, so they never match.
 */
export async function findFrame(fh: FileHandle, from: number, size: number, chunkBytes: number): Promise<number> {
  for (let pos = from; pos + FRAME_HEADER_BYTES <= size;) {
    const buf = allocBytes(Math.min(chunkBytes + FRAME_HEADER_BYTES, size - pos));
    const got = await readAt(fh, buf, pos);
    const dv = new DataView(buf.buffer, buf.byteOffset, got);
    const last = Math.min(got - FRAME_HEADER_BYTES, chunkBytes - 1);
    if (last < 0) break; // the file is shorter than `size` said
    for (let o = 0; o <= last; o++) {
      const length = dv.getUint32(o, true);
      const crc = dv.getUint32(o + 4, true);
      if ((length === 0 && crc === 0) || length > MAX_WAL_RECORD_BYTES || pos + o + FRAME_HEADER_BYTES + length > size) continue;
      if (o + FRAME_HEADER_BYTES + length <= got) {
        if (crc === frameChecksum(buf, o, length)) return pos + o;
      } else if ((await frameProblem(fh, pos + o, size)) === undefined) return pos + o;
    }
    pos += last + 1;
  }
  return -1;
}

/** Reads up to `buf.length` bytes at `position`; fewer only at end of file. */
export async function readAt(fh: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** An uninitialized byte array outside Node's shared pool (views into it may outlive the call). */
export function allocBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

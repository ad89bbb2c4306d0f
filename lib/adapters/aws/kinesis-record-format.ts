/**
 * The bytes KinesisWal puts in each Kinesis record: a small header naming the channel, its epoch,
 * the WAL position and the fragment, then (a fragment of) the WAL record. Kinesis holds at most 1 MiB
 * per record, WAL records may be larger, so a record is cut into fragments that follow each other in
 * the shard. The header makes a shard self-describing: a consumer reading the raw shard (the Lambda
 * event source) can tell channels apart and, with the position index, committed records from orphans.
 *
 * Layout (little-endian): magic "MGKR" | version u8 (1) | name length u8 | fragment index u16 |
 * fragment count u16 | epoch u32 | position u64 | channel name (UTF-8) | payload.
 */
import { CorruptDataError } from '../../engine/errors.ts';

/** The header's fixed part in bytes, before the channel name. */
export const FIXED_HEADER_BYTES = 4 + 1 + 1 + 2 + 2 + 4 + 8;

/** Most fragments one WAL record may have (u16). */
export const MAX_FRAGMENTS = 0xffff;

const MAGIC = 0x524b474d; // "MGKR" read as a little-endian u32
const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a Kinesis record says about itself. */
export interface KinesisRecordHeader {
  channel: string;
  epoch: number;
  position: bigint;
  fragment: number;
  fragments: number;
}

/** Header bytes for `channel` (its length decides how much payload fits in a Kinesis record). */
export function headerBytes(channel: string): number {
  return FIXED_HEADER_BYTES + encoder.encode(channel).length;
}

/** One Kinesis record's data: header plus `payload`. */
export function encodeKinesisRecord(header: KinesisRecordHeader, payload: Uint8Array): Uint8Array {
  const name = encoder.encode(header.channel);
  const out = new Uint8Array(FIXED_HEADER_BYTES + name.length + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  out[4] = VERSION;
  out[5] = name.length;
  view.setUint16(6, header.fragment, true);
  view.setUint16(8, header.fragments, true);
  view.setUint32(10, header.epoch, true);
  view.setBigUint64(14, header.position, true);
  out.set(name, FIXED_HEADER_BYTES);
  out.set(payload, FIXED_HEADER_BYTES + name.length);
  return out;
}

/** Splits a Kinesis record's data into header and payload; throws CorruptDataError for foreign bytes. */
export function decodeKinesisRecord(data: Uint8Array, where: string): { header: KinesisRecordHeader; payload: Uint8Array } {
  if (data.length < FIXED_HEADER_BYTES) throw new CorruptDataError(`${where}: a ${data.length}-byte Kinesis record is too short for a Migrans WAL header`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== MAGIC)
    throw new CorruptDataError(`${where}: Kinesis record does not start with the MGKR magic; something other than KinesisWal wrote to this stream`);
  if (data[4] !== VERSION) throw new CorruptDataError(`${where}: Kinesis record format version ${data[4]} is not the ${VERSION} this build reads`);
  const nameEnd = FIXED_HEADER_BYTES + data[5];
  if (data.length < nameEnd) throw new CorruptDataError(`${where}: Kinesis record header is cut short`);
  const header: KinesisRecordHeader = {
    fragment: view.getUint16(6, true),
    fragments: view.getUint16(8, true),
    epoch: view.getUint32(10, true),
    position: view.getBigUint64(14, true),
    channel: decoder.decode(data.subarray(FIXED_HEADER_BYTES, nameEnd)),
  };
  return { header, payload: data.subarray(nameEnd) };
}

/**
 * The internal append route of a channel's owner querynode (POST /internal/wal-append): the proxy
 * sends a channel's records to the one process that sequences that channel, which group-commits
 * concurrent appends into one Kinesis put and one head commit. Body: the records, each as a
 * little-endian u32 length and its bytes; the channel in a header. The answer is JSON
 * `{"position": "<first position>"}`, HTTP 409 when the node does not hold the channel's lease.
 */

/** The owner querynode's append route. */
export const WAL_APPEND_ROUTE = '/internal/wal-append';
/** The header naming the channel. */
export const CHANNEL_HEADER = 'x-migrans-channel';

/** The body of an append of `records`. */
export function encodeAppend(records: Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(records.reduce((n, r) => n + 4 + r.byteLength, 0));
  let at = 0;
  for (const r of records) {
    out.writeUInt32LE(r.byteLength, at);
    out.set(r, at + 4);
    at += 4 + r.byteLength;
  }
  return out;
}

/** The records of an append body; throws a TypeError on a body that is not one. */
export function decodeAppend(body: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < body.byteLength) {
    if (at + 4 > body.byteLength) throw new TypeError(`malformed append body: a record length is cut at byte ${at}`);
    const length = view.getUint32(at, true);
    if (at + 4 + length > body.byteLength) throw new TypeError(`malformed append body: a ${length}-byte record at byte ${at} runs past the end (${body.byteLength} bytes)`);
    records.push(body.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return records;
}

/**
 * An insert or upsert as the write path takes it: rows to a columnar batch (validated against the
 * schema), autoIDs from the shared id blocks, admission against the growing-memory budget (refused
 * before anything is appended when growing data is at its limit), then the append.
 */
import type { AutoIdAllocator } from '../catalog/id-blocks.ts';
import type { ChannelState } from '../channel-state.ts';
import type { CollectionRuntime } from '../collection/collection-runtime.ts';
import type { WriteResult } from '../database.ts';
import type { GrowingMemory } from '../growing-memory.ts';
import { rowsToBatch } from '../schema/rows-to-batch.ts';
import type { PrimaryKey } from '../schema/types.ts';
import { estimatedRowBytes } from '../segment/segment.ts';

/** Inserts (or upserts) `rows` into `partition`; resolves once the WAL holds them. */
export async function insertRows(
  rt: CollectionRuntime,
  partition: string,
  rows: unknown[],
  upsert: boolean,
  autoIds: AutoIdAllocator,
  memory: GrowingMemory | undefined,
): Promise<WriteResult> {
  const batch = rowsToBatch(rt.info.schema, rows, upsert ? 'upsert' : 'insert');
  const pkField = rt.state.pkField();
  if (pkField.autoId && !upsert) {
    const ids = await autoIds.allocate(batch.rowCount);
    batch.columns.set(pkField.name, pkField.dataType === 'Int64' ? ids : ids.map(String));
  }
  const pks = batch.columns.get(pkField.name) as PrimaryKey[];
  const rowBytes = estimatedRowBytes(rt.info.schema);
  const admission = memory?.admit(batch.rowCount * rowBytes);
  const place =
    admission &&
    ((ts: bigint, rowsByChannel: Map<ChannelState, number[]>) =>
      admission.place([...rowsByChannel].filter(([ch]) => rt.applies(ch)).map(([ch, rows]) => ({ channel: ch.name, ts, bytes: rows.length * rowBytes }))));
  let sessionToken: bigint;
  try {
    sessionToken = await rt.appendInsert(batch, pks, partition, upsert, place);
  } catch (err) {
    admission?.cancel();
    throw err;
  }
  return { ids: pks, sessionToken };
}

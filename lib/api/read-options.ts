/**
 * Request members shared by the read endpoints (get, query, search): consistency level, partitions,
 * output fields and the Migrans Session extension.
 *
 * Session consistency (Migrans extension): every successful insert/upsert/delete response carries a
 * top-level `"sessionToken": "<decimal hybrid timestamp>"`. A later read may send it back as
 * `"sessionToken"` (string or number); the engine then waits until that write is visible, which is
 * what Milvus's Session level means and what plain REST cannot express (there Session behaves as
 * Eventually). Clients unaware of the extension ignore the extra key.
 */
import type { ReadOptions } from '../engine/database.ts';
import { invalidParameter } from '../engine/errors.ts';
import { parseConsistencyLevel } from './parse-collection-request.ts';
import type { StructReader } from './bind.ts';

const UINT64_MAX = 2n ** 64n - 1n;

/** Parses a session token (decimal string, integer number or bigint) or throws 1100. */
export function parseSessionToken(value: unknown): bigint {
  let b: bigint | undefined;
  if (typeof value === 'bigint') b = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) b = BigInt(value);
  else if (typeof value === 'string' && /^\d+$/.test(value)) b = BigInt(value);
  if (b === undefined || b < 0n || b > UINT64_MAX) {
    throw invalidParameter(`sessionToken must be the decimal timestamp a write response returned, but got ${JSON.stringify(String(value))}`);
  }
  return b;
}

/** Reads consistencyLevel, sessionToken, partitionNames and outputFields (with the endpoint's default). */
export function readOptions(req: StructReader, defaultOutputFields: string[]): ReadOptions {
  const options: ReadOptions = {};
  const level = req.string('consistencyLevel');
  if (level) options.consistencyLevel = parseConsistencyLevel(level);
  const token = req.raw('sessionToken');
  if (token !== undefined && token !== '') options.sessionToken = parseSessionToken(token);
  const partitionNames = req.stringArray('partitionNames');
  if (partitionNames && partitionNames.length > 0) options.partitionNames = partitionNames;
  options.outputFields = req.stringArray('outputFields') ?? defaultOutputFields;
  return options;
}

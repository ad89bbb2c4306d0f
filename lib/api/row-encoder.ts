/**
 * Encodes result rows (query / get / search) as Milvus 2.5 does (buildQueryResp):
 * - Int64 fields, the Int64 primary key and `count(*)` are JSON numbers, or decimal strings when the
 *   client sent `Accept-Type-Allow-Int64: false` (the Node SDK's default);
 * - Float fields, FloatVector values and `distance` are float32 in their shortest form;
 * - a JSON field is a string holding its JSON text (2.5 behaviour);
 * - Array fields are native JSON arrays (Int64 elements follow the Int64 rule). Milvus 2.5 emits a
 *   protobuf wrapper (`{"Data":{"LongData":{"data":[…]}}}`, issue #52048, fixed upstream only in 2026);
 *   the plain array is what every client actually wants, so Migrans deliberately differs here;
 * - dynamic fields arrive flattened in the row and are written as plain JSON (big integers exact);
 * - null stays null.
 */
import type { Row } from '../engine/database.ts';
import type { CollectionSchema, FieldSchema } from '../engine/schema/types.ts';
import { formatFloat32, formatNumber, writeFloat32Array, writeJson } from './json-writer.ts';

type Encode = (value: unknown) => string;

/** Int64 → number or decimal string. */
function int64Encoder(asString: boolean): Encode {
  return (v) => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'bigint' || typeof v === 'number') return asString ? `"${String(v)}"` : String(v);
    return writeJson(v);
  };
}

const float32Encoder: Encode = (v) => (typeof v === 'number' ? formatFloat32(v) : writeJson(v));
const vectorEncoder: Encode = (v) => (v instanceof Float32Array || Array.isArray(v) ? writeFloat32Array(v as ArrayLike<number>) : writeJson(v));
const jsonTextEncoder: Encode = (v) => (v === null || v === undefined ? 'null' : JSON.stringify(writeJson(v)));
const plainEncoder: Encode = (v) => (typeof v === 'number' ? formatNumber(v) : writeJson(v));

function fieldEncoder(field: FieldSchema, int64AsString: boolean): Encode {
  switch (field.dataType) {
    case 'Int64':
      return int64Encoder(int64AsString);
    case 'Float':
      return float32Encoder;
    case 'FloatVector':
      return vectorEncoder;
    case 'JSON':
      return jsonTextEncoder;
    case 'Array': {
      if (field.elementType === 'Int64') {
        const el = int64Encoder(int64AsString);
        return (v) => (Array.isArray(v) ? `[${v.map(el).join(',')}]` : writeJson(v));
      }
      if (field.elementType === 'Float') return (v) => (Array.isArray(v) ? writeFloat32Array(v as number[]) : writeJson(v));
      return plainEncoder;
    }
    default:
      return plainEncoder;
  }
}

/** Serializes rows of one collection; `leadingKeys` come first (search: pk, `distance`). */
export interface RowEncoder {
  (row: Row): string;
}

/** Encoders built so far, per schema and options: building one allocates maps, and every read request needs one. */
const encoderCache = new WeakMap<CollectionSchema, Map<string, RowEncoder>>();

/** Builds (or reuses) a row encoder for a schema (encoders are chosen per schema, not per value). */
export function createRowEncoder(schema: CollectionSchema, int64AsString: boolean, leadingKeys: readonly string[] = []): RowEncoder {
  let bySchema = encoderCache.get(schema);
  if (!bySchema) encoderCache.set(schema, (bySchema = new Map()));
  const key = `${int64AsString ? 1 : 0}${leadingKeys.join('\u0000')}`;
  let encoder = bySchema.get(key);
  if (!encoder) bySchema.set(key, (encoder = buildRowEncoder(schema, int64AsString, leadingKeys)));
  return encoder;
}

function buildRowEncoder(schema: CollectionSchema, int64AsString: boolean, leadingKeys: readonly string[]): RowEncoder {
  const encoders = new Map<string, Encode>();
  for (const f of schema.fields) encoders.set(f.name, fieldEncoder(f, int64AsString));
  encoders.set('distance', float32Encoder);
  encoders.set('count(*)', int64Encoder(int64AsString));
  const keyText = new Map<string, string>();
  const quote = (k: string): string => {
    let t = keyText.get(k);
    if (t === undefined) {
      t = JSON.stringify(k);
      if (keyText.size < 1024) keyText.set(k, t); // dynamic fields bring arbitrary keys: bounded
    }
    return t;
  };
  const lead = new Set(leadingKeys);
  return (row) => {
    const parts: string[] = [];
    for (const k of leadingKeys) {
      const v = row[k];
      if (v !== undefined) parts.push(`${quote(k)}:${(encoders.get(k) ?? plainEncoder)(v)}`);
    }
    for (const k in row) {
      if (lead.has(k)) continue;
      const v = row[k];
      if (v === undefined) continue;
      parts.push(`${quote(k)}:${(encoders.get(k) ?? plainEncoder)(v)}`);
    }
    return `{${parts.join(',')}}`;
  };
}

/** Serializes rows to a JSON array. */
export function encodeRows(rows: readonly Row[], encode: RowEncoder): string {
  if (rows.length === 0) return '[]';
  const parts = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) parts[i] = encode(rows[i]!);
  return `[${parts.join(',')}]`;
}

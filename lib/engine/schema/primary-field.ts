/** The primary-key field of a schema: every collection has exactly one (validate-spec.ts enforces it at creation). */
import type { CollectionSchema, FieldSchema } from './types.ts';

/** The schema's primary-key field; throws a TypeError for a schema without one (a catalog entry written by something else). */
export function primaryField(schema: CollectionSchema): FieldSchema {
  const pk = schema.fields.find((f) => f.isPrimary);
  if (!pk) throw new TypeError(`collection schema has no primary key field (fields: ${schema.fields.map((f) => f.name).join(', ')})`);
  return pk;
}

/** The schema the filter tests compile against: every scalar type, nullable fields, arrays, JSON, a vector, dynamic fields. */
import type { CollectionSchema } from '../../lib/engine/schema/types.ts';
import { field } from './data.ts';

/** Fields id (Int64 pk), name, i8, f, d, b, n (nullable), j (JSON), ai / as (arrays), vec; dynamic on. */
export const FILTER_SCHEMA: CollectionSchema = {
  enableDynamicField: true,
  fields: [
    field(100, 'id', 'Int64', { isPrimary: true }),
    field(101, 'name', 'VarChar', { maxLength: 64 }),
    field(102, 'i8', 'Int8'),
    field(103, 'f', 'Float'),
    field(104, 'd', 'Double'),
    field(105, 'b', 'Bool'),
    field(106, 'n', 'Int32', { nullable: true }),
    field(107, 'j', 'JSON', { nullable: true }),
    field(108, 'ai', 'Array', { elementType: 'Int64', maxCapacity: 16 }),
    field(109, 'as', 'Array', { elementType: 'VarChar', maxCapacity: 16, maxLength: 16 }),
    field(110, 'vec', 'FloatVector', { dim: 4 }),
  ],
};

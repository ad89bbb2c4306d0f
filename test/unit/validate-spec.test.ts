/**
 * The engine's schema limits (lib/engine/schema/validate-spec.ts): the rules every front door gets
 * through EngineDatabase.createCollection / createIndex, with the messages REST clients see.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidParameterError } from '../../lib/engine/errors.ts';
import { MAX_DIM, MAX_FIELDS, MAX_SHARDS, MAX_VARCHAR_LENGTH } from '../../lib/engine/schema/limits.ts';
import { validateCollectionSpec, validateIndexSpecs, validateName } from '../../lib/engine/schema/validate-spec.ts';
import type { CollectionSpec } from '../../lib/engine/database.ts';
import type { FieldSchema, IndexSpec } from '../../lib/engine/schema/types.ts';
import { field } from '../support/data.ts';

/** A field with the defaults filled in (ids do not matter to these rules). */
const f = (name: string, dataType: FieldSchema['dataType'], extra: Partial<FieldSchema> = {}): FieldSchema => field(100, name, dataType, extra);

function spec(extra: Partial<CollectionSpec> = {}): CollectionSpec {
  return {
    name: 'c',
    description: '',
    schema: { fields: [f('id', 'Int64', { isPrimary: true }), f('v', 'FloatVector', { dim: 4 })], enableDynamicField: false },
    shardsNum: 1,
    consistencyLevel: 'Bounded',
    properties: {},
    indexes: [],
    load: false,
    ...extra,
  };
}

const schema = spec().schema;
const hnsw: IndexSpec = { indexName: 'v', fieldName: 'v', indexType: 'HNSW', metricType: 'L2', M: 16, efConstruction: 128, quantization: 'f32', params: {} };

describe('engine schema limits', () => {
  it('accepts a valid spec', () => validateCollectionSpec(spec({ indexes: [hnsw] })));

  it('refuses bad names with Milvus wording', () => {
    assert.throws(() => validateName('collection', ''), { name: InvalidParameterError.name, message: /collection name should not be empty/ });
    assert.throws(() => validateCollectionSpec(spec({ name: '1abc' })), /the first character of a collection name must be an underscore or letter/);
    assert.throws(() => validateName('field', 'x'.repeat(256)), /must be less than 255 characters/);
  });

  it('refuses shards, dims, lengths and field counts past the limits', () => {
    assert.throws(() => validateCollectionSpec(spec({ shardsNum: MAX_SHARDS + 1 })), InvalidParameterError);
    const withField = (x: FieldSchema) => spec({ schema: { fields: [f('id', 'Int64', { isPrimary: true }), x], enableDynamicField: false } });
    assert.throws(() => validateCollectionSpec(withField(f('v', 'FloatVector', { dim: MAX_DIM + 1 }))), /invalid dimension: 32769 of field v/);
    assert.throws(() => validateCollectionSpec(withField(f('s', 'VarChar', { maxLength: MAX_VARCHAR_LENGTH + 1 }))), /should be in \(0, 65535\]/);
    const many = Array.from({ length: MAX_FIELDS + 1 }, (_, i) => f(`f${i}`, 'Int64'));
    assert.throws(() => validateCollectionSpec(spec({ schema: { fields: many, enableDynamicField: false } })), /maximum field's number should be limited to 64/);
    assert.throws(() => validateCollectionSpec(withField(f('id', 'Int64'))), /duplicated field name id found/);
  });

  it('refuses HNSW params out of range and duplicate indexes', () => {
    assert.throws(() => validateIndexSpecs([{ ...hnsw, M: 1 }], schema), /index param M of field v should be an integer in \[2, 2048\]/);
    assert.throws(() => validateIndexSpecs([{ ...hnsw, efConstruction: 0 }], schema), /efConstruction of field v should be an integer/);
    assert.throws(() => validateIndexSpecs([hnsw, { ...hnsw, indexName: 'w' }], schema), /at most one distinct index is allowed per field/);
    assert.throws(() => validateIndexSpecs([{ ...hnsw, fieldName: 'nope' }], schema), /`nope` hasn't defined in schema/);
    assert.throws(() => validateIndexSpecs([{ ...hnsw, fieldName: 'id' }], schema), /HNSW index is for vector fields; id is Int64/);
  });

  it('refuses key fields Milvus refuses: no or two primary keys, a nullable or partition-key primary key, two partition or clustering keys', () => {
    const pk = f('id', 'Int64', { isPrimary: true });
    const v = f('v', 'FloatVector', { dim: 4 });
    const withFields = (...fields: FieldSchema[]) => spec({ schema: { fields, enableDynamicField: false } });
    assert.throws(() => validateCollectionSpec(withFields(f('id', 'Int64'), v)), /primary key is not specified/);
    assert.throws(() => validateCollectionSpec(withFields(pk, { ...pk, name: 'id2' }, v)), /more than one primary key, field name = id, id2/);
    assert.throws(() => validateCollectionSpec(withFields(f('id', 'Float', { isPrimary: true }), v)), /primary key should be Int64 or VarChar/);
    assert.throws(() => validateCollectionSpec(withFields({ ...pk, nullable: true }, v)), /primary field not support null/);
    assert.throws(() => validateCollectionSpec(withFields({ ...pk, isPartitionKey: true }, v)), /partition key field must not be primary field/);
    const key = (name: string, extra: Partial<FieldSchema>) => f(name, 'Int64', extra);
    assert.throws(() => validateCollectionSpec(withFields(pk, v, key('a', { isPartitionKey: true }), key('b', { isPartitionKey: true }))), /more than one partition key/);
    assert.throws(() => validateCollectionSpec(withFields(pk, v, f('a', 'Float', { isPartitionKey: true }))), /partition key should be Int64 or VarChar/);
    assert.throws(() => validateCollectionSpec(withFields(pk, v, key('a', { isClusteringKey: true }), key('b', { isClusteringKey: true }))), /more than one clustering key/);
    assert.throws(() => validateCollectionSpec(withFields(pk)), /does not contain vector field/);
    assert.throws(() => validateCollectionSpec(withFields(pk, { ...v, nullable: true })), /vector type not support null/);
  });

  it('refuses a collection loaded at creation without an index on every vector field', () => {
    assert.throws(() => validateCollectionSpec(spec({ load: true })), /indexParams must index every vector field.*missing: \[v\]/);
    validateCollectionSpec(spec({ load: true, indexes: [hnsw] }));
  });
});

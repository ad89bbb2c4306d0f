import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { milvusCode, wireError } from '../../lib/api/error-codes.ts';
import { parseCollectionRequest, parseConsistencyLevel } from '../../lib/api/parse-collection-request.ts';
import type { CollectionSpec } from '../../lib/engine/database.ts';
import { validateCollectionSpec, validateName } from '../../lib/engine/schema/validate-spec.ts';

/** What collections/create hands the engine, as the engine accepts it (the wire parse, then the engine's schema rules). */
function createSpec(body: unknown): CollectionSpec {
  const spec = parseCollectionRequest(body);
  validateCollectionSpec(spec);
  return spec;
}

/** Asserts that `fn` throws a client error with wire `code` whose message matches `message`. */
function throwsMilvus(fn: () => unknown, code: number, message?: RegExp | string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error && !wireError(err).internal, `expected a client error, got ${String(err)}`);
    assert.equal(milvusCode(err), code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return true;
  });
}

const fullExample = {
  collectionName: 'c',
  schema: {
    autoId: false,
    enableDynamicField: true,
    fields: [
      { fieldName: 'book_id', dataType: 'Int64', isPrimary: true, elementTypeParams: {} },
      { fieldName: 'book_describe', dataType: 'VarChar', elementTypeParams: { max_length: '256' } },
      { fieldName: 'int_array', dataType: 'Array', elementDataType: 'Int64', elementTypeParams: { max_capacity: '1024' } },
      { fieldName: 'book_intro', dataType: 'FloatVector', elementTypeParams: { dim: '128' } },
    ],
  },
  indexParams: [{ fieldName: 'book_intro', indexName: 'book_intro_vector', metricType: 'L2', indexType: 'HNSW', params: { M: 16, efConstruction: 500 } }],
  params: { shardsNum: '1', consistencyLevel: 'Strong', ttlSeconds: '3600' },
};

function withFields(fields: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { collectionName: 'c', schema: { fields }, ...extra };
}
const pk = { fieldName: 'id', dataType: 'Int64', isPrimary: true };
const vec = { fieldName: 'v', dataType: 'FloatVector', elementTypeParams: { dim: 4 } };

describe('parseCollectionRequest: quick setup', () => {
  it('fills in Milvus defaults', () => {
    const spec = parseCollectionRequest({ collectionName: 'quick', dimension: 5 });
    assert.equal(spec.name, 'quick');
    assert.equal(spec.shardsNum, 1);
    assert.equal(spec.consistencyLevel, 'Bounded');
    assert.equal(spec.load, true);
    assert.equal(spec.schema.enableDynamicField, true);
    const [id, vector] = spec.schema.fields;
    assert.deepEqual([id!.name, id!.dataType, id!.fieldId, id!.isPrimary, id!.autoId], ['id', 'Int64', 100, true, false]);
    assert.deepEqual([vector!.name, vector!.dataType, vector!.fieldId, vector!.dim], ['vector', 'FloatVector', 101, 5]);
    assert.deepEqual(vector!.typeParams, { dim: '5' });
    assert.equal(spec.indexes.length, 1);
    assert.deepEqual(
      { ...spec.indexes[0], params: undefined },
      { indexName: 'vector', fieldName: 'vector', indexType: 'AUTOINDEX', metricType: 'COSINE', M: 18, efConstruction: 240, quantization: 'f32', params: undefined },
    );
  });

  it('takes VarChar ids, names, metric, autoID and params', () => {
    const spec = parseCollectionRequest({
      collectionName: 'q',
      dimension: 8,
      metricType: 'l2',
      idType: 'VarChar',
      autoID: true,
      primaryFieldName: 'pk',
      vectorFieldName: 'emb',
      params: { max_length: 64, consistencyLevel: 'Strong', enableDynamicField: 'false', shardsNum: 2 },
    });
    const [id, v] = spec.schema.fields;
    assert.equal(id!.dataType, 'VarChar');
    assert.equal(id!.maxLength, 64);
    assert.equal(id!.autoId, true);
    assert.equal(v!.name, 'emb');
    assert.equal(spec.indexes[0]!.indexName, 'emb');
    assert.equal(spec.indexes[0]!.metricType, 'L2');
    assert.equal(spec.consistencyLevel, 'Strong');
    assert.equal(spec.schema.enableDynamicField, false);
    assert.equal(spec.shardsNum, 2);
  });

  it('rejects a missing dimension with Milvus text', () => {
    throwsMilvus(
      () => createSpec({ collectionName: 'q' }),
      1100,
      'dimension is required for quickly create collection(default metric type: COSINE): invalid parameter[expected=collectionName & dimension][actual=collectionName]',
    );
  });

  it('rejects bad dimension, metric, idType, shards, consistency', () => {
    throwsMilvus(() => createSpec({ collectionName: 'q', dimension: 40000 }), 1100, /invalid dimension: 40000/);
    throwsMilvus(() => createSpec({ collectionName: 'q', dimension: 4, metricType: 'HAMMING' }), 1100, /HAMMING.*L2, IP, COSINE/);
    throwsMilvus(
      () => createSpec({ collectionName: 'q', dimension: 4, idType: 'unknown' }),
      1100,
      'idType can only be [Int64, VarChar], default: Int64: invalid parameter[expected=Int64, Varchar][actual=unknown]',
    );
    throwsMilvus(() => createSpec({ collectionName: 'q', dimension: 4, params: { shardsNum: 17 } }), 1100, /shardsNum.*\[1, 16\].*17/);
    throwsMilvus(
      () => createSpec({ collectionName: 'q', dimension: 4, params: { consistencyLevel: 'strong' } }),
      1100,
      'consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized], default: Bounded: invalid parameter[expected=Strong, Session, Bounded, Eventually, Customized][actual=strong]',
    );
    throwsMilvus(() => createSpec({ collectionName: 'q', dimension: '4' }), 1801, /cannot unmarshal string into Go struct field CollectionReq.dimension of type int32/);
  });

  it('requires and validates the collection name', () => {
    throwsMilvus(() => createSpec({ dimension: 4 }), 1802, /CollectionReq.CollectionName.*required/);
    throwsMilvus(() => createSpec({ collectionName: '1abc', dimension: 4 }), 1100, /first character/);
  });
});

describe('parseCollectionRequest: full schema', () => {
  it('parses the reference example', () => {
    const spec = parseCollectionRequest(fullExample);
    assert.equal(spec.load, true);
    assert.equal(spec.consistencyLevel, 'Strong');
    assert.deepEqual(spec.properties, { 'collection.ttl.seconds': '3600' });
    assert.equal(spec.schema.enableDynamicField, true);
    assert.deepEqual(
      spec.schema.fields.map((f) => f.fieldId),
      [100, 101, 102, 103],
    );
    const [id, desc, arr, v] = spec.schema.fields;
    assert.equal(id!.isPrimary, true);
    assert.equal(desc!.maxLength, 256);
    assert.deepEqual(desc!.typeParams, { max_length: '256' });
    assert.equal(arr!.elementType, 'Int64');
    assert.equal(arr!.maxCapacity, 1024);
    assert.equal(v!.dim, 128);
    assert.deepEqual(spec.indexes, [
      {
        indexName: 'book_intro_vector',
        fieldName: 'book_intro',
        indexType: 'HNSW',
        metricType: 'L2',
        M: 16,
        efConstruction: 500,
        quantization: 'f32',
        params: { M: '16', efConstruction: '500' },
      },
    ]);
  });

  it('reads struct keys case-insensitively and schema.autoID for the pk', () => {
    const spec = parseCollectionRequest({ CollectionName: 'c', SCHEMA: { AutoID: true, fields: [pk, vec] } });
    assert.equal(spec.schema.fields[0]!.autoId, true);
    assert.equal(spec.schema.enableDynamicField, false);
    assert.equal(spec.load, false);
    assert.deepEqual(spec.indexes, []);
  });

  it('accepts quantization and FLAT', () => {
    const spec = parseCollectionRequest(
      withFields([pk, vec], {
        indexParams: [{ fieldName: 'v', indexType: 'HNSW', metricType: 'IP', params: { quantization: 'BF16', M: '32' } }],
      }),
    );
    assert.equal(spec.indexes[0]!.quantization, 'bf16');
    assert.equal(spec.indexes[0]!.M, 32);
    assert.equal(spec.indexes[0]!.indexName, 'v');
    const flat = parseCollectionRequest(withFields([pk, vec], { indexParams: [{ fieldName: 'v', params: { index_type: 'FLAT', metric_type: 'L2' } }] }));
    assert.equal(flat.indexes[0]!.indexType, 'FLAT');
    assert.equal(flat.indexes[0]!.metricType, 'L2');
  });

  it('rejects unsupported index types, metrics, quantizations and unknown fields', () => {
    throwsMilvus(() => createSpec(withFields([pk, vec], { indexParams: [{ fieldName: 'v', indexType: 'IVF_FLAT' }] })), 1100, /IVF_FLAT.*HNSW, FLAT, AUTOINDEX/);
    throwsMilvus(() => createSpec(withFields([pk, vec], { indexParams: [{ fieldName: 'x' }] })), 1802, "missing required parameters, error: `x` hasn't defined in schema");
    throwsMilvus(() => createSpec(withFields([pk, vec], { indexParams: [{ fieldName: 'v', params: { quantization: 'pq' } }] })), 1100, /quantization "pq"/);
    throwsMilvus(() => createSpec(withFields([pk, vec], { indexParams: [{ fieldName: 'v', params: { M: 1 } }] })), 1100, /M .*\[2, 2048\]/);
    throwsMilvus(() => createSpec(withFields([pk, vec], { indexParams: [{ fieldName: 'id' }] })), 1100, /index is for vector fields; id is Int64/);
  });

  it('requires indexes on every vector field when indexParams are given', () => {
    const v2 = { fieldName: 'v2', dataType: 'FloatVector', elementTypeParams: { dim: 2 } };
    throwsMilvus(() => createSpec(withFields([pk, vec, v2], { indexParams: [{ fieldName: 'v' }] })), 1100, /missing: \[v2\]/);
  });

  it('validates data types with Milvus wording', () => {
    throwsMilvus(() => createSpec(withFields([{ ...pk, dataType: 'int64' }, vec])), 1100, 'invalid parameter, data type int64 is invalid(case sensitive).');
    throwsMilvus(
      () => createSpec(withFields([pk, { fieldName: 'b', dataType: 'BinaryVector', elementTypeParams: { dim: 8 } }])),
      1100,
      /BinaryVector .*not supported by Migrans yet/,
    );
    throwsMilvus(() => createSpec(withFields([pk, vec, { fieldName: 's', dataType: 'SparseFloatVector' }])), 1100, /not supported by Migrans yet/);
    throwsMilvus(() => createSpec(withFields([pk, vec, { fieldName: 's', dataType: 'String' }])), 1100, /please use VarChar/);
  });

  it('validates the primary key and vector fields', () => {
    throwsMilvus(() => createSpec(withFields([{ fieldName: 'id', dataType: 'Int64' }, vec])), 1100, /primary key is not specified/);
    throwsMilvus(() => createSpec(withFields([pk, { ...pk, fieldName: 'id2' }, vec])), 1100, /more than one primary key, field name = id, id2/);
    throwsMilvus(() => createSpec(withFields([{ ...pk, dataType: 'Float' }, vec])), 1100, /primary key should be Int64 or VarChar/);
    throwsMilvus(() => createSpec(withFields([{ ...pk, nullable: true }, vec])), 1100, /primary field not support null/);
    throwsMilvus(() => createSpec(withFields([pk])), 1100, /does not contain vector field/);
    throwsMilvus(() => createSpec(withFields([pk, { ...vec, elementTypeParams: {} }])), 1100, /dimension is not defined/);
    throwsMilvus(() => createSpec(withFields([pk, { ...vec, elementTypeParams: { dim: 0 } }])), 1100, /invalid dimension: 0/);
    throwsMilvus(() => createSpec(withFields([pk, { ...vec, elementTypeParams: { dim: 'abc' } }])), 1100, /dim of field v should be an integer/);
    throwsMilvus(() => createSpec(withFields([pk, vec, { ...vec }])), 1100, /duplicated field name v/);
    throwsMilvus(() => createSpec(withFields([pk, { ...vec, fieldName: 'bad-name' }])), 1100, /Invalid field name: bad-name/);
  });

  it('validates VarChar, Array and default values', () => {
    const vc = (p: unknown) => ({ fieldName: 's', dataType: 'VarChar', elementTypeParams: p });
    throwsMilvus(() => createSpec(withFields([pk, vec, vc({})])), 1100, /type param\(max_length\) should be specified for the field\(s\) of collection c/);
    throwsMilvus(() => createSpec(withFields([pk, vec, vc({ max_length: 70000 })])), 1100, /should be in \(0, 65535\], but got 70000/);
    throwsMilvus(() => createSpec(withFields([pk, vec, { fieldName: 'a', dataType: 'Array', elementTypeParams: { max_capacity: 4 } }])), 1100, /element data type {2}is invalid/);
    throwsMilvus(
      () => createSpec(withFields([pk, vec, { fieldName: 'a', dataType: 'Array', elementDataType: 'Int8', elementTypeParams: { max_capacity: 5000 } }])),
      1100,
      /\(0, 4096\], but got 5000/,
    );
    throwsMilvus(
      () => createSpec(withFields([pk, vec, { fieldName: 'a', dataType: 'Array', elementDataType: 'VarChar', elementTypeParams: { max_capacity: 5 } }])),
      1100,
      /max_length/,
    );
    throwsMilvus(
      () => createSpec(withFields([pk, vec, { fieldName: 'n', dataType: 'Bool', defaultValue: 10 }])),
      1100,
      'convert defaultValue fail, err:cannot use "10"(type: float64) as bool default value of field n: invalid parameter',
    );
    throwsMilvus(() => createSpec(withFields([pk, vec, { fieldName: 'n', dataType: 'Int64', defaultValue: '10' }])), 1100, /cannot use "10"\(type: string\) as long default value/);
    throwsMilvus(() => createSpec(withFields([pk, vec, { fieldName: 'n', dataType: 'Int8', defaultValue: 300 }])), 1100, /\[-128, 127\]/);
    throwsMilvus(() => createSpec(withFields([pk, vec, { fieldName: 'j', dataType: 'JSON', defaultValue: {} }])), 1100, /Unexpected default value type: JSON/);
    const spec = parseCollectionRequest(
      withFields([
        pk,
        vec,
        { fieldName: 'n', dataType: 'Int64', defaultValue: 7, nullable: true },
        { fieldName: 's', dataType: 'VarChar', defaultValue: 'x', elementTypeParams: { max_length: 8 } },
        { fieldName: 'f', dataType: 'Float', defaultValue: 0.1 },
      ]),
    );
    assert.equal(spec.schema.fields[2]!.defaultValue, 7n);
    assert.equal(spec.schema.fields[2]!.nullable, true);
    assert.equal(spec.schema.fields[3]!.defaultValue, 'x');
    assert.equal(spec.schema.fields[4]!.defaultValue, Math.fround(0.1));
  });

  it('rejects functions (BM25)', () => {
    throwsMilvus(() => createSpec({ collectionName: 'c', schema: { fields: [pk, vec], functions: [{ name: 'bm25' }] } }), 1100, /functions/);
  });
});

describe('validateName and parseConsistencyLevel', () => {
  it('accepts Milvus-valid names', () => {
    for (const n of ['a', '_x', 'A_1', 'x'.repeat(255)]) validateName('collection', n);
  });

  it('rejects invalid names with Milvus wording', () => {
    throwsMilvus(() => validateName('collection', ''), 1100, /collection name should not be empty/);
    throwsMilvus(() => validateName('collection', '9x'), 1100, /Invalid collection name: 9x\. the first character of a collection name must be an underscore or letter/);
    throwsMilvus(() => validateName('partition', 'a-b'), 1100, /partition name can only contain numbers, letters and underscores/);
    throwsMilvus(() => validateName('alias', 'x'.repeat(256)), 1100, /must be less than 255 characters/);
    throwsMilvus(() => validateName('field', 'é'), 1100, /Invalid field name/);
  });

  it('parses consistency levels case-sensitively', () => {
    assert.equal(parseConsistencyLevel('Session'), 'Session');
    throwsMilvus(
      () => parseConsistencyLevel('SESSION'),
      1100,
      "consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized], default: Bounded, err:parameter:'SESSION' is incorrect, please check it: invalid parameter",
    );
  });
});

/**
 * The read planner is the one place that validates a search or query against the collection, for
 * every front door: the searched vector field, the query vectors' dimension, the metric against the
 * index's, count(*), paging and partitions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ENGINE_CONFIG } from '../../lib/engine/engine-config.ts';
import { RequestFormatError, InvalidParameterError } from '../../lib/engine/errors.ts';
import { planQuery, planSearch, vectorFieldFor } from '../../lib/engine/read/planner.ts';
import type { CollectionInfo } from '../../lib/engine/schema/types.ts';
import { field } from '../support/data.ts';

const info: CollectionInfo = {
  collectionId: 1,
  name: 'c',
  dbName: 'default',
  description: '',
  shardsNum: 1,
  consistencyLevel: 'Bounded',
  partitions: ['_default', 'p'],
  aliases: [],
  properties: {},
  loaded: true,
  createdTs: 1n,
  indexes: [{ indexName: 'a', fieldName: 'a', indexType: 'HNSW', metricType: 'L2', M: 16, efConstruction: 128, quantization: 'f32', params: {} }],
  schema: {
    enableDynamicField: false,
    fields: [field(100, 'id', 'Int64', { isPrimary: true }), field(101, 'a', 'FloatVector', { dim: 2 }), field(102, 'b', 'FloatVector', { dim: 3 }), field(103, 'n', 'Int64')],
  },
};
const v = (...xs: number[]) => Float32Array.from(xs);

describe('read planner', () => {
  it('needs annsField when the collection has several vector fields, and names the unknown one', () => {
    assert.throws(
      () => vectorFieldFor(info.schema, undefined),
      (e: Error) => e instanceof RequestFormatError && /multiple vector fields: \[a, b\]/.test(e.message),
    );
    assert.throws(() => vectorFieldFor(info.schema, 'nope'), {
      message: 'can only accept json format request, error: cannot find a vector field named: nope',
    });
    assert.equal(vectorFieldFor(info.schema, 'b').name, 'b');
  });

  it('refuses a query vector of the wrong dimension, naming the vector and the field', () => {
    assert.throws(
      () => planSearch(info, { annsField: 'b', vectors: [v(1, 2, 3), v(1, 2)], limit: 3 }, DEFAULT_ENGINE_CONFIG.defaultSearchEf),
      (e: Error) => e instanceof RequestFormatError && /dimension: 3, but length of \[\]float: 2 \(query vector 1, field b\)/.test(e.message),
    );
  });

  it('takes the index metric, refuses a different one, and defaults the rest', () => {
    const { plan, outputFields } = planSearch(
      info,
      { annsField: 'a', vectors: [v(1, 2)], limit: 3, filter: 'n > 1', partitionNames: ['p'] },
      DEFAULT_ENGINE_CONFIG.defaultSearchEf,
    );
    assert.equal(plan.metric, 'L2');
    assert.equal(plan.ef, DEFAULT_ENGINE_CONFIG.defaultSearchEf);
    assert.equal(plan.offset, 0);
    assert.deepEqual(plan.partitions, ['p']);
    assert.ok(plan.filter);
    assert.deepEqual(outputFields, []);
    assert.throws(() => planSearch(info, { annsField: 'a', vectors: [v(1, 2)], limit: 3, metricType: 'IP' }, DEFAULT_ENGINE_CONFIG.defaultSearchEf), InvalidParameterError);
    assert.equal(planSearch(info, { annsField: 'b', vectors: [v(1, 2, 3)], limit: 1 }, DEFAULT_ENGINE_CONFIG.defaultSearchEf).plan.metric, 'COSINE');
  });

  it('plans count(*) alone, and refuses it mixed with other output fields', () => {
    assert.equal(planQuery(info, { filter: '', outputFields: ['COUNT( * )'] }).count, true);
    assert.throws(() => planQuery(info, { filter: '', outputFields: ['count(*)', 'n'] }), /count\(\*\) cannot be combined/);
    const q = planQuery(info, { filter: 'n in [1, 2]', limit: 5, offset: 2 });
    assert.deepEqual([q.count, q.limit, q.offset, q.outputFields], [false, 5, 2, ['*']]);
    assert.deepEqual(q.filter.primaryKeys, undefined);
  });
});

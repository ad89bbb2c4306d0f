/** collections/*, databases/*, partitions/*, aliases/*, indexes/* over HTTP against the embedded engine. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fails, ok, startTestServer, uniqueName, type TestServer } from './support.ts';

const fullSchema = (name: string) => ({
  collectionName: name,
  schema: {
    autoId: false,
    enableDynamicField: true,
    fields: [
      { fieldName: 'book_id', dataType: 'Int64', isPrimary: true, elementTypeParams: {} },
      { fieldName: 'book_describe', dataType: 'VarChar', elementTypeParams: { max_length: '256' } },
      { fieldName: 'int_array', dataType: 'Array', elementDataType: 'Int64', elementTypeParams: { max_capacity: '1024' } },
      { fieldName: 'book_intro', dataType: 'FloatVector', elementTypeParams: { dim: '8' } },
    ],
  },
  indexParams: [{ fieldName: 'book_intro', indexName: 'book_intro_vector', metricType: 'L2', indexType: 'HNSW', params: { M: 16, efConstruction: 200 } }],
  params: { shardsNum: '2', consistencyLevel: 'Strong', ttlSeconds: '3600' },
});

describe('collections', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => s.close());

  it('quick-creates, lists, has, describes, loads', async () => {
    const name = uniqueName('quick');
    assert.deepEqual(ok(await s.post('collections/create', { collectionName: name, dimension: 4 })), { code: 0, data: {} });
    assert.ok(ok(await s.post('collections/list', {})).data.includes(name));
    assert.deepEqual(ok(await s.post('collections/has', { collectionName: name })).data, { has: true });
    assert.deepEqual(ok(await s.post('collections/has', { collectionName: 'missing_x' })).data, { has: false });

    const d = ok(await s.post('collections/describe', { collectionName: name }));
    assert.equal(d.message, '');
    assert.equal(d.data.collectionName, name);
    assert.equal(d.data.autoId, false);
    assert.equal(typeof d.data.collectionID, 'number');
    assert.equal(d.data.consistencyLevel, 'Bounded');
    assert.equal(d.data.enableDynamicField, true);
    assert.equal(d.data.shardsNum, 1);
    assert.equal(d.data.partitionsNum, 1);
    assert.deepEqual(d.data.aliases, []);
    assert.deepEqual(d.data.functions, []);
    assert.deepEqual(d.data.properties, []);
    assert.deepEqual(d.data.indexes, [{ fieldName: 'vector', indexName: 'vector', metricType: 'COSINE' }]);
    assert.deepEqual(d.data.fields, [
      { autoId: false, clusteringKey: false, description: '', id: 100, name: 'id', nullable: false, partitionKey: false, primaryKey: true, type: 'Int64' },
      {
        autoId: false,
        clusteringKey: false,
        description: '',
        id: 101,
        name: 'vector',
        nullable: false,
        params: [{ key: 'dim', value: '4' }],
        partitionKey: false,
        primaryKey: false,
        type: 'FloatVector',
      },
    ]);
    assert.match(d.data.load, /^LoadState(Loaded|Loading)$/);
    const st = ok(await s.post('collections/get_load_state', { collectionName: name }));
    assert.match(st.data.loadState, /^LoadState(Loaded|Loading)$/);
    assert.deepEqual(ok(await s.post('collections/get_stats', { collectionName: name })).data, { rowCount: 0 });
  });

  it('creates a full schema with index params and properties', async () => {
    const name = uniqueName('full');
    ok(await s.post('collections/create', fullSchema(name)));
    const d = ok(await s.post('collections/describe', { collectionName: name })).data;
    assert.equal(d.consistencyLevel, 'Strong');
    assert.equal(d.shardsNum, 2);
    assert.deepEqual(d.properties, [{ key: 'collection.ttl.seconds', value: '3600' }]);
    assert.deepEqual(
      d.fields.map((f: any) => [f.name, f.type, f.id]),
      [
        ['book_id', 'Int64', 100],
        ['book_describe', 'VarChar', 101],
        ['int_array', 'Array', 102],
        ['book_intro', 'FloatVector', 103],
      ],
    );
    assert.equal(d.fields[2].elementType, 'Int64');
    assert.deepEqual(d.fields[1].params, [{ key: 'max_length', value: '256' }]);
    assert.deepEqual(d.indexes, [{ fieldName: 'book_intro', indexName: 'book_intro_vector', metricType: 'L2' }]);
  });

  it('creates a full schema without indexes unloaded', async () => {
    const name = uniqueName('noidx');
    const body = { ...fullSchema(name), indexParams: undefined };
    ok(await s.post('collections/create', body));
    const st = ok(await s.post('collections/get_load_state', { collectionName: name }));
    assert.deepEqual(st.data, { loadState: 'LoadStateNotLoad' });
  });

  it('rejects a duplicate create with different parameters and invalid requests', async () => {
    const name = uniqueName('dup');
    ok(await s.post('collections/create', { collectionName: name, dimension: 4 }));
    const again = await s.post('collections/create', { collectionName: name, dimension: 8 });
    assert.notEqual(again.body.code, 0, again.text);
    fails(await s.post('collections/create', { collectionName: 'bad-name', dimension: 4 }), 1100, /Invalid collection name: bad-name/);
    fails(await s.post('collections/create', { collectionName: uniqueName(), dimension: 4, metricType: 'JACCARD' }), 1100);
    fails(await s.post('collections/create', { collectionName: uniqueName() }), 1100, /dimension is required for quickly create collection/);
    fails(
      await s.post('collections/create', { collectionName: uniqueName(), schema: { fields: [{ fieldName: 'id', dataType: 'int64', isPrimary: true }] } }),
      1100,
      'invalid parameter, data type int64 is invalid(case sensitive).',
    );
    fails(await s.post('collections/create', { collectionName: uniqueName(), dimension: 4, params: { consistencyLevel: 'Fast' } }), 1100, /consistencyLevel can only be/);
    fails(await s.post('collections/create', { collectionName: uniqueName(), dimension: '4' }), 1801);
  });

  it('reports unknown collections with 100 and drops idempotently', async () => {
    fails(await s.post('collections/describe', { collectionName: 'nope_nope' }), 100, "can't find collection[database=default][collection=nope_nope]");
    fails(await s.post('collections/get_load_state', { collectionName: 'nope_nope' }), 100);
    fails(await s.post('entities/insert', { collectionName: 'nope_nope', data: [{ id: 1 }] }), 100);
    ok(await s.post('collections/drop', { collectionName: 'nope_nope' }));
  });

  it('drops, renames, releases and loads', async () => {
    const name = uniqueName('life');
    const renamed = uniqueName('renamed');
    ok(await s.post('collections/create', { collectionName: name, dimension: 4 }));
    ok(await s.post('collections/release', { collectionName: name }));
    assert.deepEqual(ok(await s.post('collections/get_load_state', { collectionName: name })).data, { loadState: 'LoadStateNotLoad' });
    ok(await s.post('collections/load', { collectionName: name }));
    ok(await s.post('collections/rename', { collectionName: name, newCollectionName: renamed }));
    assert.deepEqual(ok(await s.post('collections/has', { collectionName: name })).data, { has: false });
    ok(await s.post('collections/alter_properties', { collectionName: renamed, properties: { 'collection.ttl.seconds': 60 } }));
    const props = ok(await s.post('collections/describe', { collectionName: renamed })).data.properties;
    assert.deepEqual(props, [{ key: 'collection.ttl.seconds', value: '60' }]);
    ok(await s.post('collections/drop_properties', { collectionName: renamed, propertyKeys: ['collection.ttl.seconds'] }));
    ok(await s.post('collections/flush', { collectionName: renamed }));
    const compaction = ok(await s.post('collections/compact', { collectionName: renamed })).data;
    assert.equal(typeof compaction.compactionID, 'number');
    const state = ok(await s.post('collections/get_compaction_state', { jobID: compaction.compactionID })).data;
    assert.match(state.state, /^(Executing|Completed|UndefiedState)$/);
    ok(await s.post('collections/drop', { collectionName: renamed }));
    assert.deepEqual(ok(await s.post('collections/has', { collectionName: renamed })).data, { has: false });
  });
});

describe('databases, partitions, aliases, indexes', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => s.close());

  it('lists and describes the default database', async () => {
    assert.deepEqual(ok(await s.post('databases/list', {})).data, ['default']);
    const d = ok(await s.post('databases/describe', { dbName: 'default' })).data;
    assert.equal(d.dbName, 'default');
    assert.ok(Array.isArray(d.properties));
    fails(await s.post('databases/create', { dbName: 'other' }), 1100, /single database/);
    const bad = await s.post('collections/list', { dbName: 'other' });
    assert.equal(bad.body.code, 800, bad.text);
  });

  it('manages partitions', async () => {
    const name = uniqueName('parts');
    ok(await s.post('collections/create', { collectionName: name, dimension: 4 }));
    ok(await s.post('partitions/create', { collectionName: name, partitionName: 'p1' }));
    assert.deepEqual(ok(await s.post('partitions/list', { collectionName: name })).data.sort(), ['_default', 'p1']);
    assert.deepEqual(ok(await s.post('partitions/has', { collectionName: name, partitionName: 'p1' })).data, { has: true });
    assert.deepEqual(ok(await s.post('partitions/has', { collectionName: name, partitionName: 'p2' })).data, { has: false });
    ok(await s.post('entities/insert', { collectionName: name, partitionName: 'p1', data: [{ id: 1, vector: [1, 0, 0, 0] }] }));
    ok(await s.post('partitions/load', { collectionName: name, partitionNames: ['p1'] }));
    fails(await s.post('partitions/load', { collectionName: name }), 1802);
    fails(await s.post('partitions/create', { collectionName: name, partitionName: '1bad' }), 1100, /Invalid partition name/);
    ok(await s.post('partitions/release', { collectionName: name, partitionNames: ['p1'] }));
    ok(await s.post('partitions/drop', { collectionName: name, partitionName: 'p1' }));
    assert.deepEqual(ok(await s.post('partitions/list', { collectionName: name })).data, ['_default']);
  });

  it('manages aliases and resolves them in entity calls', async () => {
    const a = uniqueName('alias_target_a');
    const b = uniqueName('alias_target_b');
    const alias = uniqueName('al');
    ok(await s.post('collections/create', { collectionName: a, dimension: 2, params: { consistencyLevel: 'Strong' } }));
    ok(await s.post('collections/create', { collectionName: b, dimension: 2, params: { consistencyLevel: 'Strong' } }));
    ok(await s.post('aliases/create', { collectionName: a, aliasName: alias }));
    assert.deepEqual(ok(await s.post('aliases/describe', { aliasName: alias })).data, { aliasName: alias, collectionName: a, dbName: 'default' });
    assert.deepEqual(ok(await s.post('aliases/list', { collectionName: a })).data, [alias]);
    assert.ok(ok(await s.post('aliases/list', {})).data.includes(alias));
    ok(await s.post('entities/insert', { collectionName: alias, data: [{ id: 1, vector: [1, 0] }] }));
    assert.equal(ok(await s.post('entities/query', { collectionName: a, filter: 'id == 1' })).data.length, 1);
    ok(await s.post('aliases/alter', { collectionName: b, aliasName: alias }));
    assert.equal(ok(await s.post('aliases/describe', { aliasName: alias })).data.collectionName, b);
    ok(await s.post('aliases/drop', { aliasName: alias }));
    const gone = await s.post('aliases/describe', { aliasName: alias });
    assert.notEqual(gone.body.code, 0, gone.text);
  });

  it('creates, describes, lists and drops indexes', async () => {
    const name = uniqueName('idx');
    const body = fullSchema(name);
    ok(await s.post('collections/create', { ...body, indexParams: undefined }));
    assert.deepEqual(ok(await s.post('indexes/list', { collectionName: name })).data, []);
    fails(await s.post('indexes/create', { collectionName: name, indexParams: [{ fieldName: 'book_intro', indexType: 'IVF_FLAT', metricType: 'L2' }] }), 1100, /IVF_FLAT/);
    fails(
      await s.post('indexes/create', { collectionName: name, indexParams: [{ fieldName: 'nope', metricType: 'L2' }] }),
      1802,
      "missing required parameters, error: `nope` hasn't defined in schema",
    );
    ok(
      await s.post('indexes/create', {
        collectionName: name,
        indexParams: [{ fieldName: 'book_intro', indexName: 'vi', metricType: 'IP', params: { index_type: 'HNSW', M: '8', quantization: 'f16' } }],
      }),
    );
    assert.deepEqual(ok(await s.post('indexes/list', { collectionName: name })).data, ['vi']);
    const d = ok(await s.post('indexes/describe', { collectionName: name, indexName: 'vi' })).data;
    assert.equal(d.length, 1);
    assert.equal(d[0].indexName, 'vi');
    assert.equal(d[0].fieldName, 'book_intro');
    assert.equal(d[0].indexType, 'HNSW');
    assert.equal(d[0].metricType, 'IP');
    assert.match(d[0].indexState, /^(Finished|InProgress)$/);
    assert.deepEqual(d[0].indexParams.slice(0, 2), [
      { key: 'metric_type', value: 'IP' },
      { key: 'index_type', value: 'HNSW' },
    ]);
    ok(await s.post('collections/load', { collectionName: name }));
    ok(await s.post('collections/release', { collectionName: name }));
    ok(await s.post('indexes/drop', { collectionName: name, indexName: 'vi' }));
    assert.deepEqual(ok(await s.post('indexes/list', { collectionName: name })).data, []);
  });
});

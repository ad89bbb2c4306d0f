import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rawElements, rawMembers } from '../../lib/aws/raw-json.ts';
import { reduceCount, reduceGet, reduceQuery, reduceSearch } from '../../lib/aws/reduce-results.ts';

const pk = { name: 'id', int64: true };
const answer = (rows: string[], topks?: number[]) => `{"code":0,"cost":0,"data":[${rows.join(',')}]${topks ? `,"topks":[${topks.join(',')}]` : ''}}`;
const hit = (id: number | string, distance: number) => `{"id":${typeof id === 'string' ? `"${id}"` : id},"distance":${distance}}`;

describe('raw JSON splitting', () => {
  it('keeps members and elements verbatim, strings and nesting included', () => {
    const members = rawMembers('{ "code" : 0, "data": [ {"a":"x,]}\\"","v":[1.5,2]} , 12345678901234567890 ], "topks":[1] }');
    assert.equal(members.get('code'), '0', 'scalar member');
    assert.deepEqual(rawElements(members.get('data')!), ['{"a":"x,]}\\"","v":[1.5,2]}', '12345678901234567890'], 'elements keep their text');
    assert.deepEqual(rawElements('[]'), [], 'empty array');
  });
});

describe('reduce of search answers', () => {
  it('merges per query vector by distance (L2: lower first), then applies offset and limit', () => {
    // Two query vectors; each node sent its best offset+limit = 3 per vector.
    const a = answer([hit(1, 0.1), hit(2, 0.5), hit(3, 0.9), hit(10, 0.2), hit(11, 0.3)], [3, 2]);
    const b = answer([hit(4, 0.2), hit(5, 0.3), hit(6, 0.4), hit(12, 0.1)], [3, 1]);
    const out = JSON.parse(reduceSearch([a, b], { pk, metric: 'L2', offset: 1, limit: 2 }));
    assert.deepEqual(
      out.data.map((h: { id: number }) => h.id),
      [4, 5, 10, 11],
      'offset 1, limit 2 per vector, flattened',
    );
    assert.deepEqual(out.topks, [2, 2], 'topks per vector');
  });

  it('ranks higher first for IP and COSINE, and keeps one hit per key', () => {
    const a = answer([hit(1, 0.9), hit(2, 0.5)], [2]);
    const b = answer([hit(2, 0.7), hit(3, 0.6)], [2]);
    const out = JSON.parse(reduceSearch([a, b], { pk, metric: 'COSINE', offset: 0, limit: 10 }));
    assert.deepEqual(
      out.data.map((h: { id: number; distance: number }) => [h.id, h.distance]),
      [
        [1, 0.9],
        [2, 0.7],
        [3, 0.6],
      ],
      'descending, key 2 once',
    );
    assert.deepEqual(out.topks, [3], 'topks counts the kept hits');
  });

  it('moves rows verbatim: Int64 beyond 2^53 and float texts are not re-encoded', () => {
    const big = '{"id":9007199254740993,"distance":0.30000001,"tag":"a"}';
    const out = reduceSearch([answer([big], [1]), answer([], [0])], { pk, metric: 'L2', offset: 0, limit: 5 });
    assert.equal(out, `{"code":0,"cost":0,"data":[${big}],"topks":[1]}`, 'the row text is unchanged');
  });
});

describe('reduce of query and get answers', () => {
  it('query: merges by primary key and applies offset and limit', () => {
    const a = answer(['{"id":1}', '{"id":4}', '{"id":5}']);
    const b = answer(['{"id":2}', '{"id":3}', '{"id":9}']);
    assert.equal(reduceQuery([a, b], { pk, offset: 2, limit: 3 }), '{"code":0,"cost":0,"data":[{"id":3},{"id":4},{"id":5}]}', 'rows 3..5 by key');
    assert.equal(JSON.parse(reduceQuery([a, b], { pk, offset: 0, limit: undefined })).data.length, 6, 'no limit: every row');
  });

  it('query: Int64 keys sent as strings compare as integers, VarChar keys by UTF-8 bytes', () => {
    const a = answer(['{"id":"10"}', '{"id":"9"}'].reverse());
    assert.deepEqual(
      JSON.parse(reduceQuery([a, answer(['{"id":"100"}'])], { pk, offset: 0, limit: 10 })).data.map((r: { id: string }) => r.id),
      ['9', '10', '100'],
      'integer order',
    );
    const v = { name: 'id', int64: false };
    assert.deepEqual(
      JSON.parse(reduceQuery([a, answer(['{"id":"100"}'])], { pk: v, offset: 0, limit: 10 })).data.map((r: { id: string }) => r.id),
      ['10', '100', '9'],
      'string order',
    );
    // As the engine orders its own pages: by UTF-8 bytes (U+FFFF before an astral character).
    const astral = answer(['{"id":"\\ud83d\\ude00"}', '{"id":"\\uffff"}']);
    assert.deepEqual(
      JSON.parse(reduceQuery([astral, answer(['{"id":"z"}'])], { pk: v, offset: 0, limit: 10 })).data.map((r: { id: string }) => r.id),
      ['z', '\uffff', '\u{1F600}'],
      'byte order',
    );
  });

  it('count(*): sums the counts, in the form the nodes wrote them', () => {
    assert.equal(reduceCount([answer(['{"count(*)":3}']), answer(['{"count(*)":4}'])]), '{"code":0,"cost":0,"data":[{"count(*)":7}]}', 'numbers');
    assert.equal(reduceCount([answer(['{"count(*)":"3"}']), answer(['{"count(*)":"4"}'])]), '{"code":0,"cost":0,"data":[{"count(*)":"7"}]}', 'decimal strings');
  });

  it('get: the union of the rows, in the order of the requested ids', () => {
    const a = answer(['{"id":3,"v":1}', '{"id":1,"v":2}']);
    const b = answer(['{"id":2,"v":3}']);
    const out = JSON.parse(reduceGet([a, b], { pk, ids: [2, 1, 7, 3, 2] }));
    assert.deepEqual(
      out.data.map((r: { id: number }) => r.id),
      [2, 1, 3],
      'request order, missing ids absent',
    );
  });
});

/**
 * Filter semantics row by row: every construct evaluated over a small in-memory segment, null and
 * three-valued logic, JSON/dynamic/array values, templates, plus guards against pathological compile
 * and evaluation times.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFilter } from '../../lib/engine/filter/compile-filter.ts';
import type { RowSource } from '../../lib/engine/schema/row-source.ts';
import type { CollectionSchema, Value } from '../../lib/engine/schema/types.ts';
import { field } from '../support/data.ts';
import { FILTER_SCHEMA } from '../support/filter-schema.ts';

/** A segment held as plain column arrays: the smallest real RowSource. */
class ArrayRowSource implements RowSource {
  readonly rowCount: number;

  constructor(
    private readonly columns: Record<string, Value[]>,
    private readonly meta: Array<Record<string, unknown> | null>,
  ) {
    this.rowCount = meta.length;
  }

  column(fieldName: string): (offset: number) => Value {
    const col = this.columns[fieldName];
    if (!col) throw new Error(`no column ${fieldName}`);
    return (offset) => col[offset] ?? null;
  }

  dynamic(): (offset: number) => Record<string, unknown> | null {
    const meta = this.meta;
    return (offset) => meta[offset] ?? null;
  }
}

const SCHEMA = FILTER_SCHEMA;

const BIG = 446744073709551615n;
const ABOVE_2_53 = 9007199254740993n; // 2^53 + 1: not representable as a JS number

// Six rows; expectations below are row offsets.
const SEGMENT = new ArrayRowSource(
  {
    id: [1n, 2n, 3n, BIG, 5n, 6n],
    name: ['apple', 'banana', 'cherry', 'date%', '', 'Apple pie'],
    i8: [10, -5, 127, 0, 1, 2],
    f: [1.5, 2.25, Math.fround(0.1), -1, 3, 4],
    d: [0.1, 0.2, 1e10, -0.5, 3, 4],
    b: [true, false, true, false, true, false],
    n: [5, null, 0, 100, -7, 42],
    j: [
      { a: 1, s: 'xa', arr: [1, 2, 3], nested: { k: 'v' } },
      { a: 2.5, s: 'yb', arr: [4] },
      { a: 'str', arr: ['x', 1] },
      null,
      { a: ABOVE_2_53, b: true, l: [1, [2, 3]] },
      { a: -1, s: 'xyz', constructor: 'c' },
    ],
    ai: [[1n, 2n, 3n], [4n], [], [1n, 1n], [ABOVE_2_53], [2n, 3n]],
    as: [['x', 'y'], ['z'], [], ['x_y'], ['ab\ncd'], ['y', 'x']],
  },
  [{ color: 'red', size: 10 }, { color: 'blue' }, null, { color: 'red', size: 3.5 }, { size: 10n }, { color: 'red', tags: ['a', 'b'] }],
);

/** Offsets of the rows the filter keeps. */
function rows(expr: string, params?: Record<string, unknown>, schema: CollectionSchema = SCHEMA, src: RowSource = SEGMENT): number[] {
  const pred = compileFilter(expr, schema, params).bind(src);
  const out: number[] = [];
  for (let i = 0; i < src.rowCount; i++) if (pred(i)) out.push(i);
  return out;
}

function expectRows(cases: Array<[string, number[]]>, params?: Record<string, unknown>): void {
  for (const [expr, expected] of cases) assert.deepEqual(rows(expr, params), expected, expr);
}

describe('filter evaluation: scalar comparisons', () => {
  it('compares Int64 exactly, including values above 2^53', () => {
    expectRows([
      ['id > 2', [2, 3, 4, 5]],
      ['id == 446744073709551615', [3]],
      ['id == 446744073709551614', []],
      ['id >= 446744073709551615', [3]],
      ['2 < id', [2, 3, 4, 5]],
      ['id != 1', [1, 2, 3, 4, 5]],
    ]);
  });

  it('treats constants beyond a small int type range as ordinary numbers (no error, no match on ==)', () => {
    expectRows([
      ['i8 == 300', []],
      ['i8 < 300', [0, 1, 2, 3, 4, 5]],
      ['i8 > -300', [0, 1, 2, 3, 4, 5]],
      ['i8 != 300', [0, 1, 2, 3, 4, 5]],
      ['i8 >= 10', [0, 2]],
    ]);
  });

  it('compares Float as float32 and Double exactly', () => {
    expectRows([
      ['f == 0.1', [2]],
      ['f > 2', [1, 4, 5]],
      ['f <= 1.5', [0, 2, 3]],
      ['f == 3', [4]],
      ['d == 0.1', [0]],
      ['d < 0', [3]],
      ['d == 1e10', [2]],
      ['d == -0x1p-1', [3]],
    ]);
  });

  it('compares VarChar and Bool strictly, with every boolean spelling', () => {
    expectRows([
      ['name == "apple"', [0]],
      ["name == 'apple'", [0]],
      ['name == u8"apple"', [0]],
      ['name == "\\x61pple"', [0]],
      ['name == "\\u0061pple"', [0]],
      ['name > "c"', [2, 3]],
      ['name == ""', [4]],
      ['b == true', [0, 2, 4]],
      ['b == True', [0, 2, 4]],
      ['b != TRUE', [1, 3, 5]],
      ['b == False', [1, 3, 5]],
      ['b != false', [0, 2, 4]],
    ]);
  });

  it('accepts hex, octal and binary integer literals', () => {
    expectRows([
      ['i8 == 0xA', [0]],
      ['i8 == 012', [0]],
      ['i8 == 0b1010', [0]],
      ['i8 == 0x7f', [2]],
    ]);
  });

  it('folds constant sub-expressions', () => {
    expectRows([
      ['1 == 1', [0, 1, 2, 3, 4, 5]],
      ['1 > 2', []],
      ['(1 < 2) and (2 < 3)', [0, 1, 2, 3, 4, 5]],
      ['not (1 == 1)', []],
      ['d > 2 ** 3', [2]],
      ['i8 > 1 + 2', [0, 2]],
      ['i8 == -(-5) * -1', [1]],
      ['i8 > 7 / 2', [0, 2]],
      ['id in [1, 2 + 1]', [0, 2]],
    ]);
  });

  it('compares two fields of comparable types, mixing Int64/Int8/Float/Double', () => {
    expectRows([
      ['d < f', [0, 1]],
      ['n > i8', [3, 5]],
      ['id > i8', [1, 3, 4, 5]],
      ['i8 == n', []],
      ['f == d', [4, 5]],
      ['i8 <= id', [1, 3, 4, 5]],
    ]);
  });
});

describe('filter evaluation: ranges, in, like, arithmetic', () => {
  it('evaluates chained ranges in both directions', () => {
    expectRows([
      ['1 < i8 <= 10', [0, 5]],
      ['10 >= i8 > 1', [0, 5]],
      ['-10 < i8 < 1', [1, 3]],
      ['0 <= i8 <= 0', [3]],
      ['"b" <= name < "d"', [1, 2]],
      ['0.0 < f < 2', [0, 2]],
      ['1 <= j["a"] < 3', [0, 1]],
      ['"x" < j["s"] < "y"', [0, 5]],
      ['not (1 < n < 50)', [2, 3, 4]],
    ]);
  });

  it('evaluates in / not in on every type', () => {
    expectRows([
      ['id in [1, 3]', [0, 2]],
      ['id not in [1, 3]', [1, 3, 4, 5]],
      ['id IN [446744073709551615]', [3]],
      ['id NOT IN [446744073709551615, 1]', [1, 2, 4, 5]],
      ['name in ["apple", "cherry"]', [0, 2]],
      ['n in [5, 100]', [0, 3]],
      ['n not in [5]', [2, 3, 4, 5]],
      ['f in [0.1, 4]', [2, 5]],
      ['d in [0.1, 3.0]', [0, 4]],
      ['b in [false]', [1, 3, 5]],
      ['i8 in []', []],
      ['i8 not in []', [0, 1, 2, 3, 4, 5]],
      ['n not in []', [0, 2, 3, 4, 5]],
      ['j["a"] in [1, "str"]', [0, 2]],
      ['j["a"] in [9007199254740993]', [4]],
      ['j["a"] in [9007199254740992]', []],
      ['j["arr"] in [[4], [9]]', [1]],
      ['j["a"] not in [1, "str"]', [1, 4, 5]],
    ]);
  });

  it('merges or-ed equalities into one membership test without changing results', () => {
    expectRows([
      ['id == 1 or id == 3 or name == "banana"', [0, 1, 2]],
      ['i8 != 10 and i8 != 127 and i8 != 0', [1, 4, 5]],
      ['n == 5 or n in [100, 7] or n == 42', [0, 3, 5]],
    ]);
  });

  it('evaluates like with prefix, suffix, inner, exact, wildcard and escaped patterns', () => {
    expectRows([
      ['name like "a%"', [0]],
      ['name LIKE "A%"', [5]],
      ['name like "%e"', [0, 5]],
      ['name like "%an%"', [1]],
      ['name like "apple"', [0]],
      ['name like "_pple"', [0]],
      ['name like "a_p%"', [0]],
      ['name like "%p_e%"', [0, 5]],
      ['name like "%"', [0, 1, 2, 3, 4, 5]],
      ['name like ""', [4]],
      ['name like "date\\%"', [3]],
      ['name like "date\\\\%"', [3]],
      ['name like "%\\%"', [3]],
      ['as[0] like "x\\_%"', [3]],
      ['as[0] like "x_%"', [3]],
      ['as[0] like "x%"', [0, 3]],
      ['as[0] like "x\\_"', []],
      ['name like "date_"', [3]],
      ['as[0] like "ab_cd"', [4]],
      ['j["s"] like "x%"', [0, 5]],
      ['color like "r%"', [0, 3, 5]],
      ['not (name like "a%")', [1, 2, 3, 4, 5]],
    ]);
  });

  it('evaluates `field op const cmp const` arithmetic with integer semantics for integer fields', () => {
    expectRows([
      ['i8 % 2 == 0', [0, 3, 5]],
      ['i8 % 2 != 0', [1, 2, 4]],
      ['i8 % 2 == -1', [1]],
      ['i8 * 2 > 10', [0, 2]],
      ['2 * i8 == 20', [0]],
      ['i8 + 1 >= 3', [0, 2, 5]],
      ['id / 2 == 1', [1, 2]],
      ['id - 1 == 446744073709551614', [3]],
      ['id % 1000 == 615', [3]],
      ['n + 1 == 1', [2]],
      ['not (n - 1 == 4)', [2, 3, 4, 5]],
      ['d * 2 > 1', [2, 4, 5]],
      ['f / 2 == 0.75', [0]],
      ['j["a"] + 1 == 2', [0]],
      ['j["a"] * 2.0 == 5.0', [1]],
      ['j["a"] - 1 == 9007199254740992', [4]],
      ['size % 3 == 1', [0, 4]],
      ['i8 * 4000000 == 40000000', [0]],
    ]);
  });
});

describe('filter evaluation: nulls and three-valued logic', () => {
  it('makes any comparison with null false, != included', () => {
    expectRows([
      ['n > 0', [0, 3, 5]],
      ['n < 1', [2, 4]],
      ['n != 5', [2, 3, 4, 5]],
      ['n == 5 or n is null', [0, 1]],
    ]);
  });

  it('evaluates is null / is not null exactly in both spellings', () => {
    expectRows([
      ['n is null', [1]],
      ['n IS NULL', [1]],
      ['n is not null', [0, 2, 3, 4, 5]],
      ['n IS NOT NULL', [0, 2, 3, 4, 5]],
      ['j is null', [3]],
      ['id is null', []],
      ['ai is not null', [0, 1, 2, 3, 4, 5]],
    ]);
  });

  it('keeps unknown rows out under not, in every spelling', () => {
    expectRows([
      ['not (n > 0)', [2, 4]],
      ['!(n > 0)', [2, 4]],
      ['NOT (n > 0)', [2, 4]],
      ['not (n > 0 or n < 0)', [2]],
      // Kleene: for row 1 `n > 0` is unknown but `i8 > 5` is false, so the and is false and its negation true.
      ['not (n > 0 and i8 > 5)', [1, 2, 3, 4, 5]],
      ['not (n is null)', [0, 2, 3, 4, 5]],
      ['not not (n > 0)', [0, 3, 5]],
      ['not (id == 1)', [1, 2, 3, 4, 5]],
    ]);
  });
});

describe('filter evaluation: JSON, dynamic fields and arrays', () => {
  it('compares JSON paths with dynamic types, mismatches being false', () => {
    expectRows([
      ['j["a"] == 1', [0]],
      ['j["a"] > 1', [1, 4]],
      ['j["a"] != 1', [1, 4, 5]],
      ['j["a"] == 9007199254740993', [4]],
      ['j["a"] == 9007199254740992', []],
      ['j["a"] == "str"', [2]],
      ['j["a"] < "z"', [2]],
      ['j["nested"]["k"] == "v"', [0]],
      ['j["arr"][0] == 1', [0]],
      ['j["arr"]["0"] == 1', [0]],
      ['j["arr"][1] == 1', [2]],
      ['j["arr"] == [4]', [1]],
      ['j["arr"] != [4]', [0, 2]],
      ['j["b"] == true', [4]],
      ['j["b"] != false', [4]],
      ['j["constructor"] == "c"', [5]],
      ['j["toString"] is null', [0, 1, 2, 3, 4, 5]],
      ["j['missing'] == 1", []],
    ]);
  });

  it('evaluates exists and is null on JSON keys', () => {
    expectRows([
      ['exists j["s"]', [0, 1, 5]],
      ['EXISTS j["arr"][0]', [0, 1, 2]],
      ['j["s"] is null', [2, 3, 4]],
      ['j["s"] is not null', [0, 1, 5]],
      ['not exists j["s"]', [2, 3, 4]],
      ['exists j["hasOwnProperty"]', []],
    ]);
  });

  it('resolves unknown names to the dynamic field, missing keys behaving as null', () => {
    expectRows([
      ['color == "red"', [0, 3, 5]],
      ['$meta["color"] == "red"', [0, 3, 5]],
      ['color != "red"', [1]],
      ['not (color == "red")', [1]],
      ['size > 5', [0, 4]],
      ['size == 10', [0, 4]],
      ['size in [10, 3.5]', [0, 3, 4]],
      ['exists size', [0, 3, 4]],
      ['exists $meta["size"]', [0, 3, 4]],
      ['size is null', [1, 2, 5]],
      ['tags[0] == "a"', [5]],
      ['color == "red" and size > 5', [0]],
    ]);
  });

  it('evaluates json_contains / _all / _any on JSON arrays', () => {
    expectRows([
      ['json_contains(j["arr"], 1)', [0, 2]],
      ['JSON_CONTAINS(j["arr"], "x")', [2]],
      ['json_contains(j["l"], [2, 3])', [4]],
      ['json_contains_all(j["arr"], [1, 2])', [0]],
      ['json_contains_all(j["arr"], [1, 1, 2])', [0]],
      ['JSON_CONTAINS_ALL(j["arr"], [])', [0, 1, 2]],
      ['json_contains_any(j["arr"], [4, "x"])', [1, 2]],
      ['json_contains_any(j["arr"], [])', []],
      ['json_contains(tags, "a")', [5]],
      ['array_contains(j["arr"], 4)', [1]],
      ['not json_contains(j["arr"], 1)', [1]],
    ]);
  });

  it('evaluates array_contains / _all / _any, indexing and array_length on Array fields', () => {
    expectRows([
      ['array_contains(ai, 1)', [0, 3]],
      ['ARRAY_CONTAINS(ai, 9007199254740993)', [4]],
      ['array_contains_all(ai, [2, 3])', [0, 5]],
      ['array_contains_all(ai, [3, 2, 2])', [0, 5]],
      ['array_contains_all(ai, [1, 1.5])', []],
      ['array_contains_all(ai, [])', [0, 1, 2, 3, 4, 5]],
      ['array_contains_any(ai, [4, 9007199254740993])', [1, 4]],
      ['array_contains_any(ai, [4.0, 2.5])', [1]],
      ['array_contains_any(ai, [])', []],
      ['ARRAY_CONTAINS(as, "x")', [0, 5]],
      ['array_contains_any(as, ["z", "x_y"])', [1, 3]],
      ['json_contains(as, "y")', [0, 5]],
      ['not array_contains(ai, 1)', [1, 2, 4, 5]],
      ['array_length(ai) == 0', [2]],
      ['array_length(ai) >= 2', [0, 3, 5]],
      ['ARRAY_LENGTH(as) != 1', [0, 2, 5]],
      ['array_length(j["arr"]) == 1', [1]],
      ['array_length(tags) == 2', [5]],
      ['ai[0] == 1', [0, 3]],
      ['ai[0] > 1', [1, 4, 5]],
      ['as[1] == "y"', [0]],
      ['ai[5] == 1', []],
      ['not (ai[0] == 1)', [1, 4, 5]],
      ['ai[0] in [2, 4]', [1, 5]],
      ['1 < ai[1] < 3', [0]],
    ]);
  });
});

describe('filter evaluation: binding', () => {
  it('binds one compiled filter to several segments independently', () => {
    const cf = compileFilter('id in [1, 2, 3] and (name like "a%" or array_contains_all(ai, [1, 2]))', SCHEMA);
    const other = new ArrayRowSource({ id: [3n, 2n, 9n], name: ['avocado', 'kiwi', 'apricot'], ai: [[], [2n, 1n], [1n, 2n]] }, [null, null, null]);
    const a = cf.bind(SEGMENT);
    const b = cf.bind(other);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].filter((i) => a(i)),
      [0],
    );
    assert.deepEqual(
      [0, 1, 2].filter((i) => b(i)),
      [0, 1],
    );
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].filter((i) => a(i)),
      [0],
      'binds do not share per-row state',
    );
  });

  it('reads only the columns it needs', () => {
    const seen: string[] = [];
    const src: RowSource = {
      rowCount: SEGMENT.rowCount,
      column: (name) => {
        seen.push(name);
        return SEGMENT.column(name);
      },
      dynamic: () => {
        seen.push('$meta');
        return SEGMENT.dynamic();
      },
    };
    const cf = compileFilter('i8 > 1 and color == "red" and i8 < 100', SCHEMA);
    assert.deepEqual([0, 1, 2, 3, 4, 5].filter(cf.bind(src)), [0, 5]);
    assert.deepEqual(seen.sort(), ['$meta', 'i8']);
    assert.deepEqual([...cf.fields].sort(), ['$meta', 'i8']);
  });
});

describe('filter evaluation: logic, functions and templates', () => {
  it('accepts every spelling of and / or', () => {
    for (const op of ['and', 'AND', '&&']) assert.deepEqual(rows(`b == true ${op} i8 > 5`), [0, 2], op);
    for (const op of ['or', 'OR', '||']) assert.deepEqual(rows(`id == 1 ${op} id == 2`), [0, 1], op);
    assert.deepEqual(rows('(id == 1 or id == 2) and b == false'), [1]);
    assert.deepEqual(rows('id == 1 or id == 2 and b == false'), [0, 1]);
  });

  it('evaluates empty() and starts_with()', () => {
    expectRows([
      ['empty(name)', [4]],
      ['starts_with(name, "ch")', [2]],
      ['STARTS_WITH(name, "")', [0, 1, 2, 3, 4, 5]],
    ]);
  });

  it('substitutes templates everywhere a constant may appear', () => {
    const params = {
      x: 5,
      ids: [1, 3],
      s: 'banana',
      p: 2,
      lo: -10,
      hi: 1,
      v: 1,
      big: BIG,
      bigs: ['c', 'd'],
      fl: 0.15,
      m: 2,
      r: 0,
      tags: ['a'],
      lossless: { isLosslessNumber: true, value: '446744073709551615' },
    };
    expectRows(
      [
        ['i8 > {x}', [0, 2]],
        ['id in {ids}', [0, 2]],
        ['id not in {ids}', [1, 3, 4, 5]],
        ['name == {s}', [1]],
        ['f > {p}', [1, 4, 5]],
        ['d > {fl}', [1, 2, 4, 5]],
        ['{lo} < i8 < {hi}', [1, 3]],
        ['json_contains(j["arr"], {v})', [0, 2]],
        ['json_contains_any(tags, {tags})', [5]],
        ['id == {big}', [3]],
        ['id == {lossless}', [3]],
        ['i8 % {m} == {r}', [0, 3, 5]],
        ['array_length(ai) == {r}', [2]],
      ],
      params,
    );
  });
});

describe('filter performance guards', () => {
  it('compiles a 10,000-element pk in-list and binds it to a Set lookup', (t) => {
    const schema: CollectionSchema = { enableDynamicField: false, fields: [field(100, 'id', 'Int64', { isPrimary: true })] };
    const keys = Array.from({ length: 10_000 }, (_, i) => 1_000_000_000_000n + BigInt(i) * 7n);
    const expr = `id in [${keys.join(', ')}]`;
    compileFilter('id in [1, 2] and id > 0', schema); // warm the parser
    const times: number[] = [];
    let cf = compileFilter(expr, schema);
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      cf = compileFilter(expr, schema);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    t.diagnostic(`10k-element in: compile ${times[0]!.toFixed(1)}-${times[times.length - 1]!.toFixed(1)} ms (median ${times[2]!.toFixed(1)} ms)`);
    assert.equal(cf.primaryKeys?.length, 10_000);
    assert.equal(cf.primaryKeys?.[9_999], keys[9_999]);
    const src = new ArrayRowSource({ id: [keys[5]!, 1n, keys[9_999]!] }, [null, null, null]);
    assert.deepEqual(rows(expr, undefined, schema, src), [0, 2]);
  });

  it('evaluates `a > 10 and b like "x%"` over 1M rows', (t) => {
    const schema: CollectionSchema = {
      enableDynamicField: false,
      fields: [field(100, 'id', 'Int64', { isPrimary: true }), field(101, 'a', 'Int32'), field(102, 'b', 'VarChar')],
    };
    const count = 1_000_000;
    const a: Value[] = new Array(count);
    const b: Value[] = new Array(count);
    for (let i = 0; i < count; i++) {
      a[i] = i % 100;
      b[i] = `${i % 3 === 0 ? 'x' : 'y'}${i}`;
    }
    const src = new ArrayRowSource({ a, b }, new Array(count).fill(null));
    const pred = compileFilter('a > 10 and b like "x%"', schema).bind(src);
    let best = Infinity;
    let matched = 0;
    for (let r = 0; r < 3; r++) {
      matched = 0;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) if (pred(i)) matched++;
      best = Math.min(best, performance.now() - t0);
    }
    let expected = 0;
    for (let i = 0; i < count; i++) if (i % 100 > 10 && i % 3 === 0) expected++;
    assert.equal(matched, expected);
    t.diagnostic(`a > 10 and b like "x%": ${(count / best / 1000).toFixed(1)} M rows/s (best of 3, ${best.toFixed(1)} ms per 1M rows)`);
  });

  it('compiles a 10,000-term `or` chain of pk equalities', (t) => {
    const schema: CollectionSchema = { enableDynamicField: false, fields: [field(100, 'id', 'Int64', { isPrimary: true })] };
    const expr = Array.from({ length: 10_000 }, (_, i) => `id == ${i}`).join(' or ');
    const t0 = performance.now();
    const cf = compileFilter(expr, schema);
    const ms = performance.now() - t0;
    t.diagnostic(`10k-term or chain: compile ${ms.toFixed(1)} ms`);
    assert.equal(cf.primaryKeys?.length, 10_000);
    const src = new ArrayRowSource({ id: [5n, 10_000n, 9_999n] }, [null, null, null]);
    assert.deepEqual(rows(expr, undefined, schema, src), [0, 2]);
  });
});

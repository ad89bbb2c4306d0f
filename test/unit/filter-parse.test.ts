/**
 * Filter language front-end: grammar shapes and precedence, compile-time type errors (code 1100 with a
 * specific reason and position), template handling, primary-key extraction and the fields list.
 * Row-level semantics live in filter-eval.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { milvusCode } from '../../lib/api/error-codes.ts';
import { InvalidParameterError } from '../../lib/engine/errors.ts';
import { compileFilter } from '../../lib/engine/filter/compile-filter.ts';
import type { Expr } from '../../lib/engine/filter/filter-ast.ts';
import { parseFilter } from '../../lib/engine/filter/filter-grammar.ts';
import { GENERATED_PARSER_PATH, generateFilterParserSource } from '../../scripts/generate-filter-parser.ts';
import type { CollectionSchema } from '../../lib/engine/schema/types.ts';
import { field } from '../support/data.ts';
import { FILTER_SCHEMA } from '../support/filter-schema.ts';

const SCHEMA = FILTER_SCHEMA;

const STRICT: CollectionSchema = { ...SCHEMA, enableDynamicField: false };

const VARCHAR_PK: CollectionSchema = {
  enableDynamicField: false,
  fields: [field(100, 'pk', 'VarChar', { isPrimary: true, maxLength: 32 }), field(101, 'x', 'Int64')],
};

/** The AST without spans, bigints rendered as `123n`, for compact shape assertions. */
function shape(expr: string): unknown {
  return JSON.parse(
    JSON.stringify(parseFilter(expr), (k, v: unknown) => {
      if (k === 'start' || k === 'end') return undefined;
      return typeof v === 'bigint' ? `${v}n` : v;
    }),
  );
}

const f = (name: string, keys: unknown[] = []): unknown => ({ kind: 'field', name, keys });
const int = (v: number | string): unknown => ({ kind: 'int', value: `${v}n` });

/** Asserts that compiling fails with code 1100 and a message containing every fragment. */
function rejects(expr: string, fragments: string[], schema: CollectionSchema = SCHEMA, params?: Record<string, unknown>): void {
  assert.throws(
    () => compileFilter(expr, schema, params),
    (err: unknown) => {
      assert.ok(err instanceof InvalidParameterError, `expected InvalidParameterError for ${expr}`);
      assert.equal(milvusCode(err), 1100);
      assert.match(err.message, /^failed to create query plan: /);
      assert.match(err.message, /: invalid parameter$/);
      for (const frag of fragments) assert.ok(err.message.includes(frag), `"${err.message}" should contain "${frag}"`);
      return true;
    },
  );
}

describe('filter grammar', () => {
  it('parses literals of every form', () => {
    assert.deepEqual(shape('0x1F'), int(31));
    assert.deepEqual(shape('0X1f'), int(31));
    assert.deepEqual(shape('017'), int(15));
    assert.deepEqual(shape('0b101'), int(5));
    assert.deepEqual(shape('0'), int(0));
    assert.deepEqual(shape('1.5e3'), { kind: 'float', value: 1500 });
    assert.deepEqual(shape('.25'), { kind: 'float', value: 0.25 });
    assert.deepEqual(shape('2.'), { kind: 'float', value: 2 });
    assert.deepEqual(shape('1E-2'), { kind: 'float', value: 0.01 });
    assert.deepEqual(shape('0x1.8p1'), { kind: 'float', value: 3 });
    for (const t of ['true', 'True', 'TRUE']) assert.deepEqual(shape(t), { kind: 'bool', value: true });
    for (const t of ['false', 'False', 'FALSE']) assert.deepEqual(shape(t), { kind: 'bool', value: false });
  });

  it('keeps integer literals beyond 2^53 exact', () => {
    const e = parseFilter('446744073709551615');
    assert.equal(e.kind, 'int');
    assert.equal((e as Extract<Expr, { kind: 'int' }>).value, 446744073709551615n);
    const e2 = parseFilter('9007199254740993') as Extract<Expr, { kind: 'int' }>;
    assert.equal(e2.value, 9007199254740993n);
  });

  it('decodes string literals with C escapes, both quotes and encoding prefixes', () => {
    const str = (s: string): unknown => (parseFilter(s) as Extract<Expr, { kind: 'string' }>).value;
    assert.equal(str('"a\\nb\\t\\"q\\\\"'), 'a\nb\t"q\\');
    assert.equal(str("'it\\'s'"), "it's");
    assert.equal(str('"\\x41\\u00e9\\U0001F600\\101"'), 'Aé😀A');
    assert.equal(str('u8"x"'), 'x');
    assert.equal(str("L'y'"), 'y');
    assert.equal(str('""'), '');
    // LIKE escapes survive decoding.
    assert.equal(str('"50\\%"'), '50\\%');
    assert.equal(str('"a\\_b"'), 'a\\_b');
  });

  it('parses identifiers, $meta and JSON / array paths', () => {
    assert.deepEqual(shape('name'), f('name'));
    assert.deepEqual(shape('$meta'), f('$meta'));
    assert.deepEqual(shape('j["a"][\'b\'][0]'), f('j', [{ key: 'a' }, { key: 'b' }, { index: 0 }]));
    assert.deepEqual(shape('$meta["k"]'), f('$meta', [{ key: 'k' }]));
    assert.deepEqual(shape('inner'), f('inner'), 'keyword prefixes do not split identifiers');
    assert.deepEqual(shape('notes'), f('notes'));
  });

  it('applies Plan.g4 precedence: unary binds tighter than arithmetic, arithmetic than comparison', () => {
    assert.deepEqual(shape('-2 ** 2'), { kind: 'unary', op: '-', operand: { kind: 'binary', op: '**', left: int(2), right: int(2) } });
    assert.deepEqual(shape('a + b * c'), {
      kind: 'binary',
      op: '+',
      left: f('a'),
      right: { kind: 'binary', op: '*', left: f('b'), right: f('c') },
    });
    assert.deepEqual(shape('a % 2 == 0'), {
      kind: 'binary',
      op: '==',
      left: { kind: 'binary', op: '%', left: f('a'), right: int(2) },
      right: int(0),
    });
    // `not` is a tight prefix operator, exactly as in Plan.g4.
    assert.deepEqual(shape('not a in [1]'), {
      kind: 'in',
      operand: { kind: 'unary', op: 'not', operand: f('a') },
      list: { kind: 'list', items: [int(1)] },
      negated: false,
    });
  });

  it('flattens and/or chains and gives and precedence over or, in every spelling', () => {
    const expected = {
      kind: 'logical',
      op: 'or',
      items: [{ kind: 'logical', op: 'and', items: [f('a'), f('b')] }, { kind: 'logical', op: 'and', items: [f('c'), f('d')] }, f('e')],
    };
    assert.deepEqual(shape('a and b or c and d or e'), expected);
    assert.deepEqual(shape('a && b || c AND d OR e'), expected);
    assert.deepEqual(shape('(a or b) or c'), { kind: 'logical', op: 'or', items: [f('a'), f('b'), f('c')] });
  });

  it('parses chained ranges in both directions', () => {
    assert.deepEqual(shape('1 < a <= 5'), { kind: 'range', target: f('a'), lower: int(1), upper: int(5), lowerInclusive: false, upperInclusive: true });
    assert.deepEqual(shape('5 > a >= 1'), { kind: 'range', target: f('a'), lower: int(1), upper: int(5), lowerInclusive: true, upperInclusive: false });
    assert.deepEqual(shape('1<=j["x"]<2'), { kind: 'range', target: f('j', [{ key: 'x' }]), lower: int(1), upper: int(2), lowerInclusive: true, upperInclusive: false });
    // Not a range: the middle is not a bare field.
    assert.equal((shape('1 < a + 1') as { kind: string }).kind, 'binary');
  });

  it('parses in / not in in all spellings, trailing commas and empty lists', () => {
    const inList = (negated: boolean): unknown => ({ kind: 'in', operand: f('a'), list: { kind: 'list', items: [int(1), int(2)] }, negated });
    assert.deepEqual(shape('a in [1, 2]'), inList(false));
    assert.deepEqual(shape('a IN [1,2,]'), inList(false));
    assert.deepEqual(shape('a not in [1, 2]'), inList(true));
    assert.deepEqual(shape('a NOT IN [1, 2]'), inList(true));
    assert.deepEqual(shape('a ! in [1, 2]'), inList(true));
    assert.deepEqual(shape('a in [ ]'), { kind: 'in', operand: f('a'), list: { kind: 'list', items: [] }, negated: false });
    assert.deepEqual(shape('a in {ids}'), { kind: 'in', operand: f('a'), list: { kind: 'template', name: 'ids' }, negated: false });
  });

  it('parses function forms in lower and upper case', () => {
    for (const fn of ['json_contains', 'JSON_CONTAINS', 'array_contains', 'ARRAY_CONTAINS']) {
      assert.equal((shape(`${fn}(j, 1)`) as { mode: string }).mode, 'one');
    }
    assert.equal((shape('json_contains_all(j, [1])') as { mode: string }).mode, 'all');
    assert.equal((shape('ARRAY_CONTAINS_ANY(ai, [1])') as { mode: string }).mode, 'any');
    assert.deepEqual(shape('array_length(ai)'), { kind: 'arrayLength', target: f('ai') });
    assert.deepEqual(shape('ARRAY_LENGTH(j["l"])'), { kind: 'arrayLength', target: f('j', [{ key: 'l' }]) });
    assert.deepEqual(shape('n is null'), { kind: 'isNull', target: f('n'), negated: false });
    assert.deepEqual(shape('n IS NOT NULL'), { kind: 'isNull', target: f('n'), negated: true });
    assert.deepEqual(shape('exists j["k"]'), { kind: 'exists', operand: f('j', [{ key: 'k' }]) });
    assert.deepEqual(shape('EXISTS $meta["k"]'), { kind: 'exists', operand: f('$meta', [{ key: 'k' }]) });
    assert.deepEqual(shape('starts_with(name, "a")'), { kind: 'call', name: 'starts_with', args: [f('name'), { kind: 'string', value: 'a' }] });
    assert.deepEqual(shape('text_match(name, "x")'), { kind: 'unsupported', name: 'text_match', args: [f('name'), { kind: 'string', value: 'x' }] });
  });

  it('parses bit operators and shifts (they are rejected later)', () => {
    assert.equal((shape('a & 1') as { op: string }).op, '&');
    assert.equal((shape('a | 1') as { op: string }).op, '|');
    assert.equal((shape('a ^ 1') as { op: string }).op, '^');
    assert.equal((shape('a << 1') as { op: string }).op, '<<');
  });

  it('builds the same tree on the simple-comparison fast path as through the full precedence chain', () => {
    const cmp = (op: string, l: unknown, r: unknown): unknown => ({ kind: 'binary', op, left: l, right: r });
    assert.deepEqual(shape('a == 1 and b >= "x" or c != true'), {
      kind: 'logical',
      op: 'or',
      items: [
        { kind: 'logical', op: 'and', items: [cmp('==', f('a'), int(1)), cmp('>=', f('b'), { kind: 'string', value: 'x' })] },
        cmp('!=', f('c'), { kind: 'bool', value: true }),
      ],
    });
    // Not followed by and/or/")"/end: the full chain decides (here a range, and an arithmetic comparison).
    assert.equal((shape('a < 1 < 2') as { kind: string }).kind, 'binary');
    assert.deepEqual(shape('a == 1 + 2'), cmp('==', f('a'), { kind: 'binary', op: '+', left: int(1), right: int(2) }));
  });

  it('parses expressions spread over several lines', () => {
    assert.equal((shape('a > 1\n  and\tb < 2') as { kind: string }).kind, 'logical');
  });
});

describe('filter syntax errors', () => {
  it('reports the position and the offending token', () => {
    rejects('id = 1', ['syntax error', 'unexpected `=`', 'column 4']);
    rejects('id == 1 and', ['syntax error', 'unexpected end of expression']);
    rejects('(id == 1', ['syntax error', 'end of expression']);
    rejects('id in [1, 2', ['syntax error']);
    rejects('name == "open', ['syntax error']);
    rejects('id == 1 And id == 2', ['syntax error', 'unexpected `And`']);
    rejects('id == 1\nand ?', ['line 2, column 5', '`?`']);
  });

  it('rejects malformed literals, escapes and JSON keys', () => {
    rejects('i8 == 08', ['invalid octal literal 08']);
    rejects('d == 0x1.8', ['needs a binary exponent']);
    rejects('name == "\\q"', ['invalid escape sequence \\q']);
    rejects('j[a] == 1', ['json key must be enclosed in double quotes or single quotes: "a"']);
    rejects('id > 9223372036854775808', ['9223372036854775808 is out of the Int64 range']);
  });

  it('reports over-deep nesting as 1100 instead of crashing', () => {
    rejects(`${'('.repeat(5000)}id > 1${')'.repeat(5000)}`, ['nested too deeply']);
    rejects(`${'not ('.repeat(3000)}id > 1${')'.repeat(3000)}`, ['nested too deeply']);
  });

  it('echoes long expressions truncated', () => {
    const expr = `id in [${Array.from({ length: 500 }, (_, i) => i).join(', ')}] and`;
    assert.throws(
      () => compileFilter(expr, SCHEMA),
      (err: unknown) => {
        assert.ok(err instanceof InvalidParameterError);
        assert.ok(err.message.length < 600, err.message);
        assert.match(err.message, /\(\d+ chars\)/);
        return true;
      },
    );
  });
});

describe('filter type errors', () => {
  it('rejects unknown fields when dynamic fields are off, and vector fields always', () => {
    rejects('x > 1', ['field x not exist'], STRICT);
    rejects('$meta["x"] > 1', ['field $meta not exist'], STRICT);
    rejects('vec > 1', ['FloatVector field vec is not supported']);
  });

  it('rejects comparisons between a field and a constant of another type, naming both', () => {
    rejects('i8 == "abc"', ['comparisons between Int8 and VarChar are not supported', 'field i8', '"abc"', 'column 1']);
    rejects('name > 1', ['comparisons between VarChar and Int64', 'field name']);
    rejects('b == 1', ['comparisons between Bool and Int64']);
    rejects('i8 > 1.5', ['cannot cast value 1.5 to Int8', 'integer field']);
    rejects('id == 2.0', ['cannot cast value 2.0 to Int64']);
    rejects('b > true', ['operator > is not supported on Bool field b']);
    rejects('j["a"] > [1]', ['only == and != apply to lists']);
  });

  it('rejects invalid comparisons between fields and whole arrays', () => {
    rejects('ai == 1', ['can not comparisons array fields directly', 'ai']);
    rejects('name == i8', ['comparisons between VarChar and Int8 are not supported']);
    rejects('j == d', ['two column comparison with JSON type is not supported']);
    rejects('(i8 > 1) == true', ['a boolean expression cannot be compared']);
  });

  it('rejects arithmetic outside `field op const cmp const`', () => {
    rejects('i8 + id > 1', ['not supported to do arithmetic operations between multiple fields']);
    rejects('i8 + 1 == id', ['not supported to do arithmetic operations between multiple fields']);
    rejects('i8 + 1 + 2 == 3', ['complicated arithmetic operations are not supported']);
    rejects('2 - i8 == 0', ['not `constant - field`']);
    rejects('i8 % 2.5 == 0', ["'modulo' cannot perform arithmetic between Int8 field and Double"]);
    rejects('d % 2 == 0', ['modulo can only apply on integer types']);
    rejects('i8 / 0 == 1', ['division or modulus by zero']);
    rejects('name + 1 == 2', ["'add' cannot perform arithmetic between VarChar field"]);
    rejects('i8 * 2 == 2.5', ['cannot cast value 2.5 to Int64']);
    rejects('i8 ** 2 > 4', ['power can only apply on constants']);
    rejects('-i8 > 1', ['unary minus is only supported on constants']);
    rejects('1 / 0 == 1', ['cannot divide by zero']);
    // `**` always yields a Double, which Milvus will not cast to an integer field.
    rejects('i8 > 2 ** 3', ['cannot cast value 8.0 to Int8']);
  });

  it('rejects bit operators and shifts with Milvus wording', () => {
    rejects('i8 & 1 == 1', ['BitAnd is not supported']);
    rejects('i8 | 1 == 1', ['BitOr is not supported']);
    rejects('i8 ^ 1 == 1', ['BitXor is not supported']);
    rejects('i8 << 1 > 2', ['shift is not supported']);
    rejects('~i8 > 2', ['bitwise not (~) is not supported']);
  });

  it('rejects non-boolean filters and logical operators on non-booleans', () => {
    rejects('i8', ['predicate is not a boolean expression: i8, data type: Int8']);
    rejects('b', ['predicate is not a boolean expression: b, data type: Bool', 'b == true']);
    rejects('true', ['predicate is not a boolean expression', 'bare constant']);
    rejects('i8 > 1 and true', ["'and' can only be used between boolean expressions", '`true`']);
    rejects('b or i8 > 1', ["'or' can only be used between boolean expressions", 'b == true']);
    rejects('not i8 > 1', ['not op can only be applied on boolean expression', 'not (a > 1)']);
    rejects('1 + 1', ['predicate is not a boolean expression']);
    rejects('"a" == 1', ['comparison operations cannot be applied to two incompatible operands']);
  });

  it('rejects malformed in / range / like / exists / contains / length', () => {
    rejects('id in ["a"]', ['value \'"a"\' in list cannot be casted to Int64']);
    rejects('i8 in [1.5]', ["value '1.5' in list cannot be casted to Int8"]);
    rejects('i8 in 1', ["the right-hand side of 'in' must be a list"]);
    rejects('1 in [1]', ["'term' can only be used on non-const expression"]);
    rejects('i8 + 1 in [1]', ["'term' can only be used on single field"]);
    rejects('i8 in [1, i8]', ['array element type must be generic value']);
    rejects('5 < i8 < 1', ['invalid range: lowerbound is greater than upperbound']);
    rejects('1 < i8 < 1', ['invalid range']);
    rejects('i8 < i8 < 5', ['lowerbound cannot be a non-const expression']);
    rejects('false < b < true', ['invalid range operations on boolean expr']);
    rejects('1 < j["a"] < "z"', ['must both be numbers or both be strings']);
    rejects('i8 like "1%"', ['like operation on non-string or no-json field is unsupported', 'Int8']);
    rejects('exists i8', ['exists operations are only supported on json field']);
    rejects('exists j', ['exists operations are only supported on json key']);
    rejects('json_contains(i8, 1)', ['json_contains operation are only supported on json or array fields']);
    rejects('json_contains_all(ai, 1)', ['ContainsAll operation element must be an array']);
    rejects('array_contains(ai, "x")', ['comparisons between Int64 and VarChar']);
    rejects('array_contains_any(ai, ["x"])', ["ContainsAny operation can't compare between array element type: Int64 and VarChar"]);
    rejects('array_length(i8) == 1', ['array_length operation are only supported on json or array fields']);
    rejects('array_length(ai) == 1.5', ['array_length can only be compared with an integer']);
  });

  it('rejects bad paths', () => {
    rejects('ai["a"] == 1', ['can only access array field with integer index']);
    rejects('i8["a"] == 1', ['Int8 data type not supported accessed with []']);
    rejects('j[""] == 1', ['invalid identifier']);
  });

  it('rejects text_match, phrase_match, GIS and unknown functions clearly', () => {
    rejects('text_match(name, "x")', ['text_match is not supported']);
    rejects('PHRASE_MATCH(name, "a b", 2)', ['phrase_match is not supported']);
    rejects('st_within(geo, "POINT(0 0)")', ['st_within is not supported', 'GIS']);
    rejects('foo(name)', ['function foo() is not supported']);
    rejects('starts_with(i8, "a")', ['starts_with() expects a VarChar field']);
  });
});

describe('filter templates', () => {
  it('substitutes typed values and rejects missing ones', () => {
    assert.doesNotThrow(() => compileFilter('i8 > {x} and name == {s} and d < {p} and b == {t}', SCHEMA, { x: 1, s: 'a', p: 1.5, t: true }));
    rejects('i8 > {x}', ['the value of expression template variable name {x} is not found']);
    rejects('i8 > {x}', ['{x} is not found'], SCHEMA, { y: 1 });
  });

  it('types whole numbers as Int64 and others as Double', () => {
    rejects('i8 > {x}', ['cannot cast value 1.5 to Int8'], SCHEMA, { x: 1.5 });
    assert.doesNotThrow(() => compileFilter('f > {x}', SCHEMA, { x: 2 }));
    rejects('name == {x}', ['comparisons between VarChar and Int64'], SCHEMA, { x: 2 });
  });

  it('rejects templates between two constants and unsupported values', () => {
    rejects('{a} == 1', ['placeholder was not supported between two constants with operator: =='], SCHEMA, { a: 1 });
    rejects('{a} + 1 == i8', ['placeholder was not supported between two constants with operator: +'], SCHEMA, { a: 1 });
    rejects('i8 > {a}', ['unsupported value of type object'], SCHEMA, { a: { x: 1 } });
    rejects('i8 > {a}', ['unsupported value of type null'], SCHEMA, { a: null });
  });
});

describe('primaryKeys', () => {
  it('is set for pk equality, pk in lists and ors of those (Int64 keys as bigint)', () => {
    assert.deepEqual(compileFilter('id in [1, 2]', SCHEMA).primaryKeys, [1n, 2n]);
    assert.deepEqual(compileFilter('id == 3 or id == 4', SCHEMA).primaryKeys, [3n, 4n]);
    assert.deepEqual(compileFilter('3 == id', SCHEMA).primaryKeys, [3n]);
    assert.deepEqual(compileFilter('(id == 1) || id in [2, 1]', SCHEMA).primaryKeys, [1n, 2n]);
    assert.deepEqual(compileFilter('id IN {ids}', SCHEMA, { ids: [5, 6] }).primaryKeys, [5n, 6n]);
    assert.deepEqual(compileFilter('id in []', SCHEMA).primaryKeys, []);
  });

  it('keeps Int64 keys above 2^53 exact', () => {
    assert.deepEqual(compileFilter('id == 446744073709551615', SCHEMA).primaryKeys, [446744073709551615n]);
    assert.deepEqual(compileFilter('id in [9007199254740993, -9223372036854775807]', SCHEMA).primaryKeys, [9007199254740993n, -9223372036854775807n]);
    assert.deepEqual(compileFilter('id in {ids}', SCHEMA, { ids: [9007199254740993n] }).primaryKeys, [9007199254740993n]);
  });

  it('is set for VarChar primary keys as strings', () => {
    assert.deepEqual(compileFilter('pk in ["a", "b"]', VARCHAR_PK).primaryKeys, ['a', 'b']);
    assert.deepEqual(compileFilter("pk == 'c'", VARCHAR_PK).primaryKeys, ['c']);
  });

  it('is not set when anything else takes part', () => {
    for (const expr of ['id in [1] and i8 > 2', 'id > 3', 'id != 1', 'id not in [1, 2]', 'id == 1 or i8 == 2', 'not (id == 1)', 'i8 == 1']) {
      assert.equal(compileFilter(expr, SCHEMA).primaryKeys, undefined, expr);
      assert.ok(!('primaryKeys' in compileFilter(expr, SCHEMA)), expr);
    }
    assert.equal(compileFilter('x == 1', VARCHAR_PK).primaryKeys, undefined);
  });
});

describe('fields', () => {
  it('lists the columns read, with $meta for dynamic fields', () => {
    assert.deepEqual(new Set(compileFilter('i8 > 1 and color == "red"', SCHEMA).fields), new Set(['i8', '$meta']));
    assert.deepEqual(new Set(compileFilter('d < f or j["a"] == 1', SCHEMA).fields), new Set(['d', 'f', 'j']));
    assert.deepEqual(compileFilter('id in [1, 2]', SCHEMA).fields, ['id']);
  });

  it('is empty for empty and blank expressions, which match everything', () => {
    for (const expr of ['', '   ', '\n\t']) {
      const cf = compileFilter(expr, SCHEMA);
      assert.deepEqual(cf.fields, []);
      assert.equal(cf.primaryKeys, undefined);
      assert.equal(cf.expression, expr);
    }
  });
});

describe('precompiled parser', () => {
  it('is what peggy generates from the grammar (regenerate: node --import tsx scripts/generate-filter-parser.ts)', () => {
    assert.ok(readFileSync(GENERATED_PARSER_PATH, 'utf8') === generateFilterParserSource(), 'filter-parser.generated.ts is stale');
  });
});

describe('compiled filter cache', () => {
  it('returns the same compilation for the same expression and template values, and tells different values apart', () => {
    const a = compileFilter('id > {x}', SCHEMA, { x: 1 });
    assert.equal(compileFilter('id > {x}', SCHEMA, { x: 1 }), a);
    const b = compileFilter('id > {x}', SCHEMA, { x: 2 });
    assert.notEqual(b, a);
    assert.notEqual(a.key, b.key);
    assert.notEqual(compileFilter('k == {x}', SCHEMA, { x: '1n' }).key, compileFilter('k == {x}', SCHEMA, { x: 1n }).key);
    assert.throws(() => compileFilter('id >', SCHEMA), InvalidParameterError);
    assert.throws(() => compileFilter('id >', SCHEMA), InvalidParameterError, 'errors are not cached away');
  });
});

/**
 * `like` matching: agrees with a reference matcher on many generated patterns and values (escapes,
 * `_` over astral characters, newlines), runs in time bounded by value × pattern length on patterns
 * that make a backtracking regular expression run for minutes, and refuses overlong patterns.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { milvusCode } from '../../lib/api/error-codes.ts';
import { compileFilter } from '../../lib/engine/filter/compile-filter.ts';
import type { RowSource } from '../../lib/engine/schema/row-source.ts';
import type { CollectionSchema } from '../../lib/engine/schema/types.ts';
import { MAX_LIKE_PATTERN_LENGTH } from '../../lib/engine/request-limits.ts';
import { field } from '../support/data.ts';

const SCHEMA: CollectionSchema = {
  enableDynamicField: true,
  fields: [field(100, 'id', 'Int64', { isPrimary: true }), field(101, 's', 'VarChar', { maxLength: 65535 })],
};

/** Offsets of `values` that `pattern` (a Milvus string literal body) matches. */
function matches(pattern: string, values: string[]): number[] {
  const src: RowSource = {
    rowCount: values.length,
    column: () => (o: number) => values[o]!,
    dynamic: () => () => null,
  } as unknown as RowSource;
  const test = compileFilter(`s like ${JSON.stringify(pattern)}`, SCHEMA).bind(src);
  return values.map((_, i) => i).filter((i) => test(i));
}

/** The reference: a regular expression (fine on these short inputs). */
function reference(pattern: string, value: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '.';
    else re += c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'su').test(value);
}

describe('like matching', () => {
  it('agrees with a reference matcher on generated patterns and values', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = ['a', 'b', '\n', '😀', 'é'];
    const patternChars = ['a', 'b', '%', '_', '\\%', '\\_', '😀', '\n'];
    const values = Array.from({ length: 60 }, () => Array.from({ length: rand(7) }, () => alphabet[rand(alphabet.length)]).join(''));
    for (let p = 0; p < 300; p++) {
      const pattern = Array.from({ length: rand(6) }, () => patternChars[rand(patternChars.length)]).join('');
      const expected = values.map((_, i) => i).filter((i) => reference(pattern, values[i]!));
      assert.deepEqual(matches(pattern, values), expected, `pattern ${JSON.stringify(pattern)}`);
    }
  });

  it('matches `_` as one character, a surrogate pair included, and `%` across newlines', () => {
    assert.deepEqual(matches('_', ['😀', 'ab', '', 'é']), [0, 3]);
    assert.deepEqual(matches('a%b', ['a\n\nb', 'ab', 'a\nc']), [0, 1]);
    assert.deepEqual(matches('%\\%', ['50%', '50']), [0]);
    assert.deepEqual(matches('a_%_a', ['aa', 'aba', 'abba', 'abcba']), [2, 3]);
  });

  it('matches adversarial patterns over 1,000 long values in well under a second', () => {
    // Each of these takes a backtracking RegExp minutes on one such value (it froze the server).
    const values = Array.from({ length: 1000 }, (_, i) => 'a'.repeat(100 + (i % 50)));
    const patterns = ['%a%a%a%a%a%a%b', `${'%a'.repeat(40)}%b`, `%${'_'.repeat(30)}%${'a_'.repeat(20)}b%`, `${'%_'.repeat(60)}b`];
    const t0 = performance.now();
    for (const pattern of patterns) assert.deepEqual(matches(pattern, values), []);
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `${patterns.length} adversarial patterns over 1,000 values took ${ms.toFixed(0)} ms`);
    assert.equal(matches('%a%a%a%a%a%a%', values).length, 1000);
  });

  it(`refuses a pattern longer than ${MAX_LIKE_PATTERN_LENGTH} characters with a 1100 naming the limit`, () => {
    assert.throws(
      () => matches('_'.repeat(10_000), ['x']),
      (err: any) => {
        assert.equal(milvusCode(err), 1100);
        assert.match(err.message, new RegExp(`like pattern is 10000 characters long; the limit is ${MAX_LIKE_PATTERN_LENGTH}`));
        return true;
      },
    );
    assert.deepEqual(matches('_'.repeat(MAX_LIKE_PATTERN_LENGTH), ['x'.repeat(MAX_LIKE_PATTERN_LENGTH), 'x']), [0]);
  });
});

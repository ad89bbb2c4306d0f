/**
 * The typed filter plan: what the type checker produces from the syntax tree and the binder turns into
 * closures. It holds the plan's types (column references, folded constants, predicates), the small
 * constants and helpers every stage shares, and LIKE pattern compilation (a plan leaf carries the
 * cheapest matcher for its pattern). Every other filter module depends on this one and it on none of
 * them, which keeps the stages free of import cycles.
 */
import type { FieldSchema } from '../schema/types.ts';
import type { Expr, Span } from './filter-ast.ts';
import { compileWildcard } from './like-matcher.ts';

/** Where the checker's helpers report a type error: `fail` throws it at a node, `text` quotes a node's source. */
export interface FilterErrors {
  /** Throws the filter's InvalidParameterError located at `node`. */
  fail(node: Span, reason: string): never;
  /** The source text of `node`, for messages. */
  text(node: Span): string;
}

/** How values of a column are represented and compared. Int8–Int32 share `int32` (JS numbers). */
export type Kind = 'bool' | 'int32' | 'int64' | 'float32' | 'double' | 'string' | 'json' | 'array';

/** One compiled `[...]` step of a JSON/array path. */
export interface PathStep {
  key: string;
  /** Array index the key denotes, or -1 (JSON paths are strings in Milvus, so `[0]` and `["0"]` agree). */
  index: number;
  /** The key names an Object.prototype member, so plain property access needs an own-property check. */
  guarded: boolean;
}

/** A resolved field reference: a schema field, an element of an Array field, or a path into JSON/`$meta`. */
export interface ColumnRef {
  /** Identity of the value read (root + path), used to share accessors and merge predicates. */
  key: string;
  /** The reference as written, for messages. */
  text: string;
  /** Schema field name, or `$meta` for the dynamic field. */
  root: string;
  dynamic: boolean;
  field?: FieldSchema;
  steps: PathStep[];
  kind: Kind;
  /** Whole Array fields: kind of the elements. */
  elementKind?: Kind;
  /** Type name for messages (`Int64`, `JSON`, `Array[VarChar]`, `VarChar (element of Array)`). */
  typeName: string;
}

/** A constant after folding. Integers stay bigint so Int64 values survive exactly. */
export type Const = { t: 'bool'; v: boolean } | { t: 'int'; v: bigint } | { t: 'float'; v: number } | { t: 'string'; v: string } | { t: 'list'; v: Const[] };

/** An arithmetic operator allowed in `field op constant`. */
export type ArithOp = '+' | '-' | '*' | '/' | '%';
/** A comparison operator. */
export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
/** Which array_contains variant: one value, all of a list, or any of a list. */
export type ContainsMode = 'one' | 'all' | 'any';

/**
 * What type-checking a sub-expression yields. `bare` marks a literal or template as written (Milvus's
 * "node dependent"): such a constant cannot be a whole filter, while a folded one (`1 == 1`) can.
 */
export type Operand =
  | { k: 'const'; c: Const; bare: boolean; template: boolean; node: Expr }
  | { k: 'column'; ref: ColumnRef; node: Expr }
  | { k: 'arith'; ref: ColumnRef; op: ArithOp; operand: Const; node: Expr }
  | { k: 'length'; ref: ColumnRef; node: Expr }
  | { k: 'pred'; p: Pred; node: Expr };

/** A LIKE pattern reduced to the cheapest test that implements it. */
export type LikeMatcher = { kind: 'eq' | 'prefix' | 'suffix' | 'contains'; lit: string } | { kind: 'any' } | { kind: 'wild'; test: (s: string) => boolean };

/**
 * The boolean plan. Constants in leaves are already cast to the column's runtime representation
 * (bigint for Int64, Math.fround-ed numbers for Float, JS values with bigint integers for JSON).
 * Leaves without an `op` carry `neg` ("value known and test false") once `not` is pushed down.
 */
export type Pred =
  | { k: 'const'; v: boolean }
  | { k: 'and' | 'or'; items: Pred[] }
  | { k: 'cmp'; ref: ColumnRef; op: CmpOp; v: unknown }
  | { k: 'cmpCols'; left: ColumnRef; right: ColumnRef; op: CmpOp }
  | { k: 'range'; ref: ColumnRef; lo: unknown; hi: unknown; loInc: boolean; hiInc: boolean; neg: boolean }
  | { k: 'in'; ref: ColumnRef; values: unknown[]; neg: boolean }
  | { k: 'like'; ref: ColumnRef; m: LikeMatcher; neg: boolean }
  | { k: 'arith'; ref: ColumnRef; aop: ArithOp; operand: number | bigint; op: CmpOp; v: number | bigint }
  | { k: 'length'; ref: ColumnRef; op: CmpOp; v: number }
  | { k: 'null'; ref: ColumnRef; isNull: boolean }
  | { k: 'contains'; ref: ColumnRef; mode: ContainsMode; values: unknown[]; neg: boolean };

/** Smallest Int64 value. */
export const INT64_MIN = -(2n ** 63n);
/** Largest Int64 value. */
export const INT64_MAX = 2n ** 63n - 1n;
/** Stands in for a contains value no element can equal (e.g. 1.5 against Int64 elements). */
export const NO_MATCH = Symbol('no-match');

/** The comparison that holds exactly when the given one fails (for pushing `not` down). */
export const FLIP: Record<CmpOp, CmpOp> = { '==': '!=', '!=': '==', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };
/** The comparison with its operands swapped (`1 < a` is `a > 1`). */
export const MIRROR: Record<CmpOp, CmpOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** Whether a kind holds integers. */
export const isIntKind = (k: Kind): boolean => k === 'int32' || k === 'int64';
/** Whether a kind holds numbers. */
export const isNumKind = (k: Kind): boolean => k === 'int32' || k === 'int64' || k === 'float32' || k === 'double';
/** Whether a constant is a number (integer or float). */
export const isNumConst = (c: Const): c is { t: 'int'; v: bigint } | { t: 'float'; v: number } => c.t === 'int' || c.t === 'float';

/** A constant as a JSON-comparable runtime value (integers as bigint, lists as arrays). */
export function jsonValue(c: Const): unknown {
  return c.t === 'list' ? c.v.map(jsonValue) : c.v;
}

/** Compiles a LIKE pattern: `%` any run, `_` one character, `\` escapes the next character. */
export function compileLike(pattern: string): LikeMatcher {
  type Part = { lit: string } | '%' | '_';
  const parts: Part[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit) parts.push({ lit });
    lit = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) lit += pattern[++i];
    else if (ch === '%' || ch === '_') {
      flush();
      if (!(ch === '%' && parts[parts.length - 1] === '%')) parts.push(ch);
    } else lit += ch;
  }
  flush();
  const litAt = (i: number): string | undefined => {
    const p = parts[i];
    return typeof p === 'object' ? p.lit : undefined;
  };
  if (parts.length === 0) return { kind: 'eq', lit: '' };
  if (!parts.includes('_')) {
    if (parts.length === 1) return parts[0] === '%' ? { kind: 'any' } : { kind: 'eq', lit: litAt(0)! };
    if (parts.length === 2 && parts[1] === '%' && litAt(0) !== undefined) return { kind: 'prefix', lit: litAt(0)! };
    if (parts.length === 2 && parts[0] === '%' && litAt(1) !== undefined) return { kind: 'suffix', lit: litAt(1)! };
    if (parts.length === 3 && parts[0] === '%' && parts[2] === '%' && litAt(1) !== undefined) return { kind: 'contains', lit: litAt(1)! };
  }
  // `_` matches any one code point, a newline too (Milvus matches characters, not bytes).
  return { kind: 'wild', test: compileWildcard(parts) };
}

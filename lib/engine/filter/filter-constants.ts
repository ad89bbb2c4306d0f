/**
 * Constant handling for the filter type checker: folding of constant sub-expressions (arithmetic,
 * comparison, power), casting constants to a column's runtime representation, and the Milvus type
 * names and spellings used in error messages. Kept apart from the checker's tree walk because these are
 * pure functions of constants and kinds, which is where Milvus's casting rules live.
 */
import type { Expr, Span } from './filter-ast.ts';
import { isIntKind, isNumConst, isNumKind, jsonValue, NO_MATCH, type ArithOp, type CmpOp, type Const, type FilterErrors, type Kind, type Operand } from './filter-plan.ts';

/** Milvus's operation names for arithmetic operators, as used in its messages. */
export const ARITH_NAME: Record<ArithOp, string> = { '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide', '%': 'modulo' };

/** Whether a constant converts to a typed (non-JSON, non-Array) column kind. */
export function castable(kind: Kind, c: Const): boolean {
  if (isIntKind(kind)) return c.t === 'int';
  if (isNumKind(kind)) return isNumConst(c);
  return c.t === (kind === 'bool' ? 'bool' : 'string');
}

/** Milvus's name for a constant's type, as used in its messages. */
export function constType(c: Const): string {
  switch (c.t) {
    case 'bool':
      return 'Bool';
    case 'int':
      return 'Int64';
    case 'float':
      return 'Double';
    case 'string':
      return 'VarChar';
    case 'list':
      return 'Array';
  }
}

/** A constant as Milvus writes it in messages (floats keep a `.0`, strings are quoted). */
export function formatConst(c: Const): string {
  switch (c.t) {
    case 'string':
      return JSON.stringify(c.v);
    case 'list':
      return `[${c.v.map(formatConst).join(', ')}]`;
    case 'float':
      return Number.isInteger(c.v) ? c.v.toFixed(1) : String(c.v);
    default:
      return String(c.v);
  }
}

/** Folds `const ** const` to a Double; Milvus allows power only between constants, never templates. */
export function power(errs: FilterErrors, e: Expr, l: Operand, r: Operand): Operand {
  if (l.k !== 'const' || r.k !== 'const' || !isNumConst(l.c) || !isNumConst(r.c)) {
    errs.fail(e, `power can only apply on constants: ${errs.text(e)}`);
  }
  if (l.template || r.template) errs.fail(e, 'placeholder was not supported between two constants with operator: **');
  return { k: 'const', c: { t: 'float', v: Math.pow(Number(l.c.v), Number(r.c.v)) }, bare: false, template: false, node: e };
}

/** Folds `const op const` the way Milvus does (Int64 wraps, division by zero is an error). */
export function foldArith(errs: FilterErrors, e: Expr, op: ArithOp, a: Const, b: Const): Const {
  if (!isNumConst(a) || !isNumConst(b)) errs.fail(e, `${ARITH_NAME[op]} can only apply on numbers, received ${formatConst(a)} ${op} ${formatConst(b)}`);
  if (op === '%') {
    if (a.t !== 'int' || b.t !== 'int') errs.fail(e, 'modulo can only apply on integer');
    if (b.v === 0n) errs.fail(e, 'cannot modulo by zero');
    return { t: 'int', v: a.v % b.v };
  }
  if (op === '/' && Number(b.v) === 0) errs.fail(e, 'cannot divide by zero');
  if (a.t === 'int' && b.t === 'int') {
    // Int64 arithmetic wraps like Go's.
    const v = op === '+' ? a.v + b.v : op === '-' ? a.v - b.v : op === '*' ? a.v * b.v : a.v / b.v;
    return { t: 'int', v: BigInt.asIntN(64, v) };
  }
  const x = Number(a.v);
  const y = Number(b.v);
  return { t: 'float', v: op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y };
}

/** Folds `const cmp const` to a boolean; the operands must be both numbers, both strings or both booleans. */
export function foldCompare(errs: FilterErrors, e: Expr, op: CmpOp, a: Const, b: Const): boolean {
  let x: unknown;
  let y: unknown;
  if (isNumConst(a) && isNumConst(b)) {
    x = a.v;
    y = b.v;
  } else if (a.t === 'string' && b.t === 'string') {
    x = a.v;
    y = b.v;
  } else if (a.t === 'bool' && b.t === 'bool' && (op === '==' || op === '!=')) {
    x = a.v;
    y = b.v;
  } else {
    errs.fail(e, `comparison operations cannot be applied to two incompatible operands: ${errs.text(e)}`);
  }
  // Operands are both numeric (number/bigint, compared exactly by JS), both strings or both booleans.
  const p = x as number;
  const q = y as number;
  switch (op) {
    case '==':
      return p == q;
    case '!=':
      return p != q;
    case '<':
      return p < q;
    case '<=':
      return p <= q;
    case '>':
      return p > q;
    case '>=':
      return p >= q;
  }
}

/** Casts a constant to a typed column's runtime representation, as Milvus's castValue does. */
export function castConst(errs: FilterErrors, node: Span, kind: Kind, typeName: string, fieldText: string, c: Const): unknown {
  switch (kind) {
    case 'bool':
      if (c.t === 'bool') return c.v;
      break;
    case 'int32':
      if (c.t === 'int') return Number(c.v);
      break;
    case 'int64':
      if (c.t === 'int') return c.v;
      break;
    case 'float32':
      if (isNumConst(c)) return Math.fround(Number(c.v));
      break;
    case 'double':
      if (isNumConst(c)) return Number(c.v);
      break;
    case 'string':
      if (c.t === 'string') return c.v;
      break;
    default:
      return jsonValue(c);
  }
  if (isIntKind(kind) && c.t === 'float') {
    errs.fail(node, `cannot cast value ${formatConst(c)} to ${typeName}: ${fieldText} is an integer field; use an integer constant`);
  }
  errs.fail(node, `comparisons between ${typeName} and ${constType(c)} are not supported: field ${fieldText} is ${typeName}, constant ${formatConst(c)} is ${constType(c)}`);
}

/** A contains_all/any value normalized to an Array field's element representation (NO_MATCH if none can equal it). */
export function elementValue(kind: Kind, c: Const): unknown {
  const n = Number(c.v);
  switch (kind) {
    case 'int64':
      if (c.t === 'int') return c.v;
      return Number.isInteger(n) ? BigInt(n) : NO_MATCH;
    case 'int32':
      return Number.isInteger(n) ? n : NO_MATCH;
    case 'float32':
      return Math.fround(n);
    case 'double':
      return n;
    default:
      return c.v;
  }
}

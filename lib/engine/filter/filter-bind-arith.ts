/**
 * Binding of arithmetic leaves (`a + 1 > 5`, `a % 2 == 0`): per column kind, the cheapest exact
 * arithmetic: bigint for Int64, plain numbers for Int8–Int32 while the result stays below 2^53, floats
 * for Float/Double and a per-value choice for JSON. Kept apart for its exactness reasoning.
 */
import type { ArithOp, Kind, Pred } from './filter-plan.ts';
import { compareValues } from './filter-bind-compare.ts';
import type { Getter, Predicate } from './filter-runtime.ts';

/** Integer arithmetic as Milvus does it on int64 (truncating division, remainder with the dividend's sign). */
function bigArith(op: ArithOp): (a: bigint, b: bigint) => bigint {
  switch (op) {
    case '+':
      return (a, b) => a + b;
    case '-':
      return (a, b) => a - b;
    case '*':
      return (a, b) => a * b;
    case '/':
      return (a, b) => a / b;
    case '%':
      return (a, b) => a % b;
  }
}

function floatArith(op: ArithOp): (a: number, b: number) => number {
  switch (op) {
    case '+':
      return (a, b) => a + b;
    case '-':
      return (a, b) => a - b;
    case '*':
      return (a, b) => a * b;
    case '/':
      return (a, b) => a / b;
    case '%':
      return (a, b) => a % b;
  }
}

/** Integer arithmetic on JS numbers; callers make sure operands keep results below 2^53. */
function smallIntArith(op: ArithOp): (a: number, b: number) => number {
  return op === '/' ? (a, b) => Math.trunc(a / b) : floatArith(op);
}

/** Largest |operand| for which `int32 op operand` stays exact in a double. */
function numberSafe(op: ArithOp, operand: bigint): boolean {
  const abs = operand < 0n ? -operand : operand;
  return op === '*' ? abs <= 2n ** 21n : op === '+' || op === '-' ? abs <= 2n ** 52n : true;
}

/** `field op constant cmp constant` with Milvus's semantics per kind (Int64 exact in bigint, JSON integer or double). */
export function bindArith(g: Getter, kind: Kind, p: Extract<Pred, { k: 'arith' }>): Predicate {
  const cmp = compareValues(p.op);
  const target = p.v as number;
  if (kind === 'int64') {
    const f = bigArith(p.aop);
    const b = p.operand as bigint;
    return (o) => {
      const v = g(o);
      return typeof v === 'bigint' && cmp(f(v, b) as unknown as number, target);
    };
  }
  if (kind === 'int32') {
    const b = p.operand as bigint;
    if (numberSafe(p.aop, b)) {
      const f = smallIntArith(p.aop);
      const n = Number(b);
      return (o) => {
        const v = g(o);
        return typeof v === 'number' && cmp(f(v, n), target);
      };
    }
    const f = bigArith(p.aop);
    return (o) => {
      const v = g(o);
      return typeof v === 'number' && cmp(f(BigInt(v), b) as unknown as number, target);
    };
  }
  if (kind === 'float32' || kind === 'double') {
    const f = floatArith(p.aop);
    const n = p.operand as number;
    const f32 = kind === 'float32';
    return (o) => {
      const v = g(o);
      return typeof v === 'number' && cmp(f(f32 ? Math.fround(v) : v, n), target);
    };
  }
  // JSON: integer semantics when both the value and the operand are integers, double otherwise.
  const big = bigArith(p.aop);
  const flt = floatArith(p.aop);
  const small = smallIntArith(p.aop);
  const intOperand = typeof p.operand === 'bigint';
  const opBig = intOperand ? (p.operand as bigint) : 0n;
  const opNum = Number(p.operand);
  const isMod = p.aop === '%';
  return (o) => {
    const v = g(o);
    let r: number | bigint;
    if (typeof v === 'bigint') {
      r = intOperand ? big(v, opBig) : flt(Number(v), opNum);
    } else if (typeof v === 'number') {
      if (intOperand && Number.isInteger(v)) {
        r = small(v, opNum);
        if (!Number.isSafeInteger(r) || !Number.isSafeInteger(v) || !Number.isSafeInteger(opNum)) r = big(BigInt(v), opBig);
      } else if (isMod) {
        return false;
      } else {
        r = flt(v, opNum);
      }
    } else {
      return false;
    }
    return cmp(r as number, target);
  };
}

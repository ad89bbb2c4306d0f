/**
 * Binding of comparison leaves: `field op constant` specialised per column kind (numbers with exact
 * number/bigint comparison, Float rounded to float32, VarChar/Bool strictly, JSON by the constant's
 * type), column-vs-column comparisons and ranges. One closure per operator so the per-row code has no
 * switch; that is the bulk of this file and why it stands alone.
 */
import { comparePrimaryKeys } from '../segment-scope.ts';
import type { CmpOp, Kind, Pred } from './filter-plan.ts';
import { jsonEquals, type Getter, type Predicate } from './filter-runtime.ts';

/** Numeric column vs constant; `c` may be a bigint (Int64): JS compares number/bigint exactly with < and ==. */
export function bindNumCmp(g: Getter, op: CmpOp, value: unknown): Predicate {
  const c = value as number;
  switch (op) {
    case '==':
      return (o) => {
        const v = g(o) as number;
        return v != null && v == c;
      };
    case '!=':
      return (o) => {
        const v = g(o) as number;
        return v != null && v != c;
      };
    case '<':
      return (o) => {
        const v = g(o) as number;
        return v != null && v < c;
      };
    case '<=':
      return (o) => {
        const v = g(o) as number;
        return v != null && v <= c;
      };
    case '>':
      return (o) => {
        const v = g(o) as number;
        return v != null && v > c;
      };
    case '>=':
      return (o) => {
        const v = g(o) as number;
        return v != null && v >= c;
      };
  }
}

/** Float column vs constant, both rounded to float32 as Milvus casts the constant to the column type. */
export function bindFloat32Cmp(g: Getter, op: CmpOp, value: unknown): Predicate {
  const c = value as number;
  switch (op) {
    case '==':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) === c;
      };
    case '!=':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) !== c;
      };
    case '<':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) < c;
      };
    case '<=':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) <= c;
      };
    case '>':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) > c;
      };
    case '>=':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) >= c;
      };
  }
}

/**
 * VarChar/Bool column vs constant of the same type (strict equality: never string/number coercion).
 * Strings order by UTF-8 bytes, as Milvus compares them and query pages are ordered.
 */
export function bindStrictCmp(g: Getter, op: CmpOp, value: unknown): Predicate {
  const c = value as string;
  switch (op) {
    case '==':
      return (o) => g(o) === c;
    case '!=':
      return (o) => {
        const v = g(o);
        return v != null && v !== c;
      };
    case '<':
      return (o) => {
        const v = g(o) as string;
        return v != null && comparePrimaryKeys(v, c) < 0;
      };
    case '<=':
      return (o) => {
        const v = g(o) as string;
        return v != null && comparePrimaryKeys(v, c) <= 0;
      };
    case '>':
      return (o) => {
        const v = g(o) as string;
        return v != null && comparePrimaryKeys(v, c) > 0;
      };
    case '>=':
      return (o) => {
        const v = g(o) as string;
        return v != null && comparePrimaryKeys(v, c) >= 0;
      };
  }
}

/** JSON value vs constant: a value of another type (or missing) makes the comparison false, `!=` included. */
export function bindJsonCmp(g: Getter, op: CmpOp, value: unknown): Predicate {
  if (typeof value === 'number' || typeof value === 'bigint') {
    const c = value as number;
    const num = (v: unknown): v is number => typeof v === 'number' || typeof v === 'bigint';
    switch (op) {
      case '==':
        return (o) => {
          const v = g(o);
          return num(v) && v == c;
        };
      case '!=':
        return (o) => {
          const v = g(o);
          return num(v) && v != c;
        };
      case '<':
        return (o) => {
          const v = g(o);
          return num(v) && v < c;
        };
      case '<=':
        return (o) => {
          const v = g(o);
          return num(v) && v <= c;
        };
      case '>':
        return (o) => {
          const v = g(o);
          return num(v) && v > c;
        };
      case '>=':
        return (o) => {
          const v = g(o);
          return num(v) && v >= c;
        };
    }
  }
  if (typeof value === 'string') {
    const c = value;
    switch (op) {
      case '==':
        return (o) => g(o) === c;
      case '!=':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v !== c;
        };
      case '<':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v < c;
        };
      case '<=':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v <= c;
        };
      case '>':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v > c;
        };
      case '>=':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v >= c;
        };
    }
  }
  if (typeof value === 'boolean') {
    return op === '=='
      ? (o) => g(o) === value
      : (o) => {
          const v = g(o);
          return typeof v === 'boolean' && v !== value;
        };
  }
  return op === '=='
    ? (o) => {
        const v = g(o);
        return Array.isArray(v) && jsonEquals(v, value);
      }
    : (o) => {
        const v = g(o);
        return Array.isArray(v) && !jsonEquals(v, value);
      };
}

/** Comparison of two already-known values (number/bigint mixed, or same-typed strings/booleans). */
export function compareValues(op: CmpOp): (a: number, b: number) => boolean {
  switch (op) {
    case '==':
      return (a, b) => a == b;
    case '!=':
      return (a, b) => a != b;
    case '<':
      return (a, b) => a < b;
    case '<=':
      return (a, b) => a <= b;
    case '>':
      return (a, b) => a > b;
    case '>=':
      return (a, b) => a >= b;
  }
}

/** Column vs column of comparable kinds; false when either value is null. */
export function bindCmpCols(ga: Getter, ka: Kind, gb: Getter, kb: Kind, op: CmpOp): Predicate {
  const cmp = compareValues(op);
  const fa = ka === 'float32';
  const fb = kb === 'float32';
  return (o) => {
    let a = ga(o) as number;
    let b = gb(o) as number;
    if (a == null || b == null) return false;
    if (fa) a = Math.fround(a);
    if (fb) b = Math.fround(b);
    return cmp(a, b);
  };
}

/** `lo < f < hi` and its inclusive variants; a JSON value of the bounds' type only, and `neg` for a pushed-down `not`. */
export function bindRange(g: Getter, kind: Kind, p: Extract<Pred, { k: 'range' }>): Predicate {
  const lo = p.lo as number;
  const hi = p.hi as number;
  const { loInc, hiInc, neg } = p;
  let known: (v: unknown) => boolean;
  if (kind === 'json') {
    const wantString = typeof lo === 'string';
    known = wantString ? (v) => typeof v === 'string' : (v) => typeof v === 'number' || typeof v === 'bigint';
  } else {
    known = (v) => v != null;
  }
  const f32 = kind === 'float32';
  return (o) => {
    let v = g(o) as number;
    if (!known(v)) return false;
    if (f32) v = Math.fround(v);
    const inside = (loInc ? v >= lo : v > lo) && (hiInc ? v <= hi : v < hi);
    return inside !== neg;
  };
}

/**
 * Runtime primitives of a bound filter: the getter and predicate shapes every closure has, JSON value
 * equality and set keys (numbers and bigints compare by value), and JSON/array path access. The three
 * binder modules share these, so they live below all of them.
 */
import type { PathStep } from './filter-plan.ts';

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Canonical Set key for a JSON scalar: safe integers as numbers, larger integers as bigint, so 1 and 1n agree. */
export function normKey(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
  return v;
}

/** Equality of JSON values: numbers compare numerically across number/bigint, arrays element-wise. */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  const tb = typeof b;
  // Loose == between a number and a bigint compares their mathematical values exactly.
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) return (a as number) == (b as number);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEquals(a[i], b[i])) return false;
    return true;
  }
  return false;
}

/** Reads one value (column, element or JSON path) at a row offset; null/undefined when absent. */
export type Getter = (offset: number) => unknown;
/** A bound filter leaf or subtree: whether the row at an offset matches. */
export type Predicate = (offset: number) => boolean;

/** Matches every row. */
export const TRUE: Predicate = () => true;
/** Matches no row. */
export const FALSE: Predicate = () => false;

/** One step into a JSON value or array; undefined when the path does not exist. */
function step(v: unknown, s: PathStep): unknown {
  if (typeof v !== 'object' || v === null) return undefined;
  if (Array.isArray(v)) return s.index >= 0 ? v[s.index] : undefined;
  if (s.guarded && !Object.hasOwn(v, s.key)) return undefined;
  return (v as Record<string, unknown>)[s.key];
}

/** A getter that follows `steps` from `root`, with unrolled cases for the common one- and two-step paths. */
export function walkPath(root: Getter, steps: PathStep[]): Getter {
  switch (steps.length) {
    case 0:
      return root;
    case 1: {
      const s0 = steps[0]!;
      return (o) => step(root(o), s0);
    }
    case 2: {
      const s0 = steps[0]!;
      const s1 = steps[1]!;
      return (o) => step(step(root(o), s0), s1);
    }
    default:
      return (o) => {
        let v = root(o);
        for (let i = 0; i < steps.length && v !== undefined; i++) v = step(v, steps[i]!);
        return v;
      };
  }
}

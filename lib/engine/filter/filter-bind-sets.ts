/**
 * Binding of set-like leaves: `in` lists, LIKE matchers and array_contains(_all/_any). Their lookup
 * structures (sets, element indexes) are built once per compiled plan and cached against the plan
 * node, so binding the same filter to many segments does not rebuild them.
 */
import { NO_MATCH, type Kind, type LikeMatcher, type Pred } from './filter-plan.ts';
import { FALSE, jsonEquals, normKey, type Getter, type Predicate } from './filter-runtime.ts';

/** Membership test for an `in` list; built once per compiled filter and shared by every bind. */
function buildMembership(kind: Kind, values: unknown[]): (v: unknown) => boolean {
  switch (kind) {
    case 'int64': {
      const set = new Set(values);
      // Int64 columns hold bigint; a number (from a lax source) is matched by value, never by type coercion.
      return (v) => (typeof v === 'bigint' ? set.has(v) : typeof v === 'number' && Number.isInteger(v) && set.has(BigInt(v)));
    }
    case 'float32': {
      const set = new Set(values);
      return (v) => typeof v === 'number' && set.has(Math.fround(v));
    }
    case 'json': {
      const scalars = new Set<unknown>();
      const arrays: unknown[] = [];
      for (const v of values) {
        if (Array.isArray(v)) arrays.push(v);
        else scalars.add(normKey(v));
      }
      return (v) => {
        if (Array.isArray(v)) return arrays.some((a) => jsonEquals(v, a));
        if (typeof v === 'object') return false;
        return scalars.has(typeof v === 'number' && Number.isSafeInteger(v) ? v : normKey(v));
      };
    }
    default: {
      const set = new Set(values);
      return (v) => set.has(v);
    }
  }
}

const membershipCache = new WeakMap<Pred, (v: unknown) => boolean>();

/** `f in [..]` / `f not in [..]`, with the membership set shared across binds of one plan. */
export function bindIn(g: Getter, p: Extract<Pred, { k: 'in' }>): Predicate {
  if (p.values.length === 0) return p.neg ? (o) => g(o) != null : FALSE;
  let test = membershipCache.get(p);
  if (!test) {
    test = buildMembership(p.ref.kind, p.values);
    membershipCache.set(p, test);
  }
  const t = test;
  return p.neg
    ? (o) => {
        const v = g(o);
        return v != null && !t(v);
      }
    : (o) => t(g(o));
}

/** `f like pattern` through its reduced matcher; only strings match, and a negated leaf needs a string too. */
export function bindLike(g: Getter, m: LikeMatcher, neg: boolean): Predicate {
  if (m.kind === 'any') return neg ? FALSE : (o) => typeof g(o) === 'string';
  if (!neg) {
    switch (m.kind) {
      case 'eq': {
        const lit = m.lit;
        return (o) => g(o) === lit;
      }
      case 'prefix': {
        const lit = m.lit;
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v.startsWith(lit);
        };
      }
      case 'suffix': {
        const lit = m.lit;
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v.endsWith(lit);
        };
      }
      case 'contains': {
        const lit = m.lit;
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v.includes(lit);
        };
      }
      case 'wild': {
        const t = m.test;
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && t(v);
        };
      }
    }
  }
  let test: (s: string) => boolean;
  switch (m.kind) {
    case 'eq': {
      const lit = m.lit;
      test = (s) => s === lit;
      break;
    }
    case 'prefix': {
      const lit = m.lit;
      test = (s) => s.startsWith(lit);
      break;
    }
    case 'suffix': {
      const lit = m.lit;
      test = (s) => s.endsWith(lit);
      break;
    }
    case 'contains': {
      const lit = m.lit;
      test = (s) => s.includes(lit);
      break;
    }
    case 'wild':
      test = m.test;
      break;
  }
  return (o) => {
    const v = g(o);
    return typeof v === 'string' && !test(v);
  };
}

/** Maps an array element to the index of the contains value it equals, or -1. */
function elementMatcher(kind: Kind, values: unknown[]): { indexOf: (e: unknown) => number; count: number } {
  if (kind === 'json') {
    const scalars = new Map<unknown, number>();
    const arrays: unknown[] = [];
    for (const v of values) {
      if (Array.isArray(v)) {
        if (!arrays.some((a) => jsonEquals(a, v))) arrays.push(v);
      } else {
        const key = normKey(v);
        if (!scalars.has(key)) scalars.set(key, scalars.size);
      }
    }
    const base = scalars.size;
    return {
      count: base + arrays.length,
      indexOf: (e) => {
        if (Array.isArray(e)) {
          for (let i = 0; i < arrays.length; i++) if (jsonEquals(e, arrays[i])) return base + i;
          return -1;
        }
        if (typeof e === 'object') return -1;
        return scalars.get(normKey(e)) ?? -1;
      },
    };
  }
  const index = new Map<unknown, number>();
  let count = 0;
  for (const v of values) {
    if (v === NO_MATCH)
      count++; // can never be found, but still required by contains_all
    else if (!index.has(v)) index.set(v, count++);
  }
  const f32 = kind === 'float32';
  return { count, indexOf: (e) => index.get(f32 && typeof e === 'number' ? Math.fround(e) : e) ?? -1 };
}

const matcherCache = new WeakMap<Pred, ReturnType<typeof elementMatcher>>();

/** array_contains / _all / _any on an Array field or JSON array; a non-array value never matches. */
export function bindContains(g: Getter, kind: Kind, p: Extract<Pred, { k: 'contains' }>): Predicate {
  let matcher = matcherCache.get(p);
  if (!matcher) {
    matcher = elementMatcher(kind, p.values);
    matcherCache.set(p, matcher);
  }
  const { indexOf, count } = matcher;
  const neg = p.neg;
  if (p.mode === 'all') {
    if (count === 0) return (o) => Array.isArray(g(o)) !== neg;
    // Per-row "seen" marks without allocation: a stamp that changes every row.
    const seen = new Int32Array(count);
    let stamp = 0;
    return (o) => {
      const v = g(o);
      if (!Array.isArray(v)) return false;
      if (++stamp === 0x7fffffff) {
        seen.fill(0);
        stamp = 1;
      }
      let found = 0;
      for (let i = 0; i < v.length; i++) {
        const k = indexOf(v[i]);
        if (k >= 0 && seen[k] !== stamp) {
          seen[k] = stamp;
          if (++found === count) return !neg;
        }
      }
      return neg;
    };
  }
  return (o) => {
    const v = g(o);
    if (!Array.isArray(v)) return false;
    for (let i = 0; i < v.length; i++) if (indexOf(v[i]) >= 0) return !neg;
    return neg;
  };
}

/**
 * Plan rewriting and plan facts, between type checking and binding: `not` push-down (De Morgan),
 * optimisation (flattening and/or, constant folding of boolean subtrees, merging `==`/`in` tests on one
 * field, cheap-first ordering) and what callers learn from a plan without running it (the primary keys
 * of a pk-equality filter, the fields it reads). All pure functions of the plan.
 */
import type { PrimaryKey } from '../schema/types.ts';
import { FLIP, type ColumnRef, type Pred } from './filter-plan.ts';

/** `not p`, pushed to the leaves (De Morgan); a negated leaf matches only rows whose value is known. */
export function negate(p: Pred): Pred {
  switch (p.k) {
    case 'const':
      return { k: 'const', v: !p.v };
    case 'and':
      return { k: 'or', items: p.items.map(negate) };
    case 'or':
      return { k: 'and', items: p.items.map(negate) };
    case 'cmp':
    case 'cmpCols':
    case 'arith':
    case 'length':
      return { ...p, op: FLIP[p.op] };
    case 'null':
      return { ...p, isNull: !p.isNull };
    default:
      return { ...p, neg: !p.neg };
  }
}

/** Rough per-row cost, to evaluate cheap conjuncts/disjuncts first. */
function cost(p: Pred): number {
  switch (p.k) {
    case 'const':
      return 0;
    case 'null':
      return 1;
    case 'cmp':
      return p.ref.kind === 'json' ? 3 : 1;
    case 'cmpCols':
    case 'range':
      return 2;
    case 'in':
      return p.ref.kind === 'json' ? 4 : 2;
    case 'length':
    case 'arith':
      return 3;
    case 'like':
      return p.m.kind === 'wild' ? 8 : 3;
    case 'contains':
      return 6;
    case 'and':
    case 'or':
      return Math.min(
        20,
        p.items.reduce((s, i) => s + cost(i), 0),
      );
  }
}

/** Merges `f == a or f == b or f in [..]` into one `in` (and `!=`/`not in` under `and`) for typed columns. */
function mergeMembership(op: 'and' | 'or', items: Pred[]): Pred[] {
  const wantNeg = op === 'and';
  type Member = Extract<Pred, { k: 'cmp' | 'in' }>;
  const isMember = (p: Pred): p is Member =>
    ((p.k === 'cmp' && p.op === (wantNeg ? '!=' : '==')) || (p.k === 'in' && p.neg === wantNeg)) && p.ref.kind !== 'json' && p.ref.kind !== 'array';
  const groups = new Map<string, Member[]>();
  for (const p of items) {
    if (!isMember(p)) continue;
    const list = groups.get(p.ref.key) ?? [];
    list.push(p);
    groups.set(p.ref.key, list);
  }
  const out: Pred[] = [];
  for (const p of items) {
    const group = isMember(p) ? groups.get(p.ref.key) : undefined;
    if (!isMember(p) || !group || group.length < 2) {
      out.push(p);
      continue;
    }
    if (group[0] !== p) continue; // merged into the group's first member
    const values = group.flatMap((m) => (m.k === 'cmp' ? [m.v] : m.values));
    out.push({ k: 'in', ref: p.ref, values, neg: wantNeg });
  }
  return out;
}

/** Flattens nested and/or, folds constants, merges membership tests and orders children by cost. */
export function optimize(p: Pred): Pred {
  if (p.k !== 'and' && p.k !== 'or') return p;
  const items: Pred[] = [];
  for (const raw of p.items) {
    const c = optimize(raw);
    if (c.k === p.k) items.push(...c.items);
    else if (c.k === 'const') {
      if (c.v === (p.k === 'or')) return c; // absorbing element
    } else items.push(c);
  }
  const merged = mergeMembership(p.k, items);
  if (merged.length === 0) return { k: 'const', v: p.k === 'and' };
  if (merged.length === 1) return merged[0]!;
  merged.sort((a, b) => cost(a) - cost(b));
  return { k: p.k, items: merged };
}

function isPrimaryKeyRef(ref: ColumnRef): boolean {
  return !ref.dynamic && ref.steps.length === 0 && ref.field?.isPrimary === true;
}

/** The primary keys when the filter is exactly pk equality / pk in [..] / an `or` of those. */
export function primaryKeysOf(p: Pred): PrimaryKey[] | undefined {
  const keys: PrimaryKey[] = [];
  const visit = (q: Pred): boolean => {
    if (q.k === 'or') return q.items.every(visit);
    if (q.k === 'cmp' && q.op === '==' && isPrimaryKeyRef(q.ref)) {
      keys.push(q.v as PrimaryKey);
      return true;
    }
    if (q.k === 'in' && !q.neg && isPrimaryKeyRef(q.ref)) {
      for (const v of q.values) keys.push(v as PrimaryKey);
      return true;
    }
    return false;
  };
  return visit(p) ? [...new Set(keys)] : undefined;
}

/** Adds the root field names the plan reads to `out` (`$meta` for the dynamic field). */
export function fieldsOf(p: Pred, out: Set<string>): Set<string> {
  switch (p.k) {
    case 'const':
      break;
    case 'and':
    case 'or':
      for (const i of p.items) fieldsOf(i, out);
      break;
    case 'cmpCols':
      out.add(p.left.root);
      out.add(p.right.root);
      break;
    default:
      out.add(p.ref.root);
  }
  return out;
}

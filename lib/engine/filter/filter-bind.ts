/**
 * Binding (plan → closures over one segment's columns): the Binder resolves and shares column
 * accessors, and bindPred walks the plan, handing each leaf to its kind's binder module and composing
 * and/or with unrolled closures for the common two- and three-child cases.
 */
import type { RowSource } from '../schema/row-source.ts';
import { bindArith } from './filter-bind-arith.ts';
import { bindCmpCols, bindFloat32Cmp, bindJsonCmp, bindNumCmp, bindRange, bindStrictCmp, compareValues } from './filter-bind-compare.ts';
import { bindContains, bindIn, bindLike } from './filter-bind-sets.ts';
import type { ColumnRef, Pred } from './filter-plan.ts';
import { FALSE, TRUE, walkPath, type Getter, type Predicate } from './filter-runtime.ts';

/** Resolves column accessors once per bind and shares them between leaves reading the same value. */
export class Binder {
  private readonly roots = new Map<string, Getter>();
  private readonly getters = new Map<string, Getter>();

  constructor(private readonly src: RowSource) {}

  /** The getter for a reference's value, shared by every leaf reading the same root and path. */
  getter(ref: ColumnRef): Getter {
    let g = this.getters.get(ref.key);
    if (!g) {
      let root = this.roots.get(ref.root);
      if (!root) {
        root = ref.dynamic ? this.src.dynamic() : this.src.column(ref.root);
        this.roots.set(ref.root, root);
      }
      g = walkPath(root, ref.steps);
      this.getters.set(ref.key, g);
    }
    return g;
  }
}

function bindAnd(fs: Predicate[]): Predicate {
  if (fs.length === 2) {
    const [a, b] = fs as [Predicate, Predicate];
    return (o) => a(o) && b(o);
  }
  if (fs.length === 3) {
    const [a, b, c] = fs as [Predicate, Predicate, Predicate];
    return (o) => a(o) && b(o) && c(o);
  }
  return (o) => {
    for (let i = 0; i < fs.length; i++) if (!fs[i]!(o)) return false;
    return true;
  };
}

function bindOr(fs: Predicate[]): Predicate {
  if (fs.length === 2) {
    const [a, b] = fs as [Predicate, Predicate];
    return (o) => a(o) || b(o);
  }
  if (fs.length === 3) {
    const [a, b, c] = fs as [Predicate, Predicate, Predicate];
    return (o) => a(o) || b(o) || c(o);
  }
  return (o) => {
    for (let i = 0; i < fs.length; i++) if (fs[i]!(o)) return true;
    return false;
  };
}

/** Binds a plan to the columns behind `b`: one closure tree, no parsing or lookups per row. */
export function bindPred(p: Pred, b: Binder): Predicate {
  switch (p.k) {
    case 'const':
      return p.v ? TRUE : FALSE;
    case 'and':
      return bindAnd(p.items.map((i) => bindPred(i, b)));
    case 'or':
      return bindOr(p.items.map((i) => bindPred(i, b)));
    case 'cmp': {
      const g = b.getter(p.ref);
      switch (p.ref.kind) {
        case 'json':
          return bindJsonCmp(g, p.op, p.v);
        case 'float32':
          return bindFloat32Cmp(g, p.op, p.v);
        case 'string':
        case 'bool':
          return bindStrictCmp(g, p.op, p.v);
        default:
          return bindNumCmp(g, p.op, p.v);
      }
    }
    case 'cmpCols':
      return bindCmpCols(b.getter(p.left), p.left.kind, b.getter(p.right), p.right.kind, p.op);
    case 'range':
      return bindRange(b.getter(p.ref), p.ref.kind, p);
    case 'in':
      return bindIn(b.getter(p.ref), p);
    case 'like':
      return bindLike(b.getter(p.ref), p.m, p.neg);
    case 'arith':
      return bindArith(b.getter(p.ref), p.ref.kind, p);
    case 'length': {
      const g = b.getter(p.ref);
      const cmp = compareValues(p.op);
      const n = p.v;
      return (o) => {
        const v = g(o);
        return Array.isArray(v) && cmp(v.length, n);
      };
    }
    case 'null': {
      const g = b.getter(p.ref);
      return p.isNull ? (o) => g(o) == null : (o) => g(o) != null;
    }
    case 'contains':
      return bindContains(b.getter(p.ref), p.ref.elementKind ?? 'json', p);
  }
}
